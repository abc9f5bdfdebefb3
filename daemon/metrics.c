/* The daemon's counters. Plain globals: one thread, and a scrape renders
 * them in a few microseconds. Names follow Prometheus conventions (units
 * in the name, _total for counters), and every sample carries the node's
 * name, several sipasd serving one database. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct histogram {
	const char *name;
	const char *help;
	const double *bounds;	/* upper bounds, increasing */
	size_t nbounds;
	uint64_t *counts;	/* per bucket, not cumulative */
	uint64_t count;
	double sum;
};

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NLATENCY (sizeof latency_bounds / sizeof latency_bounds[0])
static const double count_bounds[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500 };
#define NCOUNT (sizeof count_bounds / sizeof count_bounds[0])

static uint64_t round_trip_counts[NLATENCY + 1];
static uint64_t commit_counts[NLATENCY + 1];
static uint64_t batch_items_counts[NCOUNT + 1];
static uint64_t commit_group_counts[NCOUNT + 1];

static struct histogram round_trip = { "sipasd_db_round_trip_seconds",
	"Time from sending a query to PostgreSQL to its Sync coming back.",
	latency_bounds, NLATENCY, round_trip_counts, 0, 0 };
static struct histogram commit = { "sipasd_commit_seconds",
	"Time from sending a group commit to PostgreSQL to knowing each "
	"response's outcome (its insert, and the look-up of ids not inserted).",
	latency_bounds, NLATENCY, commit_counts, 0, 0 };
/* Their names are the operators' and stay as they were. */
static struct histogram batch_items = { "sipasd_batch_items",
	"Responses per POST /v1/responses/batch.",
	count_bounds, NCOUNT, batch_items_counts, 0, 0 };
static struct histogram commit_group = { "sipasd_commit_batch_responses",
	"Responses written together in one transaction (group commit).",
	count_bounds, NCOUNT, commit_group_counts, 0, 0 };

static uint64_t requests[600];	/* by HTTP status */
static uint64_t outcomes[OUTCOME_UNAVAILABLE];
static uint64_t tls_failures;
static uint64_t db_timeouts;
static uint64_t refusals[REFUSED_COUNT];

static void
observe(struct histogram *h, double v)
{
	size_t i = 0;

	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void
metrics_request(int status)
{
	if (status >= 100 && status < 600)
		requests[status]++;
}

void
metrics_refused(enum refusal why)
{
	refusals[why]++;
}

void
metrics_outcome(enum outcome o)
{
	if (o < OUTCOME_UNAVAILABLE)
		outcomes[o]++;
}

void
metrics_tls_failure(void)
{
	tls_failures++;
}

void
metrics_db_round_trip(double seconds)
{
	observe(&round_trip, seconds);
}

void
metrics_db_timeout(void)
{
	db_timeouts++;
}

void
metrics_commit(double seconds)
{
	observe(&commit, seconds);
}

void
metrics_batch_items(size_t items)
{
	observe(&batch_items, (double)items);
}

void
metrics_commit_group(size_t responses)
{
	observe(&commit_group, (double)responses);
}

static void
render_histogram(struct evbuffer *out, const struct histogram *h)
{
	uint64_t cumulative = 0;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", h->name,
	    h->help, h->name);
	for (size_t i = 0; i < h->nbounds; i++) {
		cumulative += h->counts[i];
		evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", h->name,
		    h->bounds[i], (unsigned long long)cumulative);
	}
	evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	    "%s_count %llu\n", h->name, (unsigned long long)h->count, h->name,
	    h->sum, h->name, (unsigned long long)h->count);
}

static void
render_limits(struct evbuffer *out, const struct metrics_gauges *g)
{
	static const char *const names[] = { "max_connections", "address",
		"kiosk", "proxy_header", "proxy_source" };

	evbuffer_add_printf(out, "# HELP sipasd_connections_refused_total "
	    "Connections closed before being served, by the limit they hit.\n"
	    "# TYPE sipasd_connections_refused_total counter\n");
	for (int r = 0; r < REFUSED_COUNT; r++)
		evbuffer_add_printf(out, "sipasd_connections_refused_total"
		    "{limit=\"%s\"} %llu\n", names[r],
		    (unsigned long long)refusals[r]);
	evbuffer_add_printf(out, "# HELP sipasd_kiosk_connections_max The most "
	    "connections one kiosk certificate holds.\n"
	    "# TYPE sipasd_kiosk_connections_max gauge\n"
	    "sipasd_kiosk_connections_max %u\n", g->kiosk_connections_max);
}

