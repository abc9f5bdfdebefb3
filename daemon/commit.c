/* Group commit. Submissions wait in one queue; at the end of each loop
 * iteration (so that whatever arrived together goes together) the queue is
 * sent as groups of at most batch_size (the key keeps its old name), one
 * INSERT and so one transaction each, as long as fewer than two groups per
 * database connection are in flight. At light load a response is sent at
 * once, alone; under load groups grow by themselves while earlier ones
 * commit. Each submission is told its outcome when its group has
 * committed: stored if its row was inserted.
 *
 * A row that was not inserted has its id already stored, by an earlier
 * attempt or a concurrent one that our INSERT waited for, or its dossier
 * rated already with its questionnaire at its center (protocol 1.1, the constraint
 * responses_dossier_once), maybe by an item before it in the same group.
 * A second query, in a new transaction and so with a fresh snapshot that
 * sees those rows, compares content hashes (duplicate or conflict) or
 * finds the dossier rated. PostgreSQL compares them, as
 * bytea, so that no session setting (bytea_output) changes the outcome.
 * Retries are rare, so the common group costs one round trip.
 *
 * When the database is unreachable, or a group fails for a reason that may
 * pass, the submissions are spooled. replay.c sends the spool's records as
 * groups of their own through the same machinery (commit_group_send), one
 * at a time, and is told how each ended through the group's
 * commit_group_ops; the flush runs it through the pointer given to
 * commit_set_replay, so this file never calls it. The PostgreSQL array
 * literals are pgarray.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "commit.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "pgarray.h"
#include "sipasd.h"
#include "spool.h"
#include "xmalloc.h"

/* Statement names carry the module's, as db_prepare requires. */
#define COMMIT_INSERT "commit_insert"
#define COMMIT_COMPARE "commit_compare"
#define NARRAYS 20
#define NCOMPARE 5	/* the look-up's arrays */
#define INFLIGHT_PER_CONNECTION 2

static const char insert_sql[] =
    "INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id, "
    " questionnaire_id, procedure, submitted_at, answers, overall, comment, gender, "
    " age_group, ethnicity, education, occupation, received_at, counter_id, "
    " officer_id, dossier) "
    "SELECT u.id, u.hash, u.kiosk, u.center, u.area, u.questionnaire, u.procedure, "
    " 'epoch'::timestamptz + (u.submitted_us * '1 microsecond'::interval), "
    " u.answers::smallint[], u.overall, u.comment, u.gender, "
    " u.age_group, u.ethnicity, u.education, u.occupation, "
    " coalesce('epoch'::timestamptz + (u.received_us * '1 microsecond'::interval), now()), "
    " u.counter, u.officer, u.dossier "
    "FROM unnest($1::uuid[], $2::bytea[], $3::int[], $4::int[], $5::smallint[], "
    " $6::smallint[], $7::text[], $8::int8[], $9::text[], $10::smallint[], "
    " $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], "
    " $17::int8[], $18::int[], $19::int[], $20::text[]) "
    " WITH ORDINALITY AS u(id, hash, kiosk, center, area, questionnaire, procedure, "
    " submitted_us, answers, overall, comment, gender, age_group, ethnicity, "
    " education, occupation, received_us, counter, officer, dossier, ord) "
    "ORDER BY u.ord "
    /* No target: an id stored before, and a dossier rated before
     * (responses_dossier_once), leave the row out rather than fail the
     * whole group; the look-up tells them apart. */
    "ON CONFLICT DO NOTHING "
    "RETURNING id";

/* One row per item asked, in order: whether its id is stored with the
 * same hash (NULL: the id is not stored), and whether its dossier is rated
 * with its questionnaire at its center by a row of another id. The same id wins: a kiosk
 * retrying what was stored gets its duplicate. */
