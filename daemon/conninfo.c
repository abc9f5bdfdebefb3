/* A multi-host conninfo (host=a,b port=5432,5433, or postgresql://a,b/db)
 * becomes one option set per host, as libpq itself pairs the lists: item i
 * of each, or its only item for every host (one port for all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "conninfo.h"
#include "xmalloc.h"

static unsigned
list_length(const char *list)
{
	unsigned n = 1;

	for (const char *p = list; (p = strchr(p, ',')) != NULL; p++)
		n++;
	return n;
}

static char *
list_item(const char *list, unsigned i)
{
	const char *p = list;

	if (strchr(list, ',') == NULL)
		return xstrdup(list);
	/* lists_pair made sure that the list has item i. */
	for (; i > 0 && p != NULL; i--)
		if ((p = strchr(p, ',')) != NULL)
			p++;
	return p != NULL ? xstrndup(p, strcspn(p, ",")) : xstrdup("");
}

static bool
is_list(const char *keyword)
{
	return strcmp(keyword, "host") == 0 || strcmp(keyword, "hostaddr") == 0 ||
	    strcmp(keyword, "port") == 0;
}

/* As libpq: a list of ports of one item serves every host, else one item
 * a host; so do host names and hostaddr values. */
static bool
lists_pair(const PQconninfoOption *opts, unsigned nhosts, char *err, size_t errlen)
{
	unsigned nhost = 0, naddr = 0, nport = 0;

	for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			nhost = list_length(o->val);
		else if (strcmp(o->keyword, "hostaddr") == 0)
			naddr = list_length(o->val);
		else if (strcmp(o->keyword, "port") == 0)
			nport = list_length(o->val);
	}
	if (nhost > 0 && naddr > 0 && nhost != naddr) {
		snprintf(err, errlen, "could not match %u host names to %u hostaddr "
		    "values", nhost, naddr);
		return false;
	}
	if (nport > 1 && nport != nhosts) {
		snprintf(err, errlen, "could not match %u port numbers to %u hosts",
		    nport, nhosts);
		return false;
	}
	return true;
}

bool
conninfo_split(struct conninfo *ci, const char *text, char *err, size_t errlen)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(text, &why), *o;
	unsigned nkeys = 0, k = 0;
	char ***hosts;

	memset(ci, 0, sizeof *ci);
	if (opts == NULL) {
		snprintf(err, errlen, "%s", why ? why : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfreemem(why);
		return false;
	}
	ci->nhosts = 1;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		nkeys++;
		if (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)
			if (list_length(o->val) > ci->nhosts)
				ci->nhosts = list_length(o->val);
	}
	if (!lists_pair(opts, ci->nhosts, err, errlen)) {
		PQconninfoFree(opts);
		ci->nhosts = 0;
		return false;
	}
	ci->keywords = xcalloc(nkeys + 1, sizeof *ci->keywords);
	hosts = xcalloc(ci->nhosts, sizeof *hosts);
	for (unsigned h = 0; h < ci->nhosts; h++)
		hosts[h] = xcalloc(nkeys + 1, sizeof **hosts);
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		ci->keywords[k] = xstrdup(o->keyword);
		for (unsigned h = 0; h < ci->nhosts; h++)
			hosts[h][k] = is_list(o->keyword) ? list_item(o->val, h) :
			    xstrdup(o->val);
		k++;
	}
	ci->hosts = (const char *const **)hosts;
	PQconninfoFree(opts);
	return true;
}

void
conninfo_free(struct conninfo *ci)
{
	for (unsigned h = 0; h < ci->nhosts && ci->hosts != NULL; h++) {
		for (unsigned k = 0; ci->keywords[k] != NULL; k++)
			free((char *)ci->hosts[h][k]);
		free((void *)ci->hosts[h]);
	}
	for (unsigned k = 0; ci->keywords != NULL && ci->keywords[k] != NULL; k++)
		free((char *)ci->keywords[k]);
	free((void *)ci->hosts);
	free((void *)ci->keywords);
	memset(ci, 0, sizeof *ci);
}
