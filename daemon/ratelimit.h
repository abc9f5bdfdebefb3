/* A token bucket, as the per-kiosk request limit and the per-address
 * connection limit (both in peer.c) use it: rate tokens a second drip
 * in, up to burst; each request or connection takes one. */
#ifndef SIPASD_RATELIMIT_H
#define SIPASD_RATELIMIT_H

#include <time.h>

struct token_bucket {
	double tokens;
	struct timespec refilled;
};

/* Starts it full at now. */
void token_bucket_fill(struct token_bucket *b, double burst, const struct timespec *now);
/* Adds what has dripped in since the last refill, up to burst. */
void token_bucket_refill(struct token_bucket *b, double rate, double burst,
    const struct timespec *now);

#endif
