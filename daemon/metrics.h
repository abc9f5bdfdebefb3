/* Counters and histograms for GET /metrics, in Prometheus text format.
 * Only counters live here: the gauges are read by the caller of
 * metrics_render from the modules that hold them, so that those modules
 * count here without this calling them back. */
#ifndef SIPASD_METRICS_H
#define SIPASD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>

#include "submission.h"

/* Why a connection was closed before it was served. */
enum refusal {
	REFUSED_MAX_CONNECTIONS,	/* max_connections, at accept */
	REFUSED_ADDRESS,		/* the per-address limits, at accept */
	REFUSED_KIOSK,			/* max_connections_per_kiosk, after the handshake */
	REFUSED_PROXY,			/* proxy_protocol: no valid header in time */
	REFUSED_PROXY_SOURCE,		/* proxy_protocol: not from proxy_protocol_from */
	REFUSED_COUNT
};

/* What the modules hold, at the time of a scrape. */
struct metrics_gauges {
	size_t spool_records;		/* not yet replayed */
	size_t spool_aside;		/* since start-up */
	unsigned connections;		/* open, both listeners */
	unsigned queries_in_flight;
	bool database_up;
	unsigned kiosk_connections_max;
	const char *node;		/* node_name: a label on every sample */
};

void metrics_request(int status);
void metrics_refused(enum refusal why);
/* Stored, duplicate, conflict and spooled are counted; unavailable is not
 * an outcome for the response, which the kiosk sends again. */
void metrics_outcome(enum outcome o);
void metrics_tls_failure(void);
void metrics_db_round_trip(double seconds);
void metrics_db_timeout(void);
/* A group commit, from sending it to knowing every response's outcome. */
void metrics_commit(double seconds);
void metrics_batch_items(size_t items);		/* per POST /v1/responses/batch */
void metrics_commit_group(size_t responses);	/* per group commit */
/* Appends every metric to out. */
void metrics_render(struct evbuffer *out, const struct metrics_gauges *g);

#endif
