/* The route table. It only names the handlers: http-request.c finds the
 * row and calls through it, and the handlers reply through http.h, so no
 * two of these files call each other. */
#include <string.h>

#include "admin.h"
#include "config.h"
#include "ingest.h"
#include "page.h"
#include "route.h"

static long long
limit_response(const struct config *cfg)
{
	return cfg->max_body_size;
}

static long long
limit_batch(const struct config *cfg)
{
	return cfg->max_batch_body_size;
}

static const struct route routes[] = {
	{ "/v1/questionnaire", false, HTTP_GET, NULL, ingest_questionnaire },
	{ "/v1/responses", false, HTTP_POST, limit_response, ingest_response },
	{ "/v1/responses/batch", false, HTTP_POST, limit_batch, ingest_batch },
	{ "/kiosk", false, HTTP_GET, NULL, page_serve },
	{ "/kiosk/", false, HTTP_GET, NULL, page_serve },
	{ "/healthz", true, HTTP_GET, NULL, admin_healthz },
	{ "/readyz", true, HTTP_GET, NULL, admin_readyz },
	{ "/metrics", true, HTTP_GET, NULL, admin_metrics },
};

/* A row's path ending in '/' is the tree under it: the kiosk page's
 * files, which page.c tells apart. */
static bool
route_matches(const char *rpath, const char *path, size_t len)
{
	size_t rlen = strlen(rpath);

	if (rlen > 1 && rpath[rlen - 1] == '/')
		return len >= rlen && strncmp(rpath, path, rlen) == 0;
	return rlen == len && strncmp(rpath, path, len) == 0;
}

const struct route *
route_find(const char *path, size_t len, bool admin)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (routes[i].admin == admin &&
		    route_matches(routes[i].path, path, len))
			return &routes[i];
	}
	return NULL;
}

const char *
route_allow(const struct route *r)
{
	return r->method == HTTP_GET ? "Allow: GET, HEAD\r\n" : "Allow: POST\r\n";
}
