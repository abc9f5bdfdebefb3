/* Group commit. Submissions wait in one queue; at the end of each loop
 * iteration (so that whatever arrived together goes together) the queue is
 * sent as groups of at most batch_size (the key keeps its old name), one
 * INSERT and so one transaction each, as long as fewer than two groups per
 * database connection are in flight. At light load a response is sent at
 * once, alone; under load groups grow by themselves while earlier ones
 * commit. Each submission is told its outcome when its group has
 * committed: stored if its row was inserted.
 *
 * An id that was not inserted is already stored, by an earlier attempt or
 * a concurrent one that our INSERT waited for. A second query, in a new
 * transaction and so with a fresh snapshot that sees that row, compares
 * content hashes: duplicate or conflict. PostgreSQL compares them, as
 * bytea, so that no session setting (bytea_output) changes the outcome.
 * Retries are rare, so the common group costs one round trip.
 *
 * When the database is unreachable, or a group fails for a reason that may
 * pass, the submissions are spooled; the spool is replayed, one group at a
 * time and in order, whenever the database can take it. A replay that
 * fails for a reason that may pass is retried after a growing delay; one
 * the database refuses is replayed again a record at a time, and the record
 * it refuses alone is set aside, as is one whose kiosk was revoked before it
 * came, or whose id was stored before with other content: never dropped,
 * never in the way of the records after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "commit.h"
#include "db.h"
#include "kiosk.h"
#include "log.h"
#include "metrics.h"
#include "sipasd.h"
#include "spool.h"
#include "xmalloc.h"

/* Statement names carry the module's, as db_prepare requires. */
#define COMMIT_INSERT "commit_insert"
#define COMMIT_COMPARE "commit_compare"
#define NARRAYS 17
#define INFLIGHT_PER_CONNECTION 2
#define REPLAY_DELAY_MAX 30	/* seconds between attempts at most */

static const char insert_sql[] =
    "INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id, "
    " questionnaire_id, procedure, submitted_at, answers, overall, comment, gender, "
    " age_group, ethnicity, education, occupation, received_at) "
    "SELECT u.id, u.hash, u.kiosk, u.center, u.area, u.questionnaire, u.procedure, "
    " 'epoch'::timestamptz + (u.submitted_us * '1 microsecond'::interval), "
    " u.answers::smallint[], u.overall, u.comment, u.gender, "
    " u.age_group, u.ethnicity, u.education, u.occupation, "
    " coalesce('epoch'::timestamptz + (u.received_us * '1 microsecond'::interval), now()) "
    "FROM unnest($1::uuid[], $2::bytea[], $3::int[], $4::int[], $5::smallint[], "
    " $6::smallint[], $7::text[], $8::int8[], $9::text[], $10::smallint[], "
    " $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], "
    " $17::int8[]) "
    " WITH ORDINALITY AS u(id, hash, kiosk, center, area, questionnaire, procedure, "
    " submitted_us, answers, overall, comment, gender, age_group, ethnicity, "
    " education, occupation, received_us, ord) "
    "ORDER BY u.ord "
    "ON CONFLICT (id) DO NOTHING "
    "RETURNING id";

/* One row per id asked, in order: true if stored with the same hash,
 * false if with another, NULL if not stored. */
static const char compare_sql[] =
    "SELECT r.content_hash = u.hash "
    "FROM unnest($1::uuid[], $2::bytea[]) WITH ORDINALITY AS u(id, hash, ord) "
    "LEFT JOIN responses r ON r.id = u.id "
    "ORDER BY u.ord";

struct group {
	TAILQ_ENTRY(group) entry;	/* on commit.groups */
	size_t n;
	struct submission **subs;	/* live submissions, or */
	struct spooled **recs;		/* records replayed from the spool */
	struct spool_mark mark;		/* where the spool moves once they are in */
	enum outcome *outcome;		/* per item; unavailable until the
					 * database says otherwise */
	bool abandoned;			/* answered already, at shutdown */
	struct timespec sent;
};

static struct {
	TAILQ_HEAD(, submission) queue;
	size_t nqueued;
	TAILQ_HEAD(, group) groups;	/* in flight */
	unsigned inflight;
	bool replaying;			/* a replay group is in flight */
	struct event *flush;
	bool flush_scheduled;
	struct event *wait;		/* batch_wait */
	struct event *tick;		/* retries the spool once a second */
	int replay_delay;		/* seconds to wait after a failed replay */
	struct timespec replay_failed;
	size_t isolate;			/* records to replay one at a time */
} commit;

static void on_inserted(PGresult *res, const struct db_failure *f, void *arg);
static const struct response *item(const struct group *g, size_t i);
static const struct kiosk_ref *item_kiosk(const struct group *g, size_t i);