static const char compare_sql[] =
    /* Its commit writes a record (the message, once), and so waits for the
     * synchronous standby like an insert's: a duplicate found here is then
     * on the standby too (answered 200, or a replayed record let go), not
     * only on a primary whose wait for it was cancelled. A transaction
     * that wrote nothing would not wait. */
    "WITH durable AS MATERIALIZED (SELECT pg_logical_emit_message(true, "
    " 'sipasd', 'duplicates looked up')) "
    "SELECT r.content_hash = u.hash, "
    " EXISTS (SELECT FROM responses d WHERE d.questionnaire_id = u.questionnaire "
    "  AND d.center_id = u.center AND d.dossier = u.dossier AND d.id <> u.id) "
    "FROM unnest($1::uuid[], $2::bytea[], $3::smallint[], $4::text[], $5::int[]) "
    " WITH ORDINALITY AS u(id, hash, questionnaire, dossier, center, ord) "
    "LEFT JOIN responses r ON r.id = u.id "
    "CROSS JOIN durable "
    "ORDER BY u.ord";

static struct {
	TAILQ_HEAD(, submission) queue;
	size_t nqueued;
	TAILQ_HEAD(, commit_group) groups;	/* in flight */
	unsigned inflight;
	bool replaying;			/* a replay group is in flight */
	void (*replay)(void);		/* replay.c's, run after each flush */
	struct event *flush;
	bool flush_scheduled;
	struct event *wait;		/* batch_wait */
	struct event *tick;		/* retries the spool once a second */
} commit;

static void on_inserted(PGresult *res, const struct db_failure *f, void *arg);
static const struct response *item(const struct commit_group *g, size_t i);
static const struct kiosk_ref *item_kiosk(const struct commit_group *g, size_t i);

/* --- the parameters: one array literal per column --- */

/* Kept between groups: building them allocates nothing once they have
 * grown to the usual size. */
static struct pgarray arrays[NARRAYS];

/* One row: the order of insert_sql's columns. */
static void
add_response(const struct response *r, const struct kiosk_ref *k,
    int64_t received_at)
{
	pgarray_text(&arrays[0], r->id);
	pgarray_bytea(&arrays[1], r->hash, RESPONSE_HASH_LEN);
	pgarray_int(&arrays[2], k->id, false);
	pgarray_int(&arrays[3], r->center_id, false);	/* on its day */
	pgarray_int(&arrays[4], r->area->id, false);
	pgarray_int(&arrays[5], r->questionnaire->id, false);
	pgarray_text(&arrays[6], r->procedure);
	pgarray_int(&arrays[7], r->submitted_at, false);
	/* Scales are small: 0 to 100 by the schema. */
	pgarray_small_ints(&arrays[8], r->answers, r->questionnaire->ncriteria,
	    RESPONSE_NA);
	pgarray_int(&arrays[9], r->overall, r->overall == RESPONSE_NA);
	pgarray_text(&arrays[10], r->comment);
	pgarray_text(&arrays[11], r->gender);
	pgarray_text(&arrays[12], r->age_group);
	pgarray_text(&arrays[13], r->ethnicity);
	pgarray_text(&arrays[14], r->education);
	pgarray_text(&arrays[15], r->occupation);
	/* Live ones are received now, by the database's clock. */
	pgarray_int(&arrays[16], received_at, received_at == 0);
	pgarray_int(&arrays[17], r->counter_id, r->counter_id == 0);
	pgarray_int(&arrays[18], r->officer_id, r->officer_id == 0);
	pgarray_text(&arrays[19], r->dossier);
}

