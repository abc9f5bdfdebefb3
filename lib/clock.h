/* The two clocks: the monotonic one for durations and deadlines, the wall
 * clock for what is stored as a time of day. */
#ifndef SIPAS_CLOCK_H
#define SIPAS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Seconds elapsed since t, from CLOCK_MONOTONIC. */
double clock_seconds_since(const struct timespec *t);
/* Microseconds since the epoch, from the wall clock. */
int64_t clock_wall_us(void);
/* RFC 3339 with offset to microseconds since the epoch. */
bool rfc3339_parse(const char *s, int64_t *out);

/* Vietnam's days (Asia/Ho_Chi_Minh: UTC+7, no daylight saving since
 * 1975) are the days of the rules on centers, counters and officers. */
#define CLOCK_VN_OFFSET_S	(7 * 3600)
/* The Vietnam day of an instant (µs since the epoch), as days since
 * 1970-01-01: what PostgreSQL's date - '1970-01-01' gives. */
int clock_vn_day(int64_t us);

#endif
