/* The snapshot mechanism of snapshot.h: reading on a timer, keeping the
 * copy in state_dir (state.c), restoring it at start, and judging whether
 * the one in memory is still usable. */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "sipasd.h"
#include "snapshot.h"
#include "state.h"

bool
snapshot_usable(const struct snapshot *s)
{
	/* The wall clock: the copy restored after a reboot is as old as the
	 * database last confirmed it, not as old as the machine's uptime. */
	return s->current != NULL && clock_wall_us() - s->loaded_us <=
	    server.cfg->kiosk_offline_ttl * 1000000;
}

/* Keeps what was just read in state_dir: written when it changed, else
 * only marked as confirmed now. */
static void
keep(struct snapshot *s)
{
	char *text = s->kind->dump(s->current);

	if (text == NULL)
		return;
	if (s->saved != NULL && strcmp(s->saved, text) == 0) {
		state_touch(s->kind->file);
		free(text);
	} else if (state_save(s->kind->file, text, strlen(text))) {
		free(s->saved);
		s->saved = text;
	} else {
		free(text);
	}
}

/* The copy in state_dir, as if read when it was last confirmed; what
 * waits for the database to be read still waits (failed). */
static void
restore(struct snapshot *s)
{
	size_t len;
	time_t written;
	char *text = state_read(s->kind->file, &len, &written);
	void *data;

	if (text == NULL)
		return;
	if ((data = s->kind->parse(text, len)) == NULL) {
		log_error("state_dir: %s is not %s; ignoring it", s->kind->file,
		    s->kind->what);
		free(text);
		return;
	}
	s->current = data;
	s->saved = text;
	s->failed = true;
	s->loaded_us = (int64_t)written * 1000000;
	s->kind->restored(data, written);
}

static void
on_read(PGresult *res, const struct db_failure *f, void *arg)
{
	struct snapshot *s = arg;
	bool was_failed = s->failed, news = s->current == NULL || s->failed;
	void *old = s->current;

	s->reading = false;
	s->failed = res == NULL;
	if (res == NULL) {
		s->kind->failed(f, was_failed, true);
		return;
	}
	s->current = s->kind->from_result(res);
	s->loaded_us = clock_wall_us();
	s->kind->loaded(res, old, news);
	keep(s);
	s->kind->free(old);
}

void
snapshot_read(struct snapshot *s)
{
	int64_t sent = clock_wall_us();
	struct db_failure f = { "database unavailable", true, "" };
	bool was_failed = s->failed;

	if (s->reading)
		return;
	if (!db_query(s->kind->statement, 0, NULL, NULL, NULL, on_read, s)) {
		s->failed = true;
		s->kind->failed(&f, was_failed, false);
		return;
	}
	s->reading = true;
	if (s->kind->asked != NULL)
		s->kind->asked(sent);
}

/* Every kiosk_cache_ttl (every second when it is 0); for a kind that asks
 * it, every second while the database has not answered, so that a start
 * serves as soon as it does; and with nothing to serve, a tenth of a
 * second while the read cannot even be sent (no connection ready yet: at
 * a first start, the kiosks get 503 until it is read, which would
 * otherwise be a second after the database is up). */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct snapshot *s = arg;
	bool waiting = s->kind->retry_each_second &&
	    (s->failed || s->current == NULL);
	struct timeval tv = { server.cfg->kiosk_cache_ttl > 0 && !waiting ?
	    (time_t)server.cfg->kiosk_cache_ttl : 1, 0 };

	snapshot_read(s);
	if (s->current == NULL && !s->reading)
		tv = (struct timeval){ 0, 100000 };
	evtimer_add(s->tick, &tv);
}

void
snapshot_start(struct snapshot *s)
{
	db_prepare(s->kind->statement, s->kind->sql);
}

void
snapshot_run(struct snapshot *s, struct event_base *base)
{
	struct timeval now = { 0, 0 };

	restore(s);
	s->tick = evtimer_new(base, on_tick, s);
	evtimer_add(s->tick, &now);
}

void
snapshot_stop(struct snapshot *s)
{
	if (s->tick != NULL)
		event_free(s->tick);
	s->tick = NULL;
	s->kind->free(s->current);
	s->current = NULL;
	free(s->saved);
	s->saved = NULL;
}

void
snapshot_set(struct snapshot *s, void *data)
{
	s->kind->free(s->current);
	s->current = data;
	s->loaded_us = clock_wall_us();
}
