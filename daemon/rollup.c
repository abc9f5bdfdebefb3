/* Feeds the report rollup. Storing a response only queues its id for the
 * rollup (a trigger, sql/005_rollup.sql), so that group commits never
 * wait on each other; this asks PostgreSQL to fold the queue into the rollup
 * (sipas_rollup_compact) every rollup_interval seconds. Reports count the
 * queued responses too, so they are right either way; folding keeps them
 * fast. */
#include <stdlib.h>

#include <event2/event.h>

#include "db.h"
#include "log.h"
#include "rollup.h"
#include "sipasd.h"

/* Folding costs PostgreSQL some 10 us a response. A backlog is folded a
 * slice at a time, a few times a second, so that it takes a fraction of a
 * core rather than a whole one in bursts, which would show in the kiosks'
 * latency. */
#define SLICE "2000"
#define ROLLUP_COMPACT "rollup_compact"	/* the statement's name */
#define BACKLOG_PAUSE_MS 200

static struct event *timer;

static void
schedule(long long ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	if (timer != NULL)	/* NULL once stopping */
		evtimer_add(timer, &tv);
}

/* The interval, or once a second to see whether a reload set one. */
static long long
interval_ms(void)
{
	return server.cfg->rollup_interval > 0 ? server.cfg->rollup_interval * 1000 : 1000;
}

static void
on_compacted(PGresult *res, const struct db_failure *f, void *arg)
{
	long long queued;

	if (f != NULL) {
		log_warn("rollup: folding the queued responses failed: %s", f->message);
		schedule(interval_ms());
		return;
	}
	queued = atoll(PQgetvalue(res, 0, 0));
	log_debug("rollup: %lld response(s) still queued", queued);
	schedule(queued > 0 ? BACKLOG_PAUSE_MS : interval_ms());
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	static const char *const params[1] = { SLICE };

	/* It writes: not before the database's role has been checked. */
	if (server.cfg->rollup_interval <= 0 || !db_ready() || !server.db_checked ||
	    !db_query_slow(ROLLUP_COMPACT, 1, params, on_compacted, NULL))
		schedule(interval_ms());
}

void
rollup_start(struct event_base *base)
{
	db_prepare(ROLLUP_COMPACT, "SELECT sipas_rollup_compact($1)");
	timer = evtimer_new(base, on_timer, NULL);
	schedule(interval_ms());
}

void
rollup_stop(void)
{
	if (timer != NULL)
		event_free(timer);
	timer = NULL;
}