/* --- the parameters: sixteen PostgreSQL array literals --- */

/* Kept between groups: building the arrays allocates nothing once they
 * have grown to the usual size. */
static struct sbuf {
	char *p;
	size_t len, cap;
} arrays[NARRAYS];

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
elem_sep(struct sbuf *b)
{
	if (b->len > 1)		/* more than the opening brace */
		sb_add(b, ",", 1);
}

/* A quoted element: backslash and double quote escaped, the rest as is. */
static void
add_text(struct sbuf *b, const char *s)
{
	const char *run;

	elem_sep(b);
	if (s == NULL || s[0] == '\0') {
		sb_add(b, "NULL", 4);
		return;
	}
	sb_add(b, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			sb_add(b, run, (size_t)(s - run));
			sb_add(b, "\\", 1);
			run = s;
		}
	}
	sb_add(b, run, (size_t)(s - run));
	sb_add(b, "\"", 1);
}

static void
add_int(struct sbuf *b, long long v, bool null)
{
	char digits[24], *p = digits + sizeof digits;
	bool neg = v < 0;
	unsigned long long u = neg ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	elem_sep(b);
	if (null) {
		sb_add(b, "NULL", 4);
		return;
	}
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	sb_add(b, p, (size_t)(digits + sizeof digits - p));
}

/* A bytea element in hex input form, which no setting changes. */
static void
add_hash(struct sbuf *b, const unsigned char *h)
{
	char hash[2 + 2 * RESPONSE_HASH_LEN + 1];

	hash[0] = '\\';
	hash[1] = 'x';
	hex_encode(h, RESPONSE_HASH_LEN, hash + 2);
	add_text(b, hash);
}

static void
add_response(const struct response *r, const struct kiosk_ref *k,
    int64_t received_at)
{
	struct sbuf *answers = &arrays[8];

	add_text(&arrays[0], r->id);
	add_hash(&arrays[1], r->hash);
	add_int(&arrays[2], k->id, false);
	add_int(&arrays[3], k->center_id, false);
	add_int(&arrays[4], r->area->id, false);
	add_int(&arrays[5], r->questionnaire->id, false);
	add_text(&arrays[6], r->procedure);
	add_int(&arrays[7], r->submitted_at, false);
	/* An element "{4,5,NULL,...}" of a text array: no quoting needed
	 * beyond the braces, which must be quoted. */
	elem_sep(answers);
	sb_add(answers, "\"{", 2);
	for (size_t i = 0; i < r->questionnaire->ncriteria; i++) {
		if (i)
			sb_add(answers, ",", 1);
		if (r->answers[i] == RESPONSE_NA) {
			sb_add(answers, "NULL", 4);
		} else {
			/* Scales are small: 0 to 100 by the schema. */
			char d[4];
			int v = r->answers[i], n = 0;
			if (v >= 100)
				d[n++] = (char)('0' + v / 100);
			if (v >= 10)
				d[n++] = (char)('0' + v / 10 % 10);
			d[n++] = (char)('0' + v % 10);
			sb_add(answers, d, (size_t)n);
		}
	}
	sb_add(answers, "}\"", 2);
	add_int(&arrays[9], r->overall, r->overall == RESPONSE_NA);
	add_text(&arrays[10], r->comment);
	add_text(&arrays[11], r->gender);
	add_text(&arrays[12], r->age_group);
	add_text(&arrays[13], r->ethnicity);
	add_text(&arrays[14], r->education);
	add_text(&arrays[15], r->occupation);
	/* Live ones are received now, by the database's clock. */
	add_int(&arrays[16], received_at, received_at == 0);
}

static bool
send_group(struct group *g)
{
	const char *values[NARRAYS];
	bool ok;
	int i;

	for (i = 0; i < NARRAYS; i++) {
		arrays[i].len = 0;
		sb_add(&arrays[i], "{", 1);
	}
	for (size_t j = 0; j < g->n; j++)
		add_response(item(g, j), item_kiosk(g, j),
		    g->recs != NULL ? g->recs[j]->received_at : 0);
	for (i = 0; i < NARRAYS; i++) {
		sb_add(&arrays[i], "}", 1);
		values[i] = arrays[i].p;
	}
	clock_gettime(CLOCK_MONOTONIC, &g->sent);
	ok = db_query(COMMIT_INSERT, NARRAYS, values, NULL, NULL, on_inserted, g);
	if (ok) {
		g->outcome = xreallocarray(NULL, g->n, sizeof *g->outcome);
		for (size_t j = 0; j < g->n; j++)
			g->outcome[j] = OUTCOME_UNAVAILABLE;
		TAILQ_INSERT_TAIL(&commit.groups, g, entry);
		commit.inflight++;
	}
	return ok;
}

