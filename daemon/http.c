/* HTTP/1.1 on both listeners: accepting, the TLS handshake, parsing with
 * nodejs/http-parser, routing, limits and timeouts, and the life cycle of a
 * request from its first byte to its reply. A connection serves one request
 * at a time; pipelined requests wait in the input buffer.
 *
 * One timer a connection, one deadline at a time:
 * - from accept, request_timeout for the handshake and the whole first
 *   request; nothing after the handshake restarts it;
 * - after a reply, idle_timeout until the first byte of the next request
 *   (a pipelined one is there already), then request_timeout from that
 *   byte for the whole request, body included;
 * - a client that does not read its replies: past OUTPUT_LIMIT of pending
 *   output no further request is parsed, so no further reply is made, and
 *   the idle_timeout counted from the last reply closes it unless it reads.
 * What waits to be written therefore stays under OUTPUT_LIMIT plus one
 * reply, and what waits to be parsed under INPUT_HIGH_WATER. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <jansson.h>
#include <openssl/err.h>

#include "clock.h"
#include "http.h"
#include "kiosk.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "route.h"
#include "sipasd.h"
#include "xmalloc.h"


#define LINGER_S 2	/* seconds to drain input after refusing a request */
#define INPUT_HIGH_WATER (64 * 1024)
/* Pending output past which no further request is parsed. The largest
 * replies are the questionnaire (about 6 KiB) and a batch's (up to some
 * 100 KiB for 500 refused items): a few questionnaires, or a hundred
 * 201s, let a pipelining kiosk that reads keep the line full, while one
 * that does not read costs at most this plus one reply. */
#define OUTPUT_LIMIT (32 * 1024)
/* The kernel's send buffer of a kiosk connection. Left to autotuning it
 * grows to net.ipv4.tcp_wmem's maximum (4 MiB) for a client that does not
 * read: memory of the host, if not of sipasd. This is (the kernel doubles
 * it) more than a reply and the data in flight on a kiosk's link need. */
#define KERNEL_SNDBUF (64 * 1024)
/* Event priorities. A TLS handshake costs a millisecond or two of CPU, an
 * identified kiosk's request much less: a wave of hundreds of handshakes
 * (a kiosk over its share reconnecting, a flood) must not hold up the
 * kiosks already served. Handshakes run at a lower priority, and libevent
 * looks for other events after every few of them. */
#define PRIO_DEFAULT 1		/* everything else, timers included */
#define PRIO_HANDSHAKE 2
#define NPRIOS 3
#define HANDSHAKES_PER_POLL 8

static void conn_parse(struct conn *c);
static void request_route(struct request *req);
static void conn_free(struct conn *c);

static const char *
status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
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

static void
arm_timer(struct conn *c, long long seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_add(c->timer, &tv);
}

static void
request_free(struct request *req)
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
		conn_parse(c);
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
 * included, and no body. */
static void
conn_write_status(struct conn *c, int status, const char *ctype,
    const char *body, size_t len, const char *extra, bool close, bool head)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	metrics_request(status);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Date: %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s%s\r\n", status, status_text(status), http_date(), ctype, len,
	    close ? "Connection: close\r\n" : "", extra ? extra : "");
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
 * read and dropped meanwhile (see on_write). */
static void
conn_refuse(struct conn *c, int status, const char *error, const char *extra)
{
	char body[128];

	error_body(body, sizeof body, error);
	conn_write_status(c, status, HTTP_JSON_TYPE, body, strlen(body), extra, true,
	    is_head(c->req));
	request_free(c->req);
	c->req = NULL;
	c->state = CONN_CLOSING;
	c->linger = true;
	bufferevent_disable(c->bev, EV_READ);
	arm_timer(c, server.cfg->request_timeout);
}

/* Replies and closes: for errors found before the body was read, or in a
 * request we cannot make sense of, the rest of the input is unreliable. */
static void
conn_fail(struct conn *c, int status, const char *error, const char *extra)
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
	conn_refuse(c, status, error, extra);
}

/* Every reply to a request goes out here. */
static void
reply(struct request *req, int status, const char *ctype, const char *body,
    size_t len, const char *extra)
{
	struct conn *c = req->conn;
	bool keep;

	if (c == NULL) {	/* the kiosk hung up; it will retry with the same id */
		log_info("request %llu: %d not delivered, connection gone",
		    (unsigned long long)req->id, status);
		request_free(req);
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
	    is_head(req));
	c->req = NULL;
	c->replied = true;
	request_free(req);
	if (keep) {
		arm_timer(c, server.cfg->idle_timeout);
		conn_resume(c);
	} else {
		c->state = CONN_CLOSING;
		arm_timer(c, server.cfg->request_timeout);
	}
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

/* --- parser callbacks: record, never reply or free here. --- */

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
		arm_timer(c, server.cfg->request_timeout);
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

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

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
		conn_fail(c, status, error, extra);
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
		conn_fail(c, 413, "too_large", NULL);
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
		request_free(req);
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
	    evbuffer_get_length(bufferevent_get_input(c->bev)) >= INPUT_HIGH_WATER)
		return;
	event_active(&c->bev->ev_read, EV_READ, 1);
}

