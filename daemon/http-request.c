/* A request from its first byte to its reply: the parse loop, the stages
 * run with the parser paused (the kiosk check, routing, the body's type and
 * limit, 100-continue), the handler, and the reply that ends it. The reply
 * lives here because it resumes the parse loop for the next pipelined
 * request; an error the input cannot recover from replies and closes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <jansson.h>

#include "clock.h"
#include "http.h"
#include "kiosk.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "route.h"
#include "sipasd.h"

static void request_route(struct request *req);

static const char *
status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

void
http_request_free(struct request *req)
{
	if (req == NULL)
		return;
	evbuffer_free(req->body);
	response_clear(&req->resp);
	for (size_t i = 0; i < req->nitems; i++)
		response_clear(&req->items[i].resp);
	free(req->items);
	free(req);
}

static double
elapsed_ms(const struct request *req)
{
	return clock_seconds_since(&req->started) * 1e3;
}

/* Reading resumes: the rest of this request, the next pipelined one, or
 * waiting for one. The deadline stays as it is. */
static void
conn_resume(struct conn *c)
{
	c->state = CONN_READING;
	if (!c->in_parse)
		http_conn_parse(c);
}

/* The Date header's value (RFC 9110, IMF-fixdate), formatted once a
 * second and without the locale's names. */
static const char *
http_date(void)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static char date[32];
	static time_t formatted = -1;
	time_t now = time(NULL);
	struct tm tm;

	if (now != formatted && gmtime_r(&now, &tm) != NULL) {
		snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		formatted = now;
	}
	return date;
}

/* A reply to HEAD has the headers GET would have, Content-Length
 * included, and no body. Every reply but the kiosk page's files is
 * no-store: a kiosk's answers and the operators' figures are never to be
 * served from a cache. */
static void
conn_write_status(struct conn *c, int status, const char *ctype,
    const char *body, size_t len, const char *extra, bool close, bool head,
    const char *cache)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	metrics_request(status);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Date: %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: %s\r\n"
	    "%s%s\r\n", status, status_text(status), http_date(), ctype, len,
	    cache, close ? "Connection: close\r\n" : "", extra ? extra : "");
	if (!head)
		evbuffer_add(out, body, len);
}

static bool
is_head(const struct request *req)
{
	return req != NULL && req->headers_done && req->method == HTTP_HEAD;
}

/* The body of every error reply. The codes are the protocol's, fixed
 * strings of ours: nothing in them needs escaping. */
static void
error_body(char *buf, size_t len, const char *error)
{
	snprintf(buf, len, "{\"error\":\"%s\"}", error);
}

/* The last reply, then closing once the client has read it; the input is
 * read and dropped meanwhile (see http.c's on_write). */
void
http_conn_refuse(struct conn *c, int status, const char *error, const char *extra)
{
	char body[128];

	error_body(body, sizeof body, error);
	conn_write_status(c, status, HTTP_JSON_TYPE, body, strlen(body), extra, true,
	    is_head(c->req), "no-store");
	http_request_free(c->req);
	c->req = NULL;
	c->state = CONN_CLOSING;
	c->linger = true;
	bufferevent_disable(c->bev, EV_READ);
	http_conn_arm(c, server.cfg->request_timeout);
}

/* Replies and closes: for errors found before the body was read, or in a
 * request we cannot make sense of, the rest of the input is unreliable. */
void
http_conn_fail(struct conn *c, int status, const char *error, const char *extra)
{
	if (c->req != NULL) {
		log_info("request %llu %s kiosk=%s %s %d %s",
		    (unsigned long long)c->req->id, c->peer,
		    c->req->kiosk.code[0] ? c->req->kiosk.code : "-", c->req->path,
		    status, error);
	} else {
		log_info("%s: %d %s", c->peer, status, error);
	}
	/* Before the request is freed: extra may live in it. */
	http_conn_refuse(c, status, error, extra);
}

