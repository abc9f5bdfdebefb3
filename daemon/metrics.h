/* Counters and histograms for GET /metrics, in Prometheus text format. */
#ifndef SIPASD_METRICS_H
#define SIPASD_METRICS_H

#include <stddef.h>

#include <event2/buffer.h>

enum outcome {
	OUTCOME_STORED,
	OUTCOME_DUPLICATE,
	OUTCOME_CONFLICT,
	OUTCOME_SPOOLED,
	OUTCOME_COUNT
};

/* Why a connection was closed before it was served. */
enum refusal {
	REFUSED_MAX_CONNECTIONS,	/* max_connections, at accept */
	REFUSED_ADDRESS,		/* the per-address limits, at accept */
	REFUSED_KIOSK,			/* max_connections_per_kiosk, after the handshake */
	REFUSED_COUNT
};

void metrics_request(int status);
void metrics_refused(enum refusal why);
void metrics_outcome(enum outcome o);
void metrics_tls_failure(void);
void metrics_db_round_trip(double seconds);
void metrics_db_timeout(void);
void metrics_commit(double seconds);
void metrics_batch(size_t items);
void metrics_commit_batch(size_t responses);
/* Appends every metric to out; gauges are read at the time of the call. */
void metrics_render(struct evbuffer *out);

#endif
