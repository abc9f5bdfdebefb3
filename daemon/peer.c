/* Two small hash tables. Source addresses with handshakes in progress: an
 * entry lives while its address has one, or while its bucket of new
 * connections is refilling. Certificates with connections open: an entry
 * lives while its certificate holds a connection, or while its request
 * bucket is refilling, and there are never more entries than
 * max_connections, whatever number of certificates an attacker holds.
 * Idle entries of both are swept now and then. The certificate entries do
 * not belong to the registry cache (kiosk.c): a reload, which empties
 * that, leaves the limits as they are. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ratelimit.h"
#include "peer.h"
#include "sipasd.h"
#include "xmalloc.h"

#define PEER_BUCKETS 4096
#define CERT_BUCKETS 4096

struct peer {
	struct peer *next;	/* in its bucket */
	unsigned char addr[16];	/* IPv6, or IPv4 mapped into it (key) */
	unsigned conns;
	struct token_bucket rate;	/* new connections it may open now */
	bool warned;
};

struct peer_cert {
	struct peer_cert *next;	/* in its bucket */
	unsigned char fp[CERT_FINGERPRINT_LEN];
	unsigned conns;
	struct token_bucket rate;	/* requests it may send now */
	bool warned;
};

static struct peer *buckets[PEER_BUCKETS];
static unsigned long admitted;
static struct peer_cert *certs[CERT_BUCKETS];
static size_t ncerts;
static unsigned long certs_admitted;

/* Frees the entries of addresses without connections whose bucket has had
 * time to fill up again: forgetting them changes nothing. */
static void
sweep(void)
{
	struct timespec now;
	double refill = 2.0 + 1.0;	/* a full bucket is two seconds of rate */

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < PEER_BUCKETS; i++) {
		struct peer **pp = &buckets[i];
		while (*pp != NULL) {
			struct peer *p = *pp;
			if (p->conns == 0 &&
			    (double)(now.tv_sec - p->rate.refilled.tv_sec) > refill) {
				*pp = p->next;
				free(p);
			} else {
				pp = &p->next;
			}
		}
	}
}

/* An IPv4 address as IPv6 writes it mapped (::ffff:a.b.c.d), so that the
 * two spellings of one address are one key, and no IPv6 address is. */
static void
key(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

bool
peer_address_in(const struct sockaddr *sa, const struct sockaddr_storage *list,
    size_t n)
{
	unsigned char a[16], b[16];

	key(sa, a);
	for (size_t i = 0; i < n; i++) {
		key((const struct sockaddr *)&list[i], b);
		if (memcmp(a, b, 16) == 0)
			return true;
	}
	return false;
}

static struct peer **
slot(const unsigned char *addr)
{
	unsigned h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return &buckets[h % PEER_BUCKETS];
}

struct peer *
peer_admit(const struct sockaddr *sa)
{
	unsigned char addr[16];
	struct peer *p;
	struct timespec now;
	double rate = (double)server.cfg->new_connections_per_ip;

	if (++admitted % 4096 == 0)
		sweep();
	key(sa, addr);
	for (p = *slot(addr); p != NULL; p = p->next)
		if (memcmp(p->addr, addr, 16) == 0)
			break;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p == NULL) {
		p = xcalloc(1, sizeof *p);
		memcpy(p->addr, addr, 16);
		token_bucket_fill(&p->rate, 2 * rate, &now);	/* a burst of twice the rate */
		p->next = *slot(addr);
		*slot(addr) = p;
	}
	token_bucket_refill(&p->rate, rate, 2 * rate, &now);
	if (p->conns >= (unsigned)server.cfg->max_connections_per_ip ||
	    (rate > 0 && p->rate.tokens < 1)) {
		if (!p->warned)
			log_warn("an address is over its handshake limits "
			    "(max_connections_per_ip %lld in progress, "
			    "new_connections_per_ip %lld a second); refusing its "
			    "new connections",
			    server.cfg->max_connections_per_ip,
			    server.cfg->new_connections_per_ip);
		p->warned = true;
		return NULL;
	}
	p->warned = false;
	p->rate.tokens -= 1;
	p->conns++;
	return p;
}

/* The entry stays until swept, so that opening and closing connections
 * one at a time does not refill the bucket. */
void
peer_release(struct peer *p)
{
	if (p != NULL && p->conns > 0)
		p->conns--;
}