/* Every reply to a request goes out here. */
static void
reply_cached(struct request *req, int status, const char *ctype,
    const char *body, size_t len, const char *extra, const char *cache)
{
	struct conn *c = req->conn;
	bool keep;

	if (c == NULL) {	/* the kiosk hung up; it will retry with the same id */
		log_info("request %llu: %d not delivered, connection gone",
		    (unsigned long long)req->id, status);
		http_request_free(req);
		return;
	}
	keep = http_should_keep_alive(&c->parser) && !server.stopping;
	if (status >= 300 || log_enabled(LOG_LEVEL_DEBUG))
		log_info("request %llu %s kiosk=%s %s %s %d %.1fms",
		    (unsigned long long)req->id, c->peer,
		    req->kiosk.code[0] ? req->kiosk.code : "-",
		    http_method_str(req->method), req->path, status,
		    elapsed_ms(req));
	conn_write_status(c, status, ctype, body, len, extra, !keep,
	    is_head(req) || status == 304, cache);
	c->req = NULL;
	c->replied = true;
	http_request_free(req);
	if (keep) {
		http_conn_arm(c, server.cfg->idle_timeout);
		conn_resume(c);
	} else {
		c->state = CONN_CLOSING;
		http_conn_arm(c, server.cfg->request_timeout);
	}
}

static void
reply(struct request *req, int status, const char *ctype, const char *body,
    size_t len, const char *extra)
{
	reply_cached(req, status, ctype, body, len, extra, "no-store");
}

static void
reply_error(struct request *req, int status, const char *error,
    const char *extra)
{
	char body[128];

	error_body(body, sizeof body, error);
	reply(req, status, HTTP_JSON_TYPE, body, strlen(body), extra);
}

void
http_reply_json(struct request *req, int status, json_t *doc,
    const char *extra)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	if (text == NULL) {	/* a bug, not the client's fault: say so */
		log_error("request %llu: cannot build the %d reply",
		    (unsigned long long)req->id, status);
		reply_error(req, 500, "internal", NULL);
		return;
	}
	reply(req, status, HTTP_JSON_TYPE, text, strlen(text), extra);
	free(text);
}

void
http_reply_error(struct request *req, int status, const char *error)
{
	reply_error(req, status, error, status == 503 ? HTTP_RETRY_AFTER : NULL);
}

void
http_reply_raw(struct request *req, int status, const char *ctype,
    const char *body, size_t len)
{
	reply(req, status, ctype, body, len, NULL);
}

void
http_reply_file(struct request *req, int status, const char *ctype,
    const char *body, size_t len, const char *cache, const char *extra)
{
	reply_cached(req, status, ctype, body, len, extra, cache);
}

/* --- request stages, run with the parser paused --- */

/* application/json, optionally with charset=utf-8 and nothing else. */
static bool
content_type_ok(const char *ct)
{
	const char *p;

	if (strncasecmp(ct, "application/json", 16) != 0)
		return false;
	p = ct + 16;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p++ != ';')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

static bool
has_body(const http_parser *p)
{
	return (p->flags & F_CHUNKED) ||
	    ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
}

/* An error reply before the body was read: the connection stays usable only
 * when there is no body to skip. */
static void
reject_early(struct request *req, int status, const char *error,
    const char *extra)
{
	struct conn *c = req->conn;

	if (has_body(&c->parser)) {
		http_conn_fail(c, status, error, extra);
		return;
	}
	/* Answered when the parser reaches the end of the message. */
	req->reject_status = status;
	req->reject_error = error;
	req->reject_extra = extra;
	conn_resume(c);
}

static void
accept_body(struct request *req)
{
	struct conn *c = req->conn;
	http_parser *p = &c->parser;

	if (req->method == HTTP_POST) {
		if (req->ctlen == 0 || req->ctlen >= sizeof req->content_type ||
		    !content_type_ok(req->content_type)) {
			reject_early(req, 415, "unsupported_media_type", NULL);
			return;
		}
	}
	if (req->route->body_limit != NULL)
		req->body_limit = (size_t)req->route->body_limit(server.cfg);
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > req->body_limit) {
		http_conn_fail(c, 413, "too_large", NULL);
		return;
	}
	if (has_body(p) && req->expectlen > 0 &&
	    strcasecmp(req->expect, "100-continue") == 0)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	http_parser_pause(p, 0);
	conn_resume(c);
}

