/* Who is on the other end of a kiosk connection, and what it may hold.
 *
 * Before the TLS handshake completes a connection is known only by its
 * source address: at accept, before any TLS work, an address may have at
 * most max_connections_per_ip handshakes in progress and open
 * new_connections_per_ip new connections a second (each costs a
 * handshake). Once the handshake is done the address slot is given back
 * and the connection counts against its certificate instead: at most
 * max_connections_per_kiosk connections, and the per-kiosk request rate.
 * Kiosks of a center share an address behind NAT (protocol 1.1, "Limits"):
 * one of them misbehaving uses up its own share and nothing more. */
#ifndef SIPASD_PEER_H
#define SIPASD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cert.h"

struct peer;
struct peer_cert;

/* Counts a new connection from sa, or returns NULL when the address is
 * over a limit: the caller closes the socket. */
struct peer *peer_admit(const struct sockaddr *sa);
/* Gives the address slot back: at the end of the handshake, or at close.
 * NULL is ignored. */
void peer_release(struct peer *p);

/* Counts an identified connection against its certificate, or returns
 * NULL when the certificate holds max_connections_per_kiosk already. */
struct peer_cert *peer_cert_admit(const unsigned char fp[CERT_FINGERPRINT_LEN]);
/* NULL is ignored. */
void peer_cert_release(struct peer_cert *pc);
/* The certificate's request token bucket (rate_limit a second, rate_burst
 * at most): 0 when this request may go on, else the seconds to wait. */
int peer_cert_throttle(struct peer_cert *pc);
/* The most connections one certificate holds now, for /metrics. */
unsigned peer_cert_max_held(void);

/* Whether sa is one of the n addresses of list, however each is spelt
 * (IPv4, or IPv4 mapped into IPv6). */
bool peer_address_in(const struct sockaddr *sa, const struct sockaddr_storage *list,
    size_t n);

/* At exit, for leak checkers. */
void peer_clear(void);

#endif