static struct peer_cert **
cert_slot(const unsigned char *fp)
{
	/* A SHA-256 is already uniformly spread. */
	return &certs[(fp[0] | fp[1] << 8) % CERT_BUCKETS];
}

/* Frees the entries of certificates without connections whose request
 * bucket is full again (forgetting them changes nothing), or, when force
 * says so, every entry without connections. */
static void
cert_sweep(bool force)
{
	struct timespec now;
	double rate = (double)server.cfg->rate_limit;
	double burst = (double)server.cfg->rate_burst;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < CERT_BUCKETS; i++) {
		struct peer_cert **pp = &certs[i];
		while (*pp != NULL) {
			struct peer_cert *pc = *pp;
			token_bucket_refill(&pc->rate, rate, burst, &now);
			if (pc->conns == 0 &&
			    (force || rate <= 0 || pc->rate.tokens >= burst)) {
				*pp = pc->next;
				free(pc);
				ncerts--;
			} else {
				pp = &pc->next;
			}
		}
	}
}

static struct peer_cert *
cert_entry(const unsigned char *fp)
{
	struct peer_cert *pc;
	struct timespec now;

	for (pc = *cert_slot(fp); pc != NULL; pc = pc->next)
		if (memcmp(pc->fp, fp, CERT_FINGERPRINT_LEN) == 0)
			return pc;
	/* Entries with connections are fewer than max_connections (the one
	 * being identified is counted there and has none yet): forgetting
	 * the idle ones always makes room. At worst a certificate that comes
	 * back finds its request bucket full again. */
	if (ncerts >= (size_t)server.cfg->max_connections)
		cert_sweep(false);
	if (ncerts >= (size_t)server.cfg->max_connections)
		cert_sweep(true);
	pc = xcalloc(1, sizeof *pc);
	memcpy(pc->fp, fp, CERT_FINGERPRINT_LEN);
	clock_gettime(CLOCK_MONOTONIC, &now);
	token_bucket_fill(&pc->rate, (double)server.cfg->rate_burst, &now);
	pc->next = *cert_slot(fp);
	*cert_slot(fp) = pc;
	ncerts++;
	return pc;
}

struct peer_cert *
peer_cert_admit(const unsigned char fp[CERT_FINGERPRINT_LEN])
{
	struct peer_cert *pc;
	char hex[2 * CERT_FINGERPRINT_LEN + 1];

	if (++certs_admitted % 4096 == 0)
		cert_sweep(false);
	pc = cert_entry(fp);
	if (pc->conns >= (unsigned)server.cfg->max_connections_per_kiosk) {
		if (!pc->warned) {
			hex_encode(fp, CERT_FINGERPRINT_LEN, hex);
			log_warn("certificate %s holds max_connections_per_kiosk "
			    "(%lld) connections; refusing its new ones with 429",
			    hex, server.cfg->max_connections_per_kiosk);
		}
		pc->warned = true;
		return NULL;
	}
	pc->conns++;
	return pc;
}

void
peer_cert_release(struct peer_cert *pc)
{
	if (pc == NULL || pc->conns == 0)
		return;
	if (--pc->conns == 0)
		pc->warned = false;	/* the next episode is logged again */
}

int
peer_cert_throttle(struct peer_cert *pc)
{
	struct timespec now;
	double rate = (double)server.cfg->rate_limit;

	if (rate <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	token_bucket_refill(&pc->rate, rate, (double)server.cfg->rate_burst, &now);
	if (pc->rate.tokens >= 1) {
		pc->rate.tokens -= 1;
		return 0;
	}
	return (int)((1 - pc->rate.tokens) / rate) + 1;
}

unsigned
peer_cert_max_held(void)
{
	unsigned most = 0;

	for (size_t i = 0; i < CERT_BUCKETS; i++)
		for (struct peer_cert *pc = certs[i]; pc != NULL; pc = pc->next)
			if (pc->conns > most)
				most = pc->conns;
	return most;
}

void
peer_clear(void)
{
	for (size_t i = 0; i < CERT_BUCKETS; i++) {
		while (certs[i] != NULL) {
			struct peer_cert *pc = certs[i];
			certs[i] = pc->next;
			free(pc);
		}
	}
	ncerts = 0;
	for (size_t i = 0; i < PEER_BUCKETS; i++) {
		while (buckets[i] != NULL) {
			struct peer *p = buckets[i];
			buckets[i] = p->next;
			free(p);
		}
	}
}
