/* The HTTP parser's callbacks (nodejs/http-parser): they record what a
 * request says in its struct request, the headers that matter and the body
 * within its limit, and pause the parser where http-request.c has work to
 * do. They never reply or free. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "sipasd.h"
#include "xmalloc.h"

static int
on_message_begin(http_parser *p)
{
	struct conn *c = p->data;
	struct request *req = xcalloc(1, sizeof *req);

	req->conn = c;
	req->id = ++server.next_request_id;
	req->body = evbuffer_new();
	req->resp.overall = RESPONSE_NA;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	c->req = req;
	/* The first request's clock has run since accept. */
	if (c->replied)
		http_conn_arm(c, server.cfg->request_timeout);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct request *req = ((struct conn *)p->data)->req;

	if (req->pathlen + len >= sizeof req->path) {
		req->path_too_long = true;
		return 0;
	}
	memcpy(req->path + req->pathlen, at, len);
	req->pathlen += len;
	req->path[req->pathlen] = '\0';
	return 0;
}

static void
append(char *buf, size_t cap, size_t *len, const char *at, size_t n)
{
	if (*len + n >= cap) {
		*len = cap;	/* too long to be a value we accept; marks it */
		return;
	}
	memcpy(buf + *len, at, n);
	*len += n;
	buf[*len] = '\0';
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct request *req = ((struct conn *)p->data)->req;

	if (req->in_value) {
		req->in_value = false;
		req->hnamelen = 0;
		req->hname[0] = '\0';
	}
	append(req->hname, sizeof req->hname, &req->hnamelen, at, len);
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct request *req = ((struct conn *)p->data)->req;

	req->in_value = true;
	if (req->hnamelen >= sizeof req->hname)
		return 0;
	if (strcasecmp(req->hname, "content-type") == 0)
		append(req->content_type, sizeof req->content_type, &req->ctlen,
		    at, len);
	else if (strcasecmp(req->hname, "expect") == 0)
		append(req->expect, sizeof req->expect, &req->expectlen, at, len);
	else if (strcasecmp(req->hname, "if-none-match") == 0)
		append(req->if_none_match, sizeof req->if_none_match,
		    &req->inmlen, at, len);
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct request *req = ((struct conn *)p->data)->req;

	req->headers_done = true;
	req->method = p->method;
	http_parser_pause(p, 1);
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct request *req = ((struct conn *)p->data)->req;

	if (evbuffer_get_length(req->body) + len > req->body_limit) {
		req->too_large = true;
		http_parser_pause(p, 1);
		return 0;
	}
	evbuffer_add(req->body, at, len);
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	http_parser_pause(p, 1);
	return 0;
}

const http_parser_settings http_parse_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};
