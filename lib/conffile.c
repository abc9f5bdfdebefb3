/* The config file reader: comments, blank lines, "key = value", typed values
 * checked against the key table, every error naming the line. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conffile.h"
#include "log.h"
#include "xmalloc.h"

size_t
conf_count(const struct conf_key *keys)
{
	size_t n = 0;

	while (keys[n].name != NULL)
		n++;
	return n;
}

static bool
parse_number(const struct conf_key *key, const char *value, long long *out,
    char *err, size_t errlen)
{
	char *end;
	long long n, mult = 1;

	errno = 0;
	n = strtoll(value, &end, 10);
	if (end == value || errno != 0) {
		snprintf(err, errlen, "'%s' is not a number", value);
		return false;
	}
	if (key->type == CONF_SIZE) {
		switch (*end) {
		case 'k': case 'K': mult = 1024LL; end++; break;
		case 'm': case 'M': mult = 1024LL * 1024; end++; break;
		case 'g': case 'G': mult = 1024LL * 1024 * 1024; end++; break;
		}
	} else if (key->type == CONF_SECONDS) {
		switch (*end) {
		case 's': end++; break;
		case 'm': mult = 60; end++; break;
		case 'h': mult = 3600; end++; break;
		}
	}
	if (*end != '\0') {
		snprintf(err, errlen, "'%s' has trailing characters", value);
		return false;
	}
	if (n > key->max / mult || n * mult < key->min) {
		snprintf(err, errlen, "'%s' is outside %lld..%lld", value,
		    key->min, key->max);
		return false;
	}
	*out = n * mult;
	return true;
}

static bool
valid_address(const char *value)
{
	char host[64];
	const char *colon, *port;
	size_t hostlen;
	unsigned char buf[16];
	char *end;
	long p;

	if (value[0] == '[') {
		const char *close = strchr(value, ']');
		if (close == NULL || close[1] != ':')
			return false;
		hostlen = (size_t)(close - value - 1);
		if (hostlen >= sizeof host)
			return false;
		memcpy(host, value + 1, hostlen);
		host[hostlen] = '\0';
		if (inet_pton(AF_INET6, host, buf) != 1)
			return false;
		port = close + 2;
	} else {
		if ((colon = strrchr(value, ':')) == NULL)
			return false;
		hostlen = (size_t)(colon - value);
		if (hostlen >= sizeof host)
			return false;
		memcpy(host, value, hostlen);
		host[hostlen] = '\0';
		if (inet_pton(AF_INET, host, buf) != 1)
			return false;
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	return end != port && *end == '\0' && errno == 0 && p > 0 && p < 65536;
}

static bool
conf_set(const struct conf_key *key, void *target, const char *value,
    char *err, size_t errlen)
{
	char *field = (char *)target + key->offset;
	long long n;
	enum log_level level;

	switch (key->type) {
	case CONF_ADDRESS:
		if (!valid_address(value)) {
			snprintf(err, errlen, "'%s' is not an address "
			    "(1.2.3.4:port or [::1]:port)", value);
			return false;
		}
		/* FALLTHROUGH */
	case CONF_STRING:
		free(*(char **)field);
		*(char **)field = value[0] == '\0' ? NULL : xstrdup(value);
		return true;
	case CONF_INT:
	case CONF_SIZE:
	case CONF_SECONDS:
		if (!parse_number(key, value, &n, err, errlen))
			return false;
		*(long long *)field = n;
		return true;
	case CONF_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
		    strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0) {
			*(bool *)field = true;
		} else if (strcasecmp(value, "no") == 0 ||
		    strcasecmp(value, "false") == 0 || strcasecmp(value, "off") == 0 ||
		    strcmp(value, "0") == 0) {
			*(bool *)field = false;
		} else {
			snprintf(err, errlen, "'%s' is not yes or no", value);
			return false;
		}
		return true;
	case CONF_LOGLEVEL:
		if (!log_level_parse(value, &level)) {
			snprintf(err, errlen, "'%s' is not one of error, warn, "
			    "info, debug", value);
			return false;
		}
		*(enum log_level *)field = level;
		return true;
	}
	snprintf(err, errlen, "bad key type");
	return false;
}

