/* The PROXY protocol v2 parser, and the reader on a socket pair: exactly
 * the header's bytes are taken, whatever follows is left in the socket. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy.h"

static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* A header: the signature, ver_cmd, fam, the length field and addr. */
static size_t
header(unsigned char *buf, unsigned char ver_cmd, unsigned char fam,
    unsigned len, const unsigned char *addr, size_t addrlen)
{
	memcpy(buf, sig, 12);
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (unsigned char)(len >> 8);
	buf[15] = (unsigned char)len;
	if (addrlen > 0)
		memcpy(buf + 16, addr, addrlen);
	return 16 + addrlen;
}

/* 203.0.113.7:40000 to 10.0.0.31:8443 */
static const unsigned char tcp4[12] = { 203, 0, 113, 7, 10, 0, 0, 31,
	0x9c, 0x40, 0x20, 0xfb };

static void
tcp_over_ipv4_gives_the_source(void **state)
{
	unsigned char buf[64];
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	const char *why = NULL;
	size_t total, n = header(buf, 0x21, 0x11, 12, tcp4, 12);
	char host[INET_ADDRSTRLEN];

	for (size_t len = 0; len < n; len++)
		assert_int_equal(proxy_parse(buf, len, &total, &ss, &why), PROXY_MORE);
	assert_int_equal(proxy_parse(buf, n, &total, &ss, &why), PROXY_PARSED);
	assert_int_equal(total, 28);
	assert_int_equal(ss.ss_family, AF_INET);
	inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
	assert_string_equal(host, "203.0.113.7");
	assert_int_equal(ntohs(s4->sin_port), 40000);
}

static void
tcp_over_ipv6_gives_the_source(void **state)
{
	unsigned char buf[64], addr[36] = { 0 };
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	const char *why = NULL;
	size_t total, n;
	char host[INET6_ADDRSTRLEN];

	inet_pton(AF_INET6, "2001:db8::7", addr);
	inet_pton(AF_INET6, "2001:db8::31", addr + 16);
	addr[32] = 0x04, addr[33] = 0xd2;	/* 1234 */
	n = header(buf, 0x21, 0x21, 36, addr, 36);
	assert_int_equal(proxy_parse(buf, n - 1, &total, &ss, &why), PROXY_MORE);
	assert_int_equal(total, 52);
	assert_int_equal(proxy_parse(buf, n, &total, &ss, &why), PROXY_PARSED);
	assert_int_equal(ss.ss_family, AF_INET6);
	inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
	assert_string_equal(host, "2001:db8::7");
	assert_int_equal(ntohs(s6->sin6_port), 1234);
}

/* A dual-stack balancer writes an IPv4 kiosk as ::ffff:a.b.c.d: it is the
 * IPv4 address, in the logs and the per-address limits. */
static void
tcp_over_ipv6_of_a_mapped_ipv4_address_is_ipv4(void **state)
{
	unsigned char buf[64], addr[36] = { 0 };
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	const char *why = NULL;
	size_t total, n;
	char host[INET_ADDRSTRLEN];

	inet_pton(AF_INET6, "::ffff:203.0.113.7", addr);
	inet_pton(AF_INET6, "2001:db8::31", addr + 16);
	addr[32] = 0x04, addr[33] = 0xd2;	/* 1234 */
	n = header(buf, 0x21, 0x21, 36, addr, 36);
	assert_int_equal(proxy_parse(buf, n, &total, &ss, &why), PROXY_PARSED);
	assert_int_equal(ss.ss_family, AF_INET);
	inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
	assert_string_equal(host, "203.0.113.7");
	assert_int_equal(ntohs(s4->sin_port), 1234);
}

