/* Limits per source address, checked at accept before any TLS work: how
 * many connections one address may hold, and how fast it may open new
 * ones (each costs a TLS handshake). Kiosks of a center often share an
 * address behind NAT, so the defaults are generous. */
#ifndef SIPASD_PEER_H
#define SIPASD_PEER_H

#include <sys/socket.h>

struct peer;

/* Counts a new connection from sa, or returns NULL when the address is
 * over a limit: the caller closes the socket. */
struct peer *peer_admit(const struct sockaddr *sa);
void peer_release(struct peer *p);
/* At exit, for leak checkers. */
void peer_clear(void);

#endif
