/* A libpq connection string split into one for each of its hosts, so that
 * db.c can try the hosts one at a time, each with a deadline of its own. */
#ifndef SIPASD_CONNINFO_H
#define SIPASD_CONNINFO_H

#include <stdbool.h>
#include <stddef.h>

struct conninfo {
	const char **keywords;	/* the options given, NULL-terminated */
	/* For each host, the values of keywords: host, hostaddr and port
	 * hold that host's item of their lists, the others as given. */
	const char *const **hosts;
	unsigned nhosts;
};

/* False, with err set, when libpq cannot parse text. */
bool conninfo_split(struct conninfo *ci, const char *text, char *err,
    size_t errlen) __attribute__((warn_unused_result));
void conninfo_free(struct conninfo *ci);

#endif