/* Copies the samples of in to out with node="NODE" as their last label,
 * so that every series says which sipasd it comes from, however it was
 * written above; comment lines go as they are. */
static void
label_node(struct evbuffer *out, struct evbuffer *in, const char *node)
{
	char *line;
	size_t len, name;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		name = strcspn(line, "{ ");
		if (line[0] == '#' || line[name] == '\0')
			evbuffer_add_printf(out, "%s\n", line);
		else if (line[name] == '{')
			evbuffer_add_printf(out, "%.*s,node=\"%s\"}%s\n",
			    (int)(strchr(line, '}') - line), line, node,
			    strchr(line, '}') + 1);
		else
			evbuffer_add_printf(out, "%.*s{node=\"%s\"}%s\n", (int)name,
			    line, node, line + name);
		free(line);
	}
}

static void
render_samples(struct evbuffer *out, const struct metrics_gauges *g)
{
	static const char *const outcome_names[] = { "stored", "duplicate",
		"conflict", "dossier_already_rated", "spooled" };

	evbuffer_add_printf(out, "# HELP sipasd_requests_total HTTP requests "
	    "answered, by status.\n# TYPE sipasd_requests_total counter\n");
	for (int s = 100; s < 600; s++)
		if (requests[s] != 0)
			evbuffer_add_printf(out, "sipasd_requests_total{status=\"%d\"} "
			    "%llu\n", s, (unsigned long long)requests[s]);
	evbuffer_add_printf(out, "# HELP sipasd_responses_total Survey responses "
	    "by outcome.\n# TYPE sipasd_responses_total counter\n");
	for (int o = 0; o < OUTCOME_UNAVAILABLE; o++)
		evbuffer_add_printf(out, "sipasd_responses_total{outcome=\"%s\"} "
		    "%llu\n", outcome_names[o], (unsigned long long)outcomes[o]);
	evbuffer_add_printf(out,
	    "# HELP sipasd_spool_depth Responses in the spool waiting for the database.\n"
	    "# TYPE sipasd_spool_depth gauge\nsipasd_spool_depth %zu\n"
	    "# HELP sipasd_spool_set_aside_total Spooled records that could not be "
	    "stored, set aside for a person (sipasd --spool-inspect).\n"
	    "# TYPE sipasd_spool_set_aside_total counter\n"
	    "sipasd_spool_set_aside_total %zu\n"
	    "# HELP sipasd_connections_open Open client connections, both listeners.\n"
	    "# TYPE sipasd_connections_open gauge\nsipasd_connections_open %u\n"
	    "# HELP sipasd_tls_handshake_failures_total TLS handshakes that failed.\n"
	    "# TYPE sipasd_tls_handshake_failures_total counter\n"
	    "sipasd_tls_handshake_failures_total %llu\n"
	    "# HELP sipasd_db_queries_in_flight Queries sent and not yet answered.\n"
	    "# TYPE sipasd_db_queries_in_flight gauge\nsipasd_db_queries_in_flight %u\n"
	    "# HELP sipasd_db_up Whether a database connection is ready.\n"
	    "# TYPE sipasd_db_up gauge\nsipasd_db_up %d\n"
	    "# HELP sipasd_db_timeouts_total Database connections dropped for giving "
	    "no reply within db_timeout.\n"
	    "# TYPE sipasd_db_timeouts_total counter\nsipasd_db_timeouts_total %llu\n",
	    g->spool_records, g->spool_aside, g->connections,
	    (unsigned long long)tls_failures, g->queries_in_flight, g->database_up ? 1 : 0,
	    (unsigned long long)db_timeouts);
	render_limits(out, g);
	render_histogram(out, &round_trip);
	render_histogram(out, &commit);
	render_histogram(out, &batch_items);
	render_histogram(out, &commit_group);
}

void
metrics_render(struct evbuffer *out, const struct metrics_gauges *g)
{
	struct evbuffer *samples = evbuffer_new();

	render_samples(samples, g);
	label_node(out, samples, g->node);
	evbuffer_free(samples);
}