static void
on_kiosk(enum kiosk_status st, const struct kiosk_ref *ref, void *arg)
{
	struct request *req = arg;
	int wait;

	if (req->conn == NULL) {
		http_request_free(req);
		return;
	}
	switch (st) {
	case KIOSK_ACTIVE:
		req->kiosk = *ref;
		if ((wait = peer_cert_throttle(req->conn->cert)) > 0) {
			snprintf(req->retry_after, sizeof req->retry_after,
			    "Retry-After: %d\r\n", wait);
			reject_early(req, 429, "rate_limited", req->retry_after);
			return;
		}
		request_route(req);
		return;
	case KIOSK_REVOKED:
		req->kiosk = *ref;
		reject_early(req, 403, "kiosk_revoked", NULL);
		return;
	case KIOSK_UNKNOWN:
		reject_early(req, 403, "unknown_kiosk", NULL);
		return;
	case KIOSK_UNAVAILABLE:
		reject_early(req, 503, "unavailable", HTTP_RETRY_AFTER);
		return;
	}
}

/* 404 and 405 come after the kiosk check: an unregistered or revoked
 * kiosk gets 403 on every request, whatever it asks for. */
static void
request_route(struct request *req)
{
	const struct route *r = NULL;

	if (!req->path_too_long)
		r = route_find(req->path, strcspn(req->path, "?"),
		    req->conn->admin);
	if (r == NULL) {
		reject_early(req, 404, "not_found", NULL);
		return;
	}
	req->route = r;
	if (req->method != (int)r->method &&
	    !(req->method == HTTP_HEAD && r->method == HTTP_GET)) {
		reject_early(req, 405, "method_not_allowed", route_allow(r));
		return;
	}
	accept_body(req);
}

static void
request_headers_done(struct request *req)
{
	struct conn *c = req->conn;

	c->state = CONN_BUSY;
	if (c->admin)
		request_route(req);
	else
		kiosk_resolve(c->fingerprint, on_kiosk, req);
}

static void
request_complete(struct request *req)
{
	struct conn *c = req->conn;

	c->state = CONN_BUSY;
	evtimer_del(c->timer);
	if (req->reject_status != 0) {
		reply_error(req, req->reject_status, req->reject_error,
		    req->reject_extra);
		return;
	}
	req->route->handler(req);
}

/* libevent 2.1.12 (its issue #854): when reading resumes after the input
 * high watermark suspended it, a TLS bufferevent only waits on the socket
 * again, and what OpenSSL already holds decrypted is never read unless the
 * client sends more: a pipelining kiosk would stall until request_timeout.
 * Run its read callback ourselves while the input has room. */
static void
tls_read_pending(struct conn *c)
{
	SSL *ssl;

	if (c->admin || c->state == CONN_HANDSHAKE ||
	    (ssl = bufferevent_openssl_get_ssl(c->bev)) == NULL ||
	    !SSL_has_pending(ssl) ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) >= HTTP_INPUT_HIGH_WATER)
		return;
	event_active(&c->bev->ev_read, EV_READ, 1);
}

/* Feeds buffered input to the parser until it pauses at a stage that needs
 * work, runs that stage, and goes on while the connection stays readable. */
void
http_conn_parse(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v;
	enum http_errno err;
	bool in_headers;
	size_t n;

	c->in_parse = true;
	while (c->state == CONN_READING && evbuffer_get_length(in) > 0) {
		/* Not a further reply while the client has not read the ones
		 * before: http.c's on_write comes back here once it has. */
		if (c->req == NULL && evbuffer_get_length(out) > HTTP_OUTPUT_LIMIT)
			break;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		in_headers = c->req == NULL || !c->req->headers_done;
		n = http_parser_execute(&c->parser, &http_parse_settings,
		    v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		err = HTTP_PARSER_ERRNO(&c->parser);
		if (in_headers && c->req != NULL)
			c->req->header_bytes += n;
		if (err != HPE_OK && err != HPE_PAUSED) {
			log_info("%s: bad HTTP: %s", c->peer, http_errno_description(err));
			http_conn_fail(c, 400, "bad_request", NULL);
			break;
		}
		if (c->req != NULL && c->req->header_bytes >
		    (size_t)server.cfg->max_header_size) {
			http_conn_fail(c, 431, "headers_too_large", NULL);
			break;
		}
		if (err != HPE_PAUSED)
			continue;
		/* Paused by a callback: run the stage, which resumes when done. */
		http_parser_pause(&c->parser, 0);
		if (c->req->too_large) {
			http_conn_fail(c, 413, "too_large", NULL);
			break;
		}
		if (!c->req->headers_seen) {
			c->req->headers_seen = true;
			request_headers_done(c->req);
		} else {
			request_complete(c->req);
		}
	}
	c->in_parse = false;
	tls_read_pending(c);
}