/* --- answering --- */

static void
schedule_flush(void)
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
item(const struct group *g, size_t i)
{
	return g->recs != NULL ? &g->recs[i]->resp : g->subs[i]->resp;
}

static const struct kiosk_ref *
item_kiosk(const struct group *g, size_t i)
{
	return g->recs != NULL ? &g->recs[i]->kiosk : g->subs[i]->kiosk;
}

static void
group_free(struct group *g)
{
	if (g->recs != NULL)
		spool_release(g->recs, g->n);
	free(g->subs);
	free(g->recs);
	free(g->outcome);
	free(g);
}

static void
group_end(struct group *g)
{
	TAILQ_REMOVE(&commit.groups, g, entry);
	commit.inflight--;
	if (g->recs != NULL)
		commit.replaying = false;
	group_free(g);
	schedule_flush();
}

/* --- replaying the spool --- */

static void
replay_retry_later(const char *why)
{
	commit.replay_delay = commit.replay_delay == 0 ? 1 :
	    commit.replay_delay * 2 > REPLAY_DELAY_MAX ? REPLAY_DELAY_MAX :
	    commit.replay_delay * 2;
	clock_gettime(CLOCK_MONOTONIC, &commit.replay_failed);
	log_error("replaying the spool failed: %s; retrying in %d s", why,
	    commit.replay_delay);
}

static bool
replay_due(void)
{
	return commit.replay_delay == 0 ||
	    clock_seconds_since(&commit.replay_failed) >= commit.replay_delay;
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
replayed(struct group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->outcome[i] == OUTCOME_UNAVAILABLE) {
			replay_retry_later("the database did not say whether a "
			    "record was stored");
			return;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		if (g->outcome[i] == OUTCOME_CONFLICT && !set_aside(g->recs[i], "id conflict: "
		    "this id was stored before with other content")) {
			replay_retry_later("cannot set a record aside");
			return;
		}
	}
	spool_done(&g->mark);
	commit.replay_delay = 0;
	commit.isolate -= g->n < commit.isolate ? g->n : commit.isolate;
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
replay_refused(struct group *g, const struct db_failure *f)
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
		commit.isolate = g->n;
		return;
	}
	if (!set_aside(g->recs[0], f->message)) {
		replay_retry_later("cannot set a record aside");
		return;
	}
	spool_done(&g->mark);
	commit.isolate -= commit.isolate > 0;
}

/* Every item has its outcome: answer, or move the spool forward. */
static void
finish(struct group *g)
{
	metrics_commit(clock_seconds_since(&g->sent));
	for (size_t i = 0; i < g->n; i++) {
		metrics_outcome(g->outcome[i]);
		if (g->outcome[i] == OUTCOME_CONFLICT)
			log_info("kiosk=%s response %s: id conflict (stored before "
			    "with other content)%s", item_kiosk(g, i)->code,
			    item(g, i)->id, g->recs ? ", found replaying the spool" : "");
	}
	if (g->recs != NULL) {
		replayed(g);
	} else {
		for (size_t i = 0; i < g->n; i++)
			g->subs[i]->done(g->subs[i], g->outcome[i]);
	}
	group_end(g);
}

static void
failed(struct group *g, const struct db_failure *f)
{
	if (g->recs != NULL) {
		if (f->transient)
			replay_retry_later(f->message);
		else
			replay_refused(g, f);
	} else if (f->transient) {
		log_warn("storing %zu response(s) failed (%s); spooling them",
		    g->n, f->message);
		spool_or_refuse(g->subs, g->n);
	} else {
		log_error("storing %zu response(s) failed: %s", g->n, f->message);
		for (size_t i = 0; i < g->n; i++)
			g->subs[i]->done(g->subs[i], OUTCOME_UNAVAILABLE);
	}
	group_end(g);
}