bool
conf_defaults(const struct conf_key *keys, void *target, char *err,
    size_t errlen)
{
	char why[256];

	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		if (k->def == NULL)
			continue;
		if (!conf_set(k, target, k->def, why, sizeof why)) {
			snprintf(err, errlen, "default of %s: %s", k->name, why);
			return false;
		}
	}
	return true;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

bool
conf_parse_line(char *line, unsigned lineno, const struct conf_key *keys,
    void *target, unsigned char *seen, char *err, size_t errlen)
{
	char *eq, *name, *value;
	char why[256];
	size_t i;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return true;
	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(err, errlen, "line %u: expected 'key = value'", lineno);
		return false;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	for (i = 0; keys[i].name != NULL; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	if (keys[i].name == NULL) {
		snprintf(err, errlen, "line %u: unknown key '%.64s'", lineno, name);
		return false;
	}
	if (seen[i]) {
		snprintf(err, errlen, "line %u: '%s' is set twice", lineno, name);
		return false;
	}
	seen[i] = 1;
	if (!conf_set(&keys[i], target, value, why, sizeof why)) {
		snprintf(err, errlen, "line %u: bad value for %s: %s", lineno,
		    name, why);
		return false;
	}
	return true;
}

bool
conf_load(const char *path, const struct conf_key *keys, void *target,
    char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	unsigned char *seen;
	char why[512];
	bool ok = true;

	if (!conf_defaults(keys, target, err, errlen))
		return false;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	seen = xcalloc(conf_count(keys) + 1, 1);
	while (ok && getline(&line, &cap, f) != -1) {
		lineno++;
		if (strlen(line) > 4096) {
			snprintf(err, errlen, "%s: line %u: longer than 4096 bytes",
			    path, lineno);
			ok = false;
		} else if (!conf_parse_line(line, lineno, keys, target, seen,
		    why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", path, why);
			ok = false;
		}
	}
	if (ok && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ok = false;
	}
	free(line);
	free(seen);
	fclose(f);
	return ok;
}

static bool
conf_same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
conf_copy_key(const struct conf_key *key, void *dst, const void *src)
{
	char *to = (char *)dst + key->offset;
	const char *from = (const char *)src + key->offset;
	bool changed = false;

	switch (key->type) {
	case CONF_STRING:
	case CONF_ADDRESS:
		changed = !conf_same_string(*(char **)to, *(char *const *)from);
		if (changed) {
			free(*(char **)to);
			*(char **)to = *(char *const *)from == NULL ? NULL :
			    xstrdup(*(char *const *)from);
		}
		break;
	case CONF_INT:
	case CONF_SIZE:
	case CONF_SECONDS:
		changed = *(long long *)to != *(const long long *)from;
		*(long long *)to = *(const long long *)from;
		break;
	case CONF_BOOL:
		changed = *(bool *)to != *(const bool *)from;
		*(bool *)to = *(const bool *)from;
		break;
	case CONF_LOGLEVEL:
		changed = *(enum log_level *)to != *(const enum log_level *)from;
		*(enum log_level *)to = *(const enum log_level *)from;
		break;
	}
	return changed;
}

void
conf_print_keys(const struct conf_key *keys, FILE *f)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++)
		fprintf(f, "  %s = %s%s\n      %s\n", k->name,
		    k->def != NULL ? k->def : "(no default)",
		    k->restart ? " (restart)" : "", k->help);
}

void
conf_free(const struct conf_key *keys, void *target)
{
	for (const struct conf_key *k = keys; k->name != NULL; k++) {
		if (k->type == CONF_STRING || k->type == CONF_ADDRESS) {
			char **field = (char **)((char *)target + k->offset);
			free(*field);
			*field = NULL;
		}
	}
}
