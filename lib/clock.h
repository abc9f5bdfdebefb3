/* The two clocks: the monotonic one for durations and deadlines, the wall
 * clock for what is stored as a time of day. */
#ifndef SIPAS_CLOCK_H
#define SIPAS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Seconds elapsed since t, from CLOCK_MONOTONIC. */
double clock_seconds_since(const struct timespec *t);
/* Microseconds since the epoch, from the wall clock. */
int64_t clock_wall_us(void);

#endif
