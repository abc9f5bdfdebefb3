/* HTTP/1.1 on both listeners, the connections: listening and accepting,
 * the TLS handshake and identifying the kiosk, the connection's events and
 * its one timer, closing. What a connection reads is http-request.c's; the
 * parser's callbacks are http-parse.c's. A connection serves one request
 * at a time; pipelined requests wait in the input buffer.
 *
 * One timer a connection, one deadline at a time:
 * - from accept, request_timeout for the handshake and the whole first
 *   request; nothing after the handshake restarts it (with proxy_protocol,
 *   proxy.c gives the PROXY header a request_timeout of its own first,
 *   and this one starts when the header is read);
 * - after a reply, idle_timeout until the first byte of the next request
 *   (a pipelined one is there already), then request_timeout from that
 *   byte for the whole request, body included;
 * - a client that does not read its replies: past HTTP_OUTPUT_LIMIT of
 *   pending output no further request is parsed, so no further reply is
 *   made, and the idle_timeout counted from the last reply closes it
 *   unless it reads.
 * What waits to be written therefore stays under HTTP_OUTPUT_LIMIT plus one
 * reply, and what waits to be parsed under HTTP_INPUT_HIGH_WATER. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "proxy.h"
#include "sipasd.h"
#include "xmalloc.h"

#define LINGER_S 2	/* seconds to drain input after refusing a request */
/* The kernel's send buffer of a kiosk connection. Left to autotuning it
 * grows to net.ipv4.tcp_wmem's maximum (4 MiB) for a client that does not
 * read: memory of the host, if not of sipasd. This is (the kernel doubles
 * it) more than a reply and the data in flight on a kiosk's link need. */
#define KERNEL_SNDBUF (64 * 1024)
/* Event priorities. A TLS handshake costs a millisecond or two of CPU, an
 * identified kiosk's request much less: a wave of hundreds of handshakes
 * (a kiosk over its share reconnecting, a flood) must not hold up the
 * kiosks already served. Handshakes run at a lower priority, and libevent
 * looks for other events after every HANDSHAKES_PER_POLL of them. Not too
 * few: each look passes over every socket still waiting (level-triggered
 * epoll), so 8 made 10,000 kiosks reconnecting at once take minutes of CPU;
 * 64 is under a tenth of a second of handshakes between two looks. */
#define PRIO_DEFAULT 1		/* everything else, timers included */
#define PRIO_HANDSHAKE 2
#define NPRIOS 3
#define HANDSHAKES_PER_POLL 64

static void conn_free(struct conn *c);

/* --- connection events --- */

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_LINGERING)
		evbuffer_drain(bufferevent_get_input(bev), SIZE_MAX);
	else
		http_conn_parse(c);
}

/* Called when the output has fallen to HTTP_OUTPUT_LIMIT or below (the write
 * low watermark) after a write. */
static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_READING && !c->in_parse) {
		http_conn_parse(c);	/* what waited for the client to read */
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
	http_conn_arm(c, LINGER_S);
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
		http_conn_refuse(c, 429, "rate_limited", HTTP_RETRY_AFTER);
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
		http_conn_fail(c, 408, "timeout", NULL);
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
			http_request_free(c->req);
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
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_INPUT_HIGH_WATER);
	bufferevent_setwatermark(c->bev, EV_WRITE, HTTP_OUTPUT_LIMIT, 0);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	http_conn_arm(c, server.cfg->request_timeout);
	if (!admin && fingerprint != NULL) {
		memcpy(c->fingerprint, fingerprint, CERT_FINGERPRINT_LEN);
		conn_identified(c);
	}
	return c;
}

/* address:port for log lines. */
static void
http_peer_name(const struct sockaddr *sa, char *peer, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(peer, len, "[%s]:%d", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(peer, len, "%s:%d", host, ntohs(s4->sin_port));
	}
}

/* A kiosk connection from sa, or an admin one: counted against its
 * address, then TLS. Its place among max_connections is taken already. */
static void
conn_accept(evutil_socket_t fd, const struct sockaddr *sa, bool admin)
{
	struct bufferevent *bev;
	struct peer *from = NULL;
	char peer[64];
	int one = 1, sndbuf = KERNEL_SNDBUF;

	if (!admin && (from = peer_admit(sa)) == NULL) {
		metrics_refused(REFUSED_ADDRESS);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!admin)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	http_peer_name(sa, peer, sizeof peer);
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

/* A missing or broken PROXY header is a misconfigured balancer, or someone
 * reaching the kiosk port around it: worth a line, but not one per
 * connection of a flood. */
static void
proxy_refusal_log(const char *peer, const char *why)
{
	static time_t last;
	static unsigned long more;
	time_t now = time(NULL);

	if (now == last) {
		more++;
		return;
	}
	log_info("%s: closed, %s (proxy_protocol = yes; %lu more since the "
	    "last such line)", peer, why, more);
	last = now;
	more = 0;
}

/* The PROXY header is read: the connection goes on from the kiosk's
 * address, as one accepted without it does. */
static void
on_proxied(evutil_socket_t fd, const struct sockaddr *from, const char *why,
    void *arg)
{
	char peer[64];

	server.nconns--;	/* the place held while the header came */
	http_peer_name(from, peer, sizeof peer);
	if (why != NULL) {
		metrics_refused(REFUSED_PROXY);
		proxy_refusal_log(peer, why);
		evutil_closesocket(fd);
		return;
	}
	log_debug("%s: PROXY header read", peer);
	conn_accept(fd, from, false);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	bool admin = arg != NULL;

	/* Refused cheaply: no TLS, no allocation. */
	if (server.nconns >= (unsigned)server.cfg->max_connections) {
		metrics_refused(REFUSED_MAX_CONNECTIONS);
		evutil_closesocket(fd);
		return;
	}
	if (admin || !server.cfg->proxy_protocol) {
		conn_accept(fd, sa, admin);
		return;
	}
	if (!peer_address_in(sa, server.cfg->proxy_from, server.cfg->nproxy_from)) {
		char peer[64];
		http_peer_name(sa, peer, sizeof peer);
		metrics_refused(REFUSED_PROXY_SOURCE);
		proxy_refusal_log(peer, "not one of proxy_protocol_from");
		evutil_closesocket(fd);
		return;
	}
	/* Its place among max_connections is held while the header comes. */
	if (!proxy_read(server.base, fd, sa, salen, server.cfg->request_timeout,
	    on_proxied, NULL)) {
		log_error("cannot wait for a PROXY header: out of memory");
		evutil_closesocket(fd);
		return;
	}
	server.nconns++;
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
	server.nconns -= proxy_close_all();
	for (c = TAILQ_FIRST(&server.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (force || c->state == CONN_HANDSHAKE ||
		    (c->state == CONN_READING && c->req == NULL))
			conn_free(c);
	}
}
