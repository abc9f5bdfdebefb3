/* Replaying the spool: whenever the database can take it, the records
 * spooled while it could not are sent again, one group at a time and in
 * order, through commit.c's group machinery. A replay that fails for a
 * reason that may pass is retried after a growing delay; one the database
 * refuses is replayed again a record at a time, and the record it refuses
 * alone is set aside, as is one whose kiosk was revoked before it came,
 * one whose id was stored before with other content or whose dossier was
 * rated by another id (the database's constraint): never dropped, never in
 * the way of the records after it. A record was answered 202: it is stored
 * as it was judged at receipt (its center, counter and officer are in it),
 * not judged again by the organisation as it is by the time of the
 * replay. commit.c runs replay_run at the end of
 * each flush and tells each group's end through replay_ops; it never calls
 * this file by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "commit.h"
#include "db.h"
#include "kiosk.h"
#include "log.h"
#include "replay.h"
#include "sipasd.h"
#include "spool.h"
#include "xmalloc.h"

#define REPLAY_DELAY_MAX 30	/* seconds between attempts at most */

static struct {
	int delay;			/* seconds to wait after a failed replay */
	struct timespec failed;
	size_t isolate;			/* records to replay one at a time */
} replay;

static void replay_failed(struct commit_group *g, const struct db_failure *f);
static void replay_unknown(struct commit_group *g, const struct db_failure *f);
static void replayed(struct commit_group *g);

static const struct commit_group_ops replay_ops = { replayed, replay_failed,
	replay_unknown };

static void
replay_retry_later(const char *why)
{
	replay.delay = replay.delay == 0 ? 1 :
	    replay.delay * 2 > REPLAY_DELAY_MAX ? REPLAY_DELAY_MAX :
	    replay.delay * 2;
	clock_gettime(CLOCK_MONOTONIC, &replay.failed);
	log_error("replaying the spool failed: %s; retrying in %d s", why,
	    replay.delay);
}

static bool
replay_due(void)
{
	return replay.delay == 0 ||
	    clock_seconds_since(&replay.failed) >= replay.delay;
}

/* Sets a record aside and logs it; false when it must stay in the spool. */
static bool
set_aside(const struct spooled *rec, const char *why)
{
	if (!spool_set_aside(rec, why))
		return false;
	log_error("kiosk=%s response %s set aside for a person to look at: %s",
	    rec->kiosk.code, rec->resp.id, why);
	return true;
}

/* The group is in the database: set aside what it found stored before
 * with other content, and move the spool past all of it. Nothing is set
 * aside unless the spool moves past it right after. */
static void
replayed(struct commit_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->outcome[i] == OUTCOME_UNAVAILABLE) {
			replay_retry_later("the database did not say whether a "
			    "record was stored");
			return;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		const char *why = g->outcome[i] == OUTCOME_CONFLICT ? "id conflict: "
		    "this id was stored before with other content" :
		    g->outcome[i] == OUTCOME_DOSSIER_RATED ? "dossier already "
		    "rated: another id rated this dossier with this questionnaire" :
		    NULL;
		if (why != NULL && !set_aside(g->recs[i], why)) {
			replay_retry_later("cannot set a record aside");
			return;
		}
	}
	spool_done(&g->mark);
	replay.delay = 0;
	replay.isolate -= g->n < replay.isolate ? g->n : replay.isolate;
	log_info("replayed %zu spooled response(s); %zu to go", g->n,
	    spool_depth());
}

/* Errors that belong to one record (its data, a constraint, a trigger's
 * verdict on it), not to the database as a whole (read-only, a missing
 * grant, a schema that drifted): only those set a record aside. */
static bool
record_error(const char *sqlstate)
{
	return strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
	    strncmp(sqlstate, "P0", 2) == 0;
}

/* The database refused the group: a record it refuses alone is set aside,
 * and a larger group is replayed again a record at a time to find it. */
