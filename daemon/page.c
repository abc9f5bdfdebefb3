/* Serves the kiosk page's files, compiled in: no file system at run time.
 * Each file is revalidated by its ETag (a digest of its content, taken at
 * build time), so a browser and the page's service worker pick up a new
 * version at their next request and pay a 304 otherwise. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "page.h"

/* Everything from this origin, nothing inline, nothing from elsewhere;
 * the page cannot be framed by another site's. */
#define PAGE_CSP "Content-Security-Policy: default-src 'self'; " \
	"script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; worker-src 'self'; object-src 'none'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
/* Kept, but asked about again at each use: a new version is seen at
 * once, and the service worker is what serves the page offline. */
#define PAGE_CACHE "no-cache"

static const char *
page_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static const struct page_asset *
page_find(const char *name, size_t len)
{
	if (len == 0) {
		name = "index.html";
		len = strlen(name);
	}
	for (size_t i = 0; i < page_nassets; i++)
		if (strlen(page_assets[i].name) == len &&
		    memcmp(page_assets[i].name, name, len) == 0)
			return &page_assets[i];
	return NULL;
}

/* If-None-Match (RFC 9110 13.1.2): "*", or a list of tags compared
 * weakly, W/ prefixes ignored. A value too long to be kept matches
 * nothing: the whole file is sent, which is always right. */
static bool
page_not_modified(const struct request *req, const char *etag)
{
	const char *p = req->if_none_match;
	size_t taglen = strlen(etag);

	if (req->inmlen == 0 || req->inmlen >= sizeof req->if_none_match)
		return false;
	while (*p != '\0') {
		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, taglen) == 0 &&
		    strchr(" \t,", p[taglen]) != NULL)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

void
page_serve(struct request *req)
{
	size_t len = strcspn(req->path, "?");
	const struct page_asset *a;
	char extra[512];

	if (len == strlen("/kiosk")) {	/* relative URLs need the slash */
		http_reply_json(req, 301, json_pack("{s:s}", "location",
		    "/kiosk/"), "Location: /kiosk/\r\n");
		return;
	}
	a = page_find(req->path + strlen("/kiosk/"), len - strlen("/kiosk/"));
	if (a == NULL) {
		http_reply_error(req, 404, "not_found");
		return;
	}
	snprintf(extra, sizeof extra, "ETag: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n" PAGE_CSP, a->etag);
	http_reply_file(req, page_not_modified(req, a->etag) ? 304 : 200,
	    page_type(a->name), (const char *)a->data, a->len, PAGE_CACHE, extra);
}