static void
local_leaves_the_socket_address(void **state)
{
	unsigned char buf[64];
	struct sockaddr_storage ss;
	const char *why = NULL;
	size_t total;

	/* A health check: no addresses, or some to be ignored. */
	header(buf, 0x20, 0x00, 0, NULL, 0);
	assert_int_equal(proxy_parse(buf, 16, &total, &ss, &why), PROXY_PARSED);
	assert_int_equal(total, 16);
	assert_int_equal(ss.ss_family, AF_UNSPEC);
	header(buf, 0x20, 0x11, 12, tcp4, 12);
	assert_int_equal(proxy_parse(buf, 16, &total, &ss, &why), PROXY_PARSED);
	assert_int_equal(total, 28);
	assert_int_equal(ss.ss_family, AF_UNSPEC);
}

static void
a_bad_signature_fails_at_its_first_byte(void **state)
{
	static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
	static const char v1[] = "PROXY TCP4 203.0.113.7 10.0.0.31 40000 8443\r\n";
	unsigned char buf[64];
	struct sockaddr_storage ss;
	const char *why = NULL;
	size_t total;

	assert_int_equal(proxy_parse(hello, 1, &total, &ss, &why), PROXY_BAD);
	assert_non_null(strstr(why, "signature"));
	assert_int_equal(proxy_parse((const unsigned char *)v1, 1, &total, &ss, &why),
	    PROXY_BAD);
	header(buf, 0x21, 0x11, 12, tcp4, 12);
	buf[11] = 0x0b;
	assert_int_equal(proxy_parse(buf, 11, &total, &ss, &why), PROXY_MORE);
	assert_int_equal(proxy_parse(buf, 12, &total, &ss, &why), PROXY_BAD);
}

static void
a_bad_version_or_command_is_refused(void **state)
{
	unsigned char buf[64];
	struct sockaddr_storage ss;
	const char *why = NULL;
	size_t total;

	header(buf, 0x11, 0x11, 12, tcp4, 12);
	assert_int_equal(proxy_parse(buf, 28, &total, &ss, &why), PROXY_BAD);
	assert_non_null(strstr(why, "version"));
	header(buf, 0x22, 0x11, 12, tcp4, 12);
	assert_int_equal(proxy_parse(buf, 28, &total, &ss, &why), PROXY_BAD);
	assert_non_null(strstr(why, "command"));
}

static void
other_families_are_refused(void **state)
{
	/* UDP over IPv4 and IPv6, unix stream and datagram, AF_UNSPEC. */
	static const unsigned char fams[] = { 0x12, 0x22, 0x31, 0x32, 0x00, 0x10 };
	unsigned char buf[64];
	struct sockaddr_storage ss;
	const char *why = NULL;
	size_t total;

	for (size_t i = 0; i < sizeof fams; i++) {
		header(buf, 0x21, fams[i], 12, tcp4, 12);
		assert_int_equal(proxy_parse(buf, 28, &total, &ss, &why), PROXY_BAD);
		assert_non_null(strstr(why, "family"));
	}
}

static void
a_length_short_of_the_addresses_is_refused(void **state)
{
	unsigned char buf[64], addr[36] = { 0 };
	struct sockaddr_storage ss;
	const char *why = NULL;
	size_t total;

	header(buf, 0x21, 0x11, 11, tcp4, 11);
	assert_int_equal(proxy_parse(buf, 16, &total, &ss, &why), PROXY_BAD);
	assert_non_null(strstr(why, "too short"));
	header(buf, 0x21, 0x21, 12, addr, 12);	/* IPv4's length, IPv6's family */
	assert_int_equal(proxy_parse(buf, 28, &total, &ss, &why), PROXY_BAD);
	assert_non_null(strstr(why, "too short"));
}

static void
tlvs_are_counted_and_not_looked_at(void **state)
{
	unsigned char buf[64];
	struct sockaddr_storage ss;
	const char *why = NULL;
	size_t total;

	/* 12 bytes of addresses and 65523 of TLVs: the largest header. */
	header(buf, 0x21, 0x11, 65535, tcp4, 12);
	assert_int_equal(proxy_parse(buf, 28, &total, &ss, &why), PROXY_PARSED);
	assert_int_equal(total, 16 + 65535);
	assert_int_equal(ss.ss_family, AF_INET);
}