static void
replay_refused(struct commit_group *g, const struct db_failure *f)
{
	char why[300];

	if (!record_error(f->sqlstate)) {
		snprintf(why, sizeof why, "the database refuses it for a reason "
		    "that concerns every record (SQLSTATE %s): %s", f->sqlstate,
		    f->message);
		replay_retry_later(why);
		return;
	}
	if (g->n > 1) {
		log_warn("replaying %zu spooled response(s) was refused (%s); "
		    "replaying them one at a time", g->n, f->message);
		replay.isolate = g->n;
		return;
	}
	if (!set_aside(g->recs[0], f->message)) {
		replay_retry_later("cannot set a record aside");
		return;
	}
	spool_done(&g->mark);
	replay.isolate -= replay.isolate > 0;
}

/* Why rec cannot be replayed now: revoked before it came (set aside, why
 * says so; a stolen certificate's doing), or received after the registry
 * was last read, which may not know of the revocation yet (wait). */
static bool
replayable(const struct spooled *rec, char *why, size_t whylen, bool *wait)
{
	/* Records written before 0.9 carry only the kiosk's clock. */
	int64_t at = rec->received_at ? rec->received_at : rec->resp.submitted_at;

	*wait = !kiosk_registry_covers(at);
	return !*wait && !kiosk_revoked_before(rec->kiosk.id, at, why, whylen);
}

/* Reads the next records and sends them as one group: those at its head
 * that cannot be replayed (a revoked kiosk) are set aside on the way; one
 * further on ends the group, to be first next time. */
static void
replay_send(void)
{
	struct commit_group *g = xcalloc(1, sizeof *g);
	size_t max = replay.isolate > 0 ? 1 : (size_t)server.cfg->batch_size;
	size_t head = 0, got;
	bool wait = false;

	g->ops = &replay_ops;
	g->recs = xcalloc(max, sizeof *g->recs);
	got = spool_read(g->recs, max, server.catalog, &g->mark);
	for (size_t i = 0; i < got; i++) {
		struct spooled *rec = g->recs[i];
		struct spool_mark one = { rec->end, 1 };
		char why[300];

		if (replayable(rec, why, sizeof why, &wait))
			continue;
		if (i > head || wait) {
			/* The group ends before it; it comes first next time. */
			g->mark.end = rec->start;
			g->mark.consumed = i - head;
			spool_release(g->recs + i, got - i);
			got = i;
			break;
		}
		if (!set_aside(rec, why)) {
			spool_release(g->recs + i, got - i);
			got = i;
			replay_retry_later("cannot set a record aside");
			break;
		}
		spool_done(&one);
		spool_release(&rec, 1);
		head = i + 1;
	}
	g->n = got - head;
	memmove(g->recs, g->recs + head, g->n * sizeof *g->recs);
	if (g->n == 0) {
		if (!wait && got == 0 && head == 0 && spool_pending() &&
		    replay.delay == 0)
			replay_retry_later("cannot read the spool");
		else if (head > 0)
			commit_flush_soon();	/* on to the next records */
		if (got == 0 && head == 0)
			spool_done(&g->mark);	/* empties a spool read to its end */
		commit_group_free(g);
		return;
	}
	if (head > 0)
		g->mark.consumed = g->n;
	if (!commit_group_send(g)) {
		commit_group_free(g);
		replay_retry_later("cannot send to the database");
	}
}

static void
replay_failed(struct commit_group *g, const struct db_failure *f)
{
	if (f->transient)
		replay_retry_later(f->message);
	else
		replay_refused(g, f);
}

/* Which records are stored is not known: the group simply starts over. */
static void
replay_unknown(struct commit_group *g, const struct db_failure *f)
{
	replay_retry_later(f->message);
}

static void
replay_run(void)
{
	if (commit_replay_room() && spool_pending() && db_ready() &&
	    server.db_checked && server.catalog != NULL && !server.stopping &&
	    replay_due())
		replay_send();
}

void
replay_start(void)
{
	commit_set_replay(replay_run);
}
