/* The PROXY protocol, version 2 (HAProxy's doc/proxy-protocol.txt, 2.2),
 * on the kiosk listener behind a balancer: the header a balancer sends
 * before the kiosk's first byte says whose connection it is. Only the
 * binary version 2 (send-proxy-v2) is taken, the text version 1 is not.
 *
 * The parser is pure, for the unit test and the fuzzer; the reader takes a
 * socket just accepted, reads exactly the header's bytes from it (never a
 * byte of what follows, the kiosk's TLS ClientHello) without blocking the
 * event loop, and hands the socket back with the kiosk's address. */
#ifndef SIPASD_PROXY_H
#define SIPASD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

/* The fixed part: signature, version and command, family, length. */
#define PROXY_FIXED_LEN 16
/* The fixed part and the longest address block looked at (TCP over
 * IPv6); the rest of a header, its TLVs, is read and dropped. */
#define PROXY_KEEP_LEN (PROXY_FIXED_LEN + 36)

enum proxy_result {
	PROXY_BAD = -1,	/* not a header sipasd takes: why says which */
	PROXY_MORE,	/* a valid start: more bytes are needed */
	PROXY_PARSED,	/* the source address is known (see proxy_parse) */
};

/* Parses the first len bytes read of a header. Once the fixed part is
 * there and valid, *total is the header's whole length (at most 16 +
 * 65535), else 0. PROXY_PARSED once len reaches the addresses: *src is
 * the source of a PROXY command (TCP over IPv4 or IPv6, port included),
 * or has family AF_UNSPEC for a LOCAL command (a balancer's own
 * connection, its health check: the socket's address stands). Bytes past
 * PROXY_KEEP_LEN are never looked at: the caller reads and drops them up
 * to *total. */
enum proxy_result proxy_parse(const unsigned char *buf, size_t len,
    size_t *total, struct sockaddr_storage *src, const char **why);

/* Called once per socket given to proxy_read, which then holds nothing of
 * it. On success why is NULL and from is the kiosk's address (the
 * header's, or the socket's for LOCAL); on failure why says what was
 * wrong, from is the socket's own address, and the caller closes fd. */
typedef void (*proxy_done_cb)(evutil_socket_t fd, const struct sockaddr *from,
    const char *why, void *arg);

/* Reads the header of fd, accepted from sa, within timeout seconds from
 * now; false (nothing started, fd left to the caller) when out of
 * memory. */
bool proxy_read(struct event_base *base, evutil_socket_t fd,
    const struct sockaddr *sa, int salen, long long timeout,
    proxy_done_cb done, void *arg) __attribute__((warn_unused_result));
/* Closes the sockets whose header is still awaited, without calling back,
 * as sipasd stops: the number closed. */
unsigned proxy_close_all(void);

#endif