/* Feeds buffered input to the parser until it pauses at a stage that needs
 * work, runs that stage, and goes on while the connection stays readable. */
static void
conn_parse(struct conn *c)
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
		 * before: on_write comes back here once it has. */
		if (c->req == NULL && evbuffer_get_length(out) > OUTPUT_LIMIT)
			break;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		in_headers = c->req == NULL || !c->req->headers_done;
		n = http_parser_execute(&c->parser, &parser_settings,
		    v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		err = HTTP_PARSER_ERRNO(&c->parser);
		if (in_headers && c->req != NULL)
			c->req->header_bytes += n;
		if (err != HPE_OK && err != HPE_PAUSED) {
			log_info("%s: bad HTTP: %s", c->peer, http_errno_description(err));
			conn_fail(c, 400, "bad_request", NULL);
			break;
		}
		if (c->req != NULL && c->req->header_bytes >
		    (size_t)server.cfg->max_header_size) {
			conn_fail(c, 431, "headers_too_large", NULL);
			break;
		}
		if (err != HPE_PAUSED)
			continue;
		/* Paused by a callback: run the stage, which resumes when done. */
		http_parser_pause(&c->parser, 0);
		if (c->req->too_large) {
			conn_fail(c, 413, "too_large", NULL);
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

/* --- connection events --- */

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_LINGERING)
		evbuffer_drain(bufferevent_get_input(bev), SIZE_MAX);
	else
		conn_parse(c);
}

/* Called when the output has fallen to OUTPUT_LIMIT or below (the write
 * low watermark) after a write. */
static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_READING && !c->in_parse) {
		conn_parse(c);	/* what waited for the client to read */
		return;
	}
	if (c->state != CONN_CLOSING ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (!c->linger) {
		conn_free(c);
		return;
	}
	/* The client may still be sending the body we refused; closing now
	 * would reset the connection and could destroy our reply before the
	 * client reads it. Read and discard a little longer, as nginx does. */
	c->state = CONN_LINGERING;
	evbuffer_drain(bufferevent_get_input(bev), SIZE_MAX);
	bufferevent_enable(bev, EV_READ);
	arm_timer(c, LINGER_S);
}

/* The handshake is done: the connection stops counting against its
 * address and counts against its certificate, or, when the certificate
 * holds its share already, gets a 429 and is closed before any request is
 * read. Its deadline is still the one from accept. */
static void
conn_identified(struct conn *c)
{
	c->state = CONN_READING;
	peer_release(c->from);
	c->from = NULL;
	if (bufferevent_priority_set(c->bev, PRIO_DEFAULT) != 0)
		log_debug("%s: priority not raised after the handshake", c->peer);
	if ((c->cert = peer_cert_admit(c->fingerprint)) == NULL) {
		metrics_refused(REFUSED_KIOSK);
		log_debug("%s: 429, its certificate holds "
		    "max_connections_per_kiosk connections", c->peer);
		conn_refuse(c, 429, "rate_limited", HTTP_RETRY_AFTER);
	}
}

struct event_base *
http_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg != NULL &&
	    event_config_set_max_dispatch_interval(cfg, NULL,
	    HANDSHAKES_PER_POLL, PRIO_HANDSHAKE) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base != NULL && event_base_priority_init(base, NPRIOS) != 0) {
		event_base_free(base);
		base = NULL;
	}
	return base;
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	X509 *cert;

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		cert = SSL_get0_peer_certificate(ssl);
		if (cert == NULL || !cert_fingerprint(cert, c->fingerprint)) {
			log_info("%s: no usable client certificate", c->peer);
			conn_free(c);
			return;
		}
		log_debug("%s: TLS %s %s", c->peer, SSL_get_version(ssl),
		    SSL_get_cipher_name(ssl));
		conn_identified(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e;
		if (c->state == CONN_HANDSHAKE)
			metrics_tls_failure();
		char buf[256];
		while ((e = bufferevent_get_openssl_error(bev)) != 0) {
			if (ERR_GET_LIB(e) == 0)
				continue;	/* libevent's copy of errno */
			ERR_error_string_n(e, buf, sizeof buf);
			log_info("%s: TLS: %s", c->peer, buf);
		}
		if (errno != 0 && c->state != CONN_HANDSHAKE)
			log_debug("%s: %s", c->peer, strerror(errno));
	}
	conn_free(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_READING && c->req != NULL) {
		conn_fail(c, 408, "timeout", NULL);
		return;
	}
	log_debug("%s: %s timed out", c->peer,
	    c->state == CONN_HANDSHAKE ? "handshake" :
	    c->state == CONN_READING ? "idle connection" : "close");
	conn_free(c);
}

