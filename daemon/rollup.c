/* Feeds the report rollup. Storing a response only queues its id for the
 * rollup (a trigger, sql/005_rollup.sql), so that batches never wait on
 * each other; every rollup_interval seconds this asks PostgreSQL to fold
 * the queued responses into the rollup (sipas_rollup_compact). Reports
 * count queued responses too, so they are right either way; folding keeps
 * them fast. */
#include <time.h>

#include <event2/event.h>

#include "db.h"
#include "log.h"
#include "sipasd.h"

static struct event *timer;
static struct timespec last;	/* when the last folding was asked for */
static bool running;

static void
on_compacted(PGresult *res, const struct db_failure *f, void *arg)
{
	running = false;
	if (f != NULL)
		log_warn("rollup: folding the queued responses failed: %s", f->message);
	else
		log_debug("rollup: %s rollup row(s) written", PQgetvalue(res, 0, 0));
}

/* Every second, so that a reloaded rollup_interval applies at once. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	long long every = server.cfg->rollup_interval;

	if (every <= 0 || running || !db_ready() || seconds_since(&last) < (double)every)
		return;
	if (db_query_slow("rollup_compact", 0, NULL, on_compacted, NULL)) {
		running = true;
		clock_gettime(CLOCK_MONOTONIC, &last);
	}
}

void
rollup_start(struct event_base *base)
{
	struct timeval second = { 1, 0 };

	db_prepare("rollup_compact", "SELECT sipas_rollup_compact()");
	clock_gettime(CLOCK_MONOTONIC, &last);
	timer = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	evtimer_add(timer, &second);
}

void
rollup_stop(void)
{
	if (timer != NULL)
		event_free(timer);
	timer = NULL;
}
