/* The PROXY protocol version 2: the parser, and the reader of a header on
 * the event loop (see proxy.h). A connection waiting for its header holds
 * a small fixed buffer and two events; the caller counts it against
 * max_connections, and timeout closes it, so the waiting set is bounded. */
#include "proxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define PROXY_SIG_LEN 12
static const unsigned char proxy_sig[PROXY_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
#define PROXY_VERSION 0x20	/* high nibble of byte 12 */
#define PROXY_CMD_LOCAL 0x0
#define PROXY_CMD_PROXY 0x1
#define PROXY_TCP4 0x11		/* AF_INET, SOCK_STREAM */
#define PROXY_TCP6 0x21		/* AF_INET6, SOCK_STREAM */
#define PROXY_TCP4_LEN 12	/* source, destination, their ports */
#define PROXY_TCP6_LEN 36

/* The source address of a PROXY command, its block complete in buf. */
static void
proxy_source(const unsigned char *addr, unsigned char fam,
    struct sockaddr_storage *src)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)src;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)src;
	struct in6_addr a6;

	memset(src, 0, sizeof *src);
	if (fam == PROXY_TCP4) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		memcpy(&s4->sin_port, addr + 8, 2);
		return;
	}
	memcpy(&a6, addr, sizeof a6);	/* addr has no alignment */
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		/* A dual-stack balancer's IPv4 kiosk: logged and counted as
		 * the IPv4 address it is. */
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr + 12, 4);
		memcpy(&s4->sin_port, addr + 32, 2);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a6;
		memcpy(&s6->sin6_port, addr + 32, 2);
	}
}

enum proxy_result
proxy_parse(const unsigned char *buf, size_t len, size_t *total,
    struct sockaddr_storage *src, const char **why)
{
	size_t addrlen;
	unsigned char cmd, fam;

	*total = 0;
	/* A prefix is judged at once: a TLS ClientHello or a v1 text header
	 * fails at its first byte, not at the deadline. */
	if (memcmp(buf, proxy_sig, len < PROXY_SIG_LEN ? len : PROXY_SIG_LEN) != 0) {
		*why = "no PROXY protocol v2 signature";
		return PROXY_BAD;
	}
	if (len < PROXY_FIXED_LEN)
		return PROXY_MORE;
	if ((buf[12] & 0xf0) != PROXY_VERSION) {
		*why = "not PROXY protocol version 2";
		return PROXY_BAD;
	}
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	addrlen = (size_t)buf[14] << 8 | buf[15];
	if (cmd == PROXY_CMD_LOCAL) {
		*total = PROXY_FIXED_LEN + addrlen;
		memset(src, 0, sizeof *src);
		src->ss_family = AF_UNSPEC;
		return PROXY_PARSED;
	}
	if (cmd != PROXY_CMD_PROXY) {
		*why = "unknown PROXY command";
		return PROXY_BAD;
	}
	if (fam != PROXY_TCP4 && fam != PROXY_TCP6) {
		*why = "PROXY header of another family than TCP over IPv4 or IPv6";
		return PROXY_BAD;
	}
	if (addrlen < (fam == PROXY_TCP4 ? PROXY_TCP4_LEN : PROXY_TCP6_LEN)) {
		*why = "PROXY header too short for its addresses";
		return PROXY_BAD;
	}
	*total = PROXY_FIXED_LEN + addrlen;
	if (len < PROXY_FIXED_LEN + (fam == PROXY_TCP4 ? PROXY_TCP4_LEN : PROXY_TCP6_LEN))
		return PROXY_MORE;
	proxy_source(buf + PROXY_FIXED_LEN, fam, src);
	return PROXY_PARSED;
}

/* --- the reader --- */

struct proxy_wait {
	TAILQ_ENTRY(proxy_wait) entry;
	evutil_socket_t fd;
	struct event *readable;
	struct event *deadline;
	struct sockaddr_storage sa;	/* the socket's own peer */
	struct sockaddr_storage src;	/* the header's, once parsed */
	bool parsed;
	unsigned char buf[PROXY_KEEP_LEN];
	size_t have;			/* bytes of the header read */
	size_t total;			/* its length, once known */
	proxy_done_cb done;
	void *arg;
};

