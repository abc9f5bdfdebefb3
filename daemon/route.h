/* The routes: every endpoint on one row. Adding one is adding a row. */
#ifndef SIPASD_ROUTE_H
#define SIPASD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <http_parser.h>

struct config;
struct request;

struct route {
	const char *path;		/* ending in '/': every path under it */
	bool admin;			/* on the admin listener, else the kiosks' */
	enum http_method method;	/* HTTP_GET allows HEAD too */
	/* The largest body it takes, from the configuration in force; NULL
	 * for none. */
	long long (*body_limit)(const struct config *cfg);
	/* Serves a request whose body has been read, and replies. */
	void (*handler)(struct request *req);
};

/* The route for path (its first len bytes) on the listener, or NULL. */
const struct route *route_find(const char *path, size_t len, bool admin);
/* Its Allow header line, for a 405. */
const char *route_allow(const struct route *r);

#endif