bool
commit_group_send(struct commit_group *g)
{
	const char *values[NARRAYS];
	bool ok;
	int i;

	for (i = 0; i < NARRAYS; i++)
		pgarray_begin(&arrays[i]);
	for (size_t j = 0; j < g->n; j++)
		add_response(item(g, j), item_kiosk(g, j),
		    g->recs != NULL ? g->recs[j]->received_at : 0);
	for (i = 0; i < NARRAYS; i++)
		values[i] = pgarray_end(&arrays[i]);
	clock_gettime(CLOCK_MONOTONIC, &g->sent);
	ok = db_query(COMMIT_INSERT, NARRAYS, values, NULL, NULL, on_inserted, g);
	if (ok) {
		g->outcome = xreallocarray(NULL, g->n, sizeof *g->outcome);
		for (size_t j = 0; j < g->n; j++)
			g->outcome[j] = OUTCOME_UNAVAILABLE;
		TAILQ_INSERT_TAIL(&commit.groups, g, entry);
		commit.inflight++;
		if (g->recs != NULL)
			commit.replaying = true;
	}
	return ok;
}

/* --- answering --- */

void
commit_flush_soon(void)
{
	if (!commit.flush_scheduled) {
		commit.flush_scheduled = true;
		event_active(commit.flush, 0, 0);
	}
}

/* The durable fallback: spooled once fsync'ed, else unavailable. */
static void
spool_or_refuse(struct submission **subs, size_t n)
{
	bool ok = spool_append(subs, n);

	for (size_t i = 0; i < n; i++) {
		if (ok)
			metrics_outcome(OUTCOME_SPOOLED);
		subs[i]->done(subs[i], ok ? OUTCOME_SPOOLED : OUTCOME_UNAVAILABLE);
	}
}

static const struct response *
item(const struct commit_group *g, size_t i)
{
	return g->recs != NULL ? &g->recs[i]->resp : g->subs[i]->resp;
}

static const struct kiosk_ref *
item_kiosk(const struct commit_group *g, size_t i)
{
	return g->recs != NULL ? &g->recs[i]->kiosk : g->subs[i]->kiosk;
}

void
commit_group_free(struct commit_group *g)
{
	if (g->recs != NULL)
		spool_release(g->recs, g->n);
	free(g->subs);
	free(g->recs);
	free(g->outcome);
	free(g);
}

static void
group_end(struct commit_group *g)
{
	TAILQ_REMOVE(&commit.groups, g, entry);
	commit.inflight--;
	if (g->recs != NULL)
		commit.replaying = false;
	commit_group_free(g);
	commit_flush_soon();
}

/* Every item has its outcome: count them, and tell the group's owner. */
static void
finish(struct commit_group *g)
{
	metrics_commit(clock_seconds_since(&g->sent));
	for (size_t i = 0; i < g->n; i++) {
		metrics_outcome(g->outcome[i]);
		if (g->outcome[i] == OUTCOME_CONFLICT)
			log_info("kiosk=%s response %s: id conflict (stored before "
			    "with other content)%s", item_kiosk(g, i)->code,
			    item(g, i)->id, g->recs ? ", found replaying the spool" : "");
		else if (g->outcome[i] == OUTCOME_DOSSIER_RATED)
			log_info("kiosk=%s response %s: dossier %s already rated "
			    "with questionnaire %s%s", item_kiosk(g, i)->code,
			    item(g, i)->id, item(g, i)->dossier,
			    item(g, i)->questionnaire->code,
			    g->recs ? ", found replaying the spool" : "");
	}
	g->ops->committed(g);
	group_end(g);
}

static void
live_committed(struct commit_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		g->subs[i]->done(g->subs[i], g->outcome[i]);
}

static void
live_failed(struct commit_group *g, const struct db_failure *f)
{
	if (f->transient) {
		log_warn("storing %zu response(s) failed (%s); spooling them",
		    g->n, f->message);
		spool_or_refuse(g->subs, g->n);
	} else {
		log_error("storing %zu response(s) failed: %s", g->n, f->message);
		for (size_t i = 0; i < g->n; i++)
			g->subs[i]->done(g->subs[i], OUTCOME_UNAVAILABLE);
	}
}

/* Live submissions: the rows found stored are answered so, the others
 * unavailable (unknown is NULL), and their retry finds out. */
static const struct commit_group_ops live_ops = { live_committed, live_failed,
	NULL };