static void
conn_free(struct conn *c)
{
	SSL *ssl;

	if (c->req != NULL) {
		if (c->state == CONN_BUSY)
			c->req->conn = NULL;	/* its callback frees it */
		else
			request_free(c->req);
	}
	if (!c->admin && c->state != CONN_HANDSHAKE &&
	    (ssl = bufferevent_openssl_get_ssl(c->bev)) != NULL) {
		ERR_clear_error();
		SSL_shutdown(ssl);	/* close_notify, best effort */
		ERR_clear_error();
	}
	bufferevent_free(c->bev);
	event_free(c->timer);
	peer_release(c->from);
	peer_cert_release(c->cert);
	TAILQ_REMOVE(&server.conns, c, entry);
	server.nconns--;
	free(c);
}

struct conn *
http_conn_new(struct bufferevent *bev, bool admin, const char *peer,
    const unsigned char *fingerprint)
{
	struct conn *c = xcalloc(1, sizeof *c);

	c->admin = admin;
	c->bev = bev;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	c->state = admin ? CONN_READING : CONN_HANDSHAKE;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->timer = evtimer_new(server.base, on_timer, c);
	TAILQ_INSERT_TAIL(&server.conns, c, entry);
	server.nconns++;
	/* Reading stays on; while a request is served, pipelined input waits
	 * in the buffer, and past this much libevent stops reading: memory per
	 * connection stays bounded without an epoll_ctl per request. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, INPUT_HIGH_WATER);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LIMIT, 0);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm_timer(c, server.cfg->request_timeout);
	if (!admin && fingerprint != NULL) {
		memcpy(c->fingerprint, fingerprint, CERT_FINGERPRINT_LEN);
		conn_identified(c);
	}
	return c;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	bool admin = arg != NULL;
	struct bufferevent *bev;
	struct peer *from = NULL;
	char host[INET6_ADDRSTRLEN], peer[64];
	int one = 1, sndbuf = KERNEL_SNDBUF;

	/* Refused cheaply: no TLS, no allocation. */
	if (server.nconns >= (unsigned)server.cfg->max_connections) {
		metrics_refused(REFUSED_MAX_CONNECTIONS);
		evutil_closesocket(fd);
		return;
	}
	if (!admin && (from = peer_admit(sa)) == NULL) {
		metrics_refused(REFUSED_ADDRESS);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!admin)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(peer, sizeof peer, "[%s]:%d", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(peer, sizeof peer, "%s:%d", host, ntohs(s4->sin_port));
	}
	if (admin) {
		bev = bufferevent_socket_new(server.base, fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	} else {
		bev = bufferevent_openssl_socket_new(server.base, fd,
		    SSL_new(server.ssl_ctx), BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev != NULL) {
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
			/* Fails only on a base without priorities (the fuzzer). */
			(void)bufferevent_priority_set(bev, PRIO_HANDSHAKE);
		}
	}
	if (bev == NULL) {
		log_error("%s: cannot create a buffer event", peer);
		evutil_closesocket(fd);
		peer_release(from);
		return;
	}
	http_conn_new(bev, admin, peer, NULL)->from = from;
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	/* Out of descriptors or memory: keep serving the connections we have. */
	log_error("accept: %s", evutil_socket_error_to_string(err));
}

static struct evconnlistener *
listen_on(const char *addr, bool admin)
{
	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	struct evconnlistener *l;

	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) != 0) {
		log_error("cannot parse listen address %s", addr);
		return NULL;
	}
	l = evconnlistener_new_bind(server.base, on_accept, admin ? (void *)1 : NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		log_error("cannot listen on %s: %s", addr, strerror(errno));
		return NULL;
	}
	evconnlistener_set_error_cb(l, on_accept_error);
	log_info("listening on %s (%s)", addr, admin ? "admin, plain HTTP" :
	    "kiosks, mutual TLS");
	return l;
}

bool
http_listen(void)
{
	server.kiosk_listener = listen_on(server.cfg->listen, false);
	if (server.kiosk_listener == NULL)
		return false;
	server.admin_listener = listen_on(server.cfg->admin_listen, true);
	return server.admin_listener != NULL;
}

/* Stops accepting; idle connections close now, busy ones after their reply
 * unless force says to close everything. */
void
http_close_all(bool force)
{
	struct conn *c, *next;

	if (server.kiosk_listener != NULL)
		evconnlistener_free(server.kiosk_listener);
	if (server.admin_listener != NULL)
		evconnlistener_free(server.admin_listener);
	server.kiosk_listener = server.admin_listener = NULL;
	for (c = TAILQ_FIRST(&server.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (force || c->state == CONN_HANDSHAKE ||
		    (c->state == CONN_READING && c->req == NULL))
			conn_free(c);
	}
}
