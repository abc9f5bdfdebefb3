#include "ratelimit.h"

void
token_bucket_fill(struct token_bucket *b, double burst, const struct timespec *now)
{
	b->tokens = burst;
	b->refilled = *now;
}

void
token_bucket_refill(struct token_bucket *b, double rate, double burst,
    const struct timespec *now)
{
	b->tokens += rate * ((double)(now->tv_sec - b->refilled.tv_sec) +
	    (double)(now->tv_nsec - b->refilled.tv_nsec) / 1e9);
	if (b->tokens > burst)
		b->tokens = burst;
	b->refilled = *now;
}