static void
on_looked_up(PGresult *res, const struct db_failure *f, void *arg)
{
	struct commit_group *g = arg;
	int row = 0;

	if (g->abandoned) {
		group_end(g);
		return;
	}
	if (res == NULL) {
		/* The inserted rows are committed; the others stay
		 * unavailable. */
		log_error("looking up %s failed: %s", "stored ids", f->message);
		if (g->ops->unknown != NULL) {
			g->ops->unknown(g, f);
			group_end(g);
			return;
		}
		finish(g);
		return;
	}
	/* The rows answer the items asked, in their order. */
	for (size_t i = 0; i < g->n; i++) {
		if (g->outcome[i] == OUTCOME_STORED)
			continue;
		/* Neither cannot happen; it stays unavailable, and a retry
		 * is safe. */
		if (row < PQntuples(res) && !PQgetisnull(res, row, 0))
			g->outcome[i] = PQgetvalue(res, row, 0)[0] == 't' ?
			    OUTCOME_DUPLICATE : OUTCOME_CONFLICT;
		else if (row < PQntuples(res) && PQgetvalue(res, row, 1)[0] == 't')
			g->outcome[i] = OUTCOME_DOSSIER_RATED;
		row++;
	}
	finish(g);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
on_inserted(PGresult *res, const struct db_failure *f, void *arg)
{
	struct commit_group *g = arg;
	const char *values[NCOMPARE];
	char **inserted, **hit;
	bool *claimed;
	size_t ninserted, left = 0;
	bool ok;

	if (g->abandoned) {
		group_end(g);
		return;
	}
	if (res == NULL) {
		g->ops->failed(g, f);
		group_end(g);
		return;
	}
	ninserted = (size_t)PQntuples(res);
	inserted = xcalloc(ninserted + 1, sizeof *inserted);
	for (size_t r = 0; r < ninserted; r++)
		inserted[r] = PQgetvalue(res, (int)r, 0);
	qsort(inserted, ninserted, sizeof *inserted, cmp_str);
	claimed = xcalloc(ninserted + 1, sizeof *claimed);
	for (size_t i = 0; i < g->n; i++) {
		const char *id = item(g, i)->id;
		hit = bsearch(&id, inserted, ninserted, sizeof *inserted, cmp_str);
		/* The same id later in the same group was not the one inserted. */
		if (hit != NULL && !claimed[hit - inserted]) {
			claimed[hit - inserted] = true;
			g->outcome[i] = OUTCOME_STORED;
		} else {
			left++;
		}
	}
	free(claimed);
	free(inserted);
	if (left == 0) {
		finish(g);
		return;
	}
	/* The ids and hashes of the items not inserted, in the insert's
	 * scratch arrays: libpq copied the insert's parameters as it sent it. */
	for (int a = 0; a < NCOMPARE; a++)
		pgarray_begin(&arrays[a]);
	for (size_t i = 0; i < g->n; i++) {
		const struct response *r = item(g, i);
		if (g->outcome[i] != OUTCOME_STORED) {
			pgarray_text(&arrays[0], r->id);
			pgarray_bytea(&arrays[1], r->hash, RESPONSE_HASH_LEN);
			pgarray_int(&arrays[2], r->questionnaire->id, false);
			pgarray_text(&arrays[3], r->dossier);
			pgarray_int(&arrays[4], r->center_id, false);
		}
	}
	for (int a = 0; a < NCOMPARE; a++)
		values[a] = pgarray_end(&arrays[a]);
	ok = db_query(COMMIT_COMPARE, NCOMPARE, values, NULL, NULL, on_looked_up, g);
	if (!ok) {
		struct db_failure nf = { "database unavailable", true, "" };
		on_looked_up(NULL, &nf, g);
	}
}

/* --- sending --- */

static unsigned
max_inflight(void)
{
	return (unsigned)server.cfg->db_connections * INFLIGHT_PER_CONNECTION;
}

static struct commit_group *
take(size_t max)
{
	struct commit_group *g = xcalloc(1, sizeof *g);
	struct submission *s;

	g->ops = &live_ops;
	g->subs = xcalloc(max, sizeof *g->subs);
	while (g->n < max && (s = TAILQ_FIRST(&commit.queue)) != NULL) {
		TAILQ_REMOVE(&commit.queue, s, entry);
		commit.nqueued--;
		g->subs[g->n++] = s;
	}
	return g;
}

/* Waits for batch_wait when a group could still grow. */
static bool
hold_back(void)
{
	struct timespec *oldest = &TAILQ_FIRST(&commit.queue)->queued;
	double waited, wait = (double)server.cfg->batch_wait / 1000.0;
	struct timeval tv;

	if (wait <= 0 || commit.nqueued >= (size_t)server.cfg->batch_size)
		return false;
	waited = clock_seconds_since(oldest);
	if (waited >= wait)
		return false;
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)((wait - waited) * 1e6);
	evtimer_add(commit.wait, &tv);
	return true;
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	commit.flush_scheduled = false;
	while (commit.nqueued > 0) {
		struct commit_group *g;
		/* Nothing is written before the database's role is checked. */
		if (!db_ready() || !server.db_checked) {
			g = take(commit.nqueued);
			spool_or_refuse(g->subs, g->n);
			commit_group_free(g);
			break;
		}
		if (commit.inflight >= max_inflight() || hold_back())
			break;
		g = take((size_t)server.cfg->batch_size);
		metrics_commit_group(g->n);
		if (!commit_group_send(g)) {
			spool_or_refuse(g->subs, g->n);
			commit_group_free(g);
		}
	}
	if (commit.replay != NULL)
		commit.replay();
}