/* --- the reader --- */

struct result {
	int calls;
	const char *why;
	struct sockaddr_storage from;
};

static void
done(evutil_socket_t fd, const struct sockaddr *from, const char *why, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->why = why;
	memcpy(&r->from, from, from->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
}

/* Writes a header with tlvs bytes of TLVs, a byte at a time for the
 * first 20 (the reader gets it in pieces), then a ClientHello's first
 * bytes; runs the reader; returns what it called back with, and the byte
 * left first in the socket. */
static int
read_header(size_t tlvs, struct result *r, int *next)
{
	static unsigned char buf[16 + 12 + 4096 + 16];
	struct event_base *base = event_base_new();
	struct sockaddr_in balancer = { .sin_family = AF_INET };
	int sv[2];
	size_t n;
	unsigned char c;

	assert_non_null(base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	n = header(buf, 0x21, 0x11, (unsigned)(12 + tlvs), tcp4, 12);
	memset(buf + n, 0x0d, tlvs);	/* TLVs that look like a signature */
	n += tlvs;
	buf[n++] = 0x16;	/* TLS handshake record */
	buf[n++] = 0x03;
	memset(r, 0, sizeof *r);
	inet_pton(AF_INET, "10.0.0.1", &balancer.sin_addr);
	assert_true(proxy_read(base, sv[0], (struct sockaddr *)&balancer,
	    sizeof balancer, 5, done, r));
	for (size_t i = 0; i < 20; i++) {
		assert_int_equal(write(sv[1], buf + i, 1), 1);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(write(sv[1], buf + 20, n - 20), (ssize_t)(n - 20));
	while (r->calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	*next = read(sv[0], &c, 1) == 1 ? c : -1;
	close(sv[0]);
	close(sv[1]);
	event_base_free(base);
	return r->calls;
}

static void
the_reader_takes_the_header_and_not_a_byte_more(void **state)
{
	struct result r;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&r.from;
	int next;

	for (size_t tlvs = 0; tlvs <= 4096; tlvs += 2048) {
		assert_int_equal(read_header(tlvs, &r, &next), 1);
		assert_null(r.why);
		assert_int_equal(s4->sin_family, AF_INET);
		assert_int_equal(s4->sin_addr.s_addr, htonl(0xcb007107));
		assert_int_equal(next, 0x16);
	}
}

static void
the_reader_gives_up_at_its_deadline(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in balancer = { .sin_family = AF_INET };
	struct result r = { 0 };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_true(proxy_read(base, sv[0], (struct sockaddr *)&balancer,
	    sizeof balancer, 1, done, &r));
	assert_int_equal(write(sv[1], sig, 8), 8);
	while (r.calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(r.calls, 1);
	assert_non_null(strstr(r.why, "in time"));
	assert_int_equal(r.from.ss_family, AF_INET);	/* the balancer's */
	/* One still waiting is closed as sipasd stops. */
	assert_true(proxy_read(base, sv[0], (struct sockaddr *)&balancer,
	    sizeof balancer, 1, done, &r));
	assert_int_equal(proxy_close_all(), 1);
	assert_int_equal(r.calls, 1);
	close(sv[1]);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_over_ipv4_gives_the_source),
		cmocka_unit_test(tcp_over_ipv6_gives_the_source),
		cmocka_unit_test(tcp_over_ipv6_of_a_mapped_ipv4_address_is_ipv4),
		cmocka_unit_test(local_leaves_the_socket_address),
		cmocka_unit_test(a_bad_signature_fails_at_its_first_byte),
		cmocka_unit_test(a_bad_version_or_command_is_refused),
		cmocka_unit_test(other_families_are_refused),
		cmocka_unit_test(a_length_short_of_the_addresses_is_refused),
		cmocka_unit_test(tlvs_are_counted_and_not_looked_at),
		cmocka_unit_test(the_reader_takes_the_header_and_not_a_byte_more),
		cmocka_unit_test(the_reader_gives_up_at_its_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
