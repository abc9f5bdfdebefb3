/* Source addresses with connections open, in a small hash table: an entry
 * lives while its address has a connection, or while its bucket of new
 * connections is refilling; idle entries are swept now and then. */
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

struct peer {
	struct peer *next;	/* in its bucket */
	unsigned char addr[16];	/* IPv4 in the first 4 bytes, or IPv6 */
	unsigned conns;
	struct token_bucket rate;	/* new connections it may open now */
	bool warned;
};

static struct peer *buckets[PEER_BUCKETS];
static unsigned long admitted;

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

static void
key(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET6)
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
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
			log_warn("an address is over its connection limits "
			    "(max_connections_per_ip %lld, new_connections_per_ip "
			    "%lld); refusing its new connections",
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

void
peer_clear(void)
{
	for (size_t i = 0; i < PEER_BUCKETS; i++) {
		while (buckets[i] != NULL) {
			struct peer *p = buckets[i];
			buckets[i] = p->next;
			free(p);
		}
	}
}