bool
commit_replay_room(void)
{
	return !commit.replaying && commit.inflight < max_inflight();
}

void
commit_set_replay(void (*replay)(void))
{
	commit.replay = replay;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	if (commit.nqueued > 0 || spool_pending())
		commit_flush_soon();
}

void
commit_start(struct event_base *base)
{
	struct timeval second = { 1, 0 };

	db_prepare(COMMIT_INSERT, insert_sql);
	db_prepare(COMMIT_COMPARE, compare_sql);
	TAILQ_INIT(&commit.queue);
	TAILQ_INIT(&commit.groups);
	commit.flush = event_new(base, -1, 0, on_flush, NULL);
	commit.wait = evtimer_new(base, on_flush, NULL);
	commit.tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	event_add(commit.tick, &second);
	commit_flush_soon();	/* a spool left from before a restart */
}

void
commit_submit(struct submission *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->queued);
	s->received_at = clock_wall_us();
	TAILQ_INSERT_TAIL(&commit.queue, s, entry);
	commit.nqueued++;
	commit_flush_soon();
}

bool
commit_idle(void)
{
	struct commit_group *g;

	if (commit.nqueued > 0)
		return false;
	TAILQ_FOREACH(g, &commit.groups, entry)
		if (g->recs == NULL && !g->abandoned)
			return false;
	return true;
}

void
commit_abandon(void)
{
	struct commit_group *g;

	if (commit.nqueued > 0) {
		g = take(commit.nqueued);
		spool_or_refuse(g->subs, g->n);
		commit_group_free(g);
	}
	/* Their outcome is unknown: spooled, they are stored on replay, or
	 * found to be duplicates if their transaction did commit. */
	TAILQ_FOREACH(g, &commit.groups, entry) {
		if (g->abandoned)
			continue;
		g->abandoned = true;
		if (g->recs == NULL)
			spool_or_refuse(g->subs, g->n);
	}
}

void
commit_stop(void)
{
	for (int i = 0; i < NARRAYS; i++)
		pgarray_free(&arrays[i]);
	event_free(commit.flush);
	event_free(commit.wait);
	event_free(commit.tick);
	commit.flush = commit.wait = commit.tick = NULL;
}