static void
on_looked_up(PGresult *res, const struct db_failure *f, void *arg)
{
	struct group *g = arg;
	int row = 0;

	if (g->abandoned) {
		group_end(g);
		return;
	}
	if (res == NULL) {
		/* The inserted rows are committed; the others stay
		 * unavailable and their retry finds out. Replay simply starts the group over. */
		log_error("looking up %s failed: %s", "stored ids", f->message);
		if (g->recs != NULL) {
			replay_retry_later(f->message);
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
		/* Not found cannot happen; it stays unavailable, and a retry
		 * is safe. */
		if (row < PQntuples(res) && !PQgetisnull(res, row, 0))
			g->outcome[i] = PQgetvalue(res, row, 0)[0] == 't' ?
			    OUTCOME_DUPLICATE : OUTCOME_CONFLICT;
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
	struct group *g = arg;
	const char *values[2];
	char **inserted, **hit;
	bool *claimed;
	size_t ninserted, left = 0;
	bool ok;

	if (g->abandoned) {
		group_end(g);
		return;
	}
	if (res == NULL) {
		failed(g, f);
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
	for (int a = 0; a < 2; a++) {
		arrays[a].len = 0;
		sb_add(&arrays[a], "{", 1);
	}
	for (size_t i = 0; i < g->n; i++) {
		if (g->outcome[i] != OUTCOME_STORED) {
			add_text(&arrays[0], item(g, i)->id);
			add_hash(&arrays[1], item(g, i)->hash);
		}
	}
	for (int a = 0; a < 2; a++) {
		sb_add(&arrays[a], "}", 1);
		values[a] = arrays[a].p;
	}
	ok = db_query(COMMIT_COMPARE, 2, values, NULL, NULL, on_looked_up, g);
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

static struct group *
take(size_t max)
{
	struct group *g = xcalloc(1, sizeof *g);
	struct submission *s;

	g->subs = xcalloc(max, sizeof *g->subs);
	while (g->n < max && (s = TAILQ_FIRST(&commit.queue)) != NULL) {
		TAILQ_REMOVE(&commit.queue, s, entry);
		commit.nqueued--;
		g->subs[g->n++] = s;
	}
	return g;
}

/* Why rec cannot be replayed now: revoked (set aside, why says so), or
 * received after the registry was last read, which may not know of a
 * revocation yet (wait). */
static bool
replayable(const struct spooled *rec, char *why, size_t whylen, bool *wait)
{
	/* Records written before 0.9 carry only the kiosk's clock. */
	int64_t at = rec->received_at ? rec->received_at : rec->resp.submitted_at;

	*wait = !kiosk_registry_covers(at);
	return !*wait && !kiosk_revoked_before(rec->kiosk.id, at, why, whylen);
}

static void
replay(void)
{
	struct group *g = xcalloc(1, sizeof *g);
	size_t max = commit.isolate > 0 ? 1 : (size_t)server.cfg->batch_size;
	size_t head = 0, got;
	bool wait = false;

	g->recs = xcalloc(max, sizeof *g->recs);
	got = spool_read(g->recs, max, server.catalog, &g->mark);
	for (size_t i = 0; i < got; i++) {
		struct spooled *rec = g->recs[i];
		struct spool_mark one = { rec->end, 1 };
		char why[160];

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
		    commit.replay_delay == 0)
			replay_retry_later("cannot read the spool");
		else if (head > 0)
			schedule_flush();	/* on to the next records */
		if (got == 0 && head == 0)
			spool_done(&g->mark);	/* empties a spool read to its end */
		group_free(g);
		return;
	}
	if (head > 0)
		g->mark.consumed = g->n;
	if (send_group(g)) {
		commit.replaying = true;
	} else {
		group_free(g);
		replay_retry_later("cannot send to the database");
	}
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
		struct group *g;
		/* Nothing is written before the database's role is checked. */
		if (!db_ready() || !server.db_checked) {
			g = take(commit.nqueued);
			spool_or_refuse(g->subs, g->n);
			group_free(g);
			break;
		}
		if (commit.inflight >= max_inflight() || hold_back())
			break;
		g = take((size_t)server.cfg->batch_size);
		metrics_commit_group(g->n);
		if (!send_group(g)) {
			spool_or_refuse(g->subs, g->n);
			group_free(g);
		}
	}
	if (!commit.replaying && spool_pending() && db_ready() &&
	    server.db_checked && server.catalog != NULL &&
	    commit.inflight < max_inflight() && !server.stopping && replay_due())
		replay();
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	if (commit.nqueued > 0 || spool_pending())
		schedule_flush();
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
	schedule_flush();	/* a spool left from before a restart */
}

void
commit_submit(struct submission *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->queued);
	s->received_at = clock_wall_us();
	TAILQ_INSERT_TAIL(&commit.queue, s, entry);
	commit.nqueued++;
	schedule_flush();
}

bool
commit_idle(void)
{
	struct group *g;

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
	struct group *g;

	if (commit.nqueued > 0) {
		g = take(commit.nqueued);
		spool_or_refuse(g->subs, g->n);
		group_free(g);
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
	for (int i = 0; i < NARRAYS; i++) {
		free(arrays[i].p);
		arrays[i].p = NULL;
		arrays[i].len = arrays[i].cap = 0;
	}
	event_free(commit.flush);
	event_free(commit.wait);
	event_free(commit.tick);
	commit.flush = commit.wait = commit.tick = NULL;
}