static TAILQ_HEAD(, proxy_wait) proxy_waits = TAILQ_HEAD_INITIALIZER(proxy_waits);

static void
proxy_wait_free(struct proxy_wait *w)
{
	TAILQ_REMOVE(&proxy_waits, w, entry);
	if (w->readable != NULL)
		event_free(w->readable);
	if (w->deadline != NULL)
		event_free(w->deadline);
	free(w);
}

/* Hands the socket back to the caller: w is gone after this. */
static void
proxy_finish(struct proxy_wait *w, const char *why)
{
	evutil_socket_t fd = w->fd;
	proxy_done_cb done = w->done;
	void *arg = w->arg;
	struct sockaddr_storage from;

	from = why == NULL && w->src.ss_family != AF_UNSPEC ? w->src : w->sa;
	proxy_wait_free(w);
	done(fd, (struct sockaddr *)&from, why, arg);
}

/* Reads at most what is left of the header: the fixed part first, since
 * only it says how long the rest is. What lies past PROXY_KEEP_LEN (TLVs)
 * goes to a scratch buffer and is dropped. */
static ssize_t
proxy_recv(struct proxy_wait *w)
{
	unsigned char drop[1024];
	size_t end = w->total == 0 ? PROXY_FIXED_LEN : w->total;

	if (w->have < PROXY_KEEP_LEN) {
		size_t keep = end < PROXY_KEEP_LEN ? end : PROXY_KEEP_LEN;
		return recv(w->fd, w->buf + w->have, keep - w->have, 0);
	}
	return recv(w->fd, drop, end - w->have < sizeof drop ?
	    end - w->have : sizeof drop, 0);
}

static void
proxy_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait *w = arg;
	const char *why = NULL;
	ssize_t n;

	while (!w->parsed || w->have < w->total) {
		if ((n = proxy_recv(w)) == 0) {
			proxy_finish(w, "closed before the end of its PROXY header");
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			proxy_finish(w, strerror(errno));
			return;
		}
		w->have += (size_t)n;
		if (w->parsed || w->have > PROXY_KEEP_LEN)
			continue;	/* dropping TLVs */
		switch (proxy_parse(w->buf, w->have, &w->total, &w->src, &why)) {
		case PROXY_BAD:
			proxy_finish(w, why);
			return;
		case PROXY_PARSED:
			w->parsed = true;
			break;
		case PROXY_MORE:
			break;
		}
	}
	proxy_finish(w, NULL);
}

static void
proxy_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	proxy_finish(arg, "no complete PROXY header in time");
}

bool
proxy_read(struct event_base *base, evutil_socket_t fd,
    const struct sockaddr *sa, int salen, long long timeout,
    proxy_done_cb done, void *arg)
{
	struct proxy_wait *w = calloc(1, sizeof *w);
	struct timeval tv = { (time_t)timeout, 0 };

	if (w == NULL)
		return false;
	w->fd = fd;
	memcpy(&w->sa, sa, (size_t)salen < sizeof w->sa ? (size_t)salen : sizeof w->sa);
	w->done = done;
	w->arg = arg;
	/* Two events: a timeout on the persistent read event would restart
	 * at each read, and a header sent a byte at a time would never end. */
	w->readable = event_new(base, fd, EV_READ | EV_PERSIST, proxy_on_readable, w);
	w->deadline = evtimer_new(base, proxy_on_deadline, w);
	TAILQ_INSERT_TAIL(&proxy_waits, w, entry);
	if (w->readable == NULL || w->deadline == NULL ||
	    event_add(w->readable, NULL) != 0 || evtimer_add(w->deadline, &tv) != 0) {
		proxy_wait_free(w);
		return false;
	}
	return true;
}

unsigned
proxy_close_all(void)
{
	struct proxy_wait *w;
	unsigned n = 0;

	while ((w = TAILQ_FIRST(&proxy_waits)) != NULL) {
		evutil_closesocket(w->fd);
		proxy_wait_free(w);
		n++;
	}
	return n;
}
