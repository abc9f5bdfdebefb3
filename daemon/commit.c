/* Group commit. Submissions wait in one queue; at the end of each loop
 * iteration (so that whatever arrived together goes together) the queue is
 * sent as batches of at most batch_size, one sipas_submit_batch() call and
 * so one transaction each, as long as fewer than two batches per database
 * connection are in flight. At light load a response is sent at once, alone;
 * under load batches grow by themselves while earlier ones commit. Each
 * submission is answered when its batch has committed. When the database is
 * unreachable, or a batch fails for a reason that may pass, the submissions
 * are spooled (202); the spool is replayed, one batch at a time and in
 * order, whenever the database can take it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "commit.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "sipasd.h"
#include "spool.h"
#include "xmalloc.h"

#define NARRAYS 16
#define INFLIGHT_PER_CONNECTION 2

static const char batch_sql[] =
    "SELECT * FROM sipas_submit_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16)";

struct batch {
	TAILQ_ENTRY(batch) entry;	/* on commit.batches */
	size_t n;
	struct submission **subs;	/* live submissions, or */
	struct spooled **recs;		/* records replayed from the spool */
	bool abandoned;			/* answered already, at shutdown */
	struct timespec sent;
};

static struct {
	TAILQ_HEAD(, submission) queue;
	size_t nqueued;
	TAILQ_HEAD(, batch) batches;	/* in flight */
	unsigned inflight;
	bool replaying;			/* a replay batch is in flight */
	struct event *flush;
	bool flush_scheduled;
	struct event *wait;		/* batch_wait */
	struct event *tick;		/* retries the spool once a second */
} commit;

static void on_batch_done(PGresult *res, const struct db_failure *f, void *arg);

/* --- the parameters: sixteen PostgreSQL array literals --- */

static void
elem_sep(struct evbuffer *b)
{
	if (evbuffer_get_length(b) > 1)		/* more than the opening brace */
		evbuffer_add(b, ",", 1);
}

static void
add_text(struct evbuffer *b, const char *s)
{
	elem_sep(b);
	if (s == NULL || s[0] == '\0') {
		evbuffer_add(b, "NULL", 4);
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add(b, "\\", 1);
		evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
add_int(struct evbuffer *b, int v, bool null)
{
	elem_sep(b);
	if (null)
		evbuffer_add(b, "NULL", 4);
	else
		evbuffer_add_printf(b, "%d", v);
}

static void
add_response(struct evbuffer **a, const struct response *r,
    const struct kiosk_ref *k)
{
	char hash[2 + 2 * RESPONSE_HASH_LEN + 1], when[64], answers[CATALOG_MAX_CRITERIA * 5 + 3];
	time_t secs = (time_t)(r->submitted_at / 1000000);
	long usecs = (long)(r->submitted_at % 1000000);
	size_t off = 0;
	struct tm tm;

	if (usecs < 0) {
		secs--;
		usecs += 1000000;
	}
	gmtime_r(&secs, &tm);
	snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, usecs);
	hash[0] = '\\';
	hash[1] = 'x';
	hex_encode(r->hash, RESPONSE_HASH_LEN, hash + 2);
	answers[off++] = '{';
	for (size_t i = 0; i < r->questionnaire->ncriteria; i++) {
		if (r->answers[i] == RESPONSE_NA)
			off += (size_t)snprintf(answers + off, sizeof answers - off,
			    "%sNULL", i ? "," : "");
		else
			off += (size_t)snprintf(answers + off, sizeof answers - off,
			    "%s%d", i ? "," : "", r->answers[i]);
	}
	snprintf(answers + off, sizeof answers - off, "}");

	add_text(a[0], r->id);
	add_text(a[1], hash);
	add_int(a[2], k->id, false);
	add_int(a[3], k->center_id, false);
	add_int(a[4], r->area->id, false);
	add_int(a[5], r->questionnaire->id, false);
	add_text(a[6], r->procedure);
	add_text(a[7], when);
	add_text(a[8], answers);
	add_int(a[9], r->overall, r->overall == RESPONSE_NA);
	add_text(a[10], r->comment);
	add_text(a[11], r->gender);
	add_text(a[12], r->age_group);
	add_text(a[13], r->ethnicity);
	add_text(a[14], r->education);
	add_text(a[15], r->occupation);
}

static bool
send_batch(struct batch *b)
{
	struct evbuffer *a[NARRAYS];
	const char *values[NARRAYS];
	bool ok;
	int i;

	for (i = 0; i < NARRAYS; i++) {
		a[i] = evbuffer_new();
		evbuffer_add(a[i], "{", 1);
	}
	for (size_t j = 0; j < b->n; j++) {
		if (b->recs != NULL)
			add_response(a, &b->recs[j]->resp, &b->recs[j]->kiosk);
		else
			add_response(a, b->subs[j]->resp, b->subs[j]->kiosk);
	}
	for (i = 0; i < NARRAYS; i++) {
		evbuffer_add(a[i], "}", 2);	/* with the terminating NUL */
		values[i] = (const char *)evbuffer_pullup(a[i], -1);
	}
	clock_gettime(CLOCK_MONOTONIC, &b->sent);
	ok = db_query(batch_sql, NARRAYS, values, NULL, NULL, on_batch_done, b);
	for (i = 0; i < NARRAYS; i++)
		evbuffer_free(a[i]);
	if (ok) {
		TAILQ_INSERT_TAIL(&commit.batches, b, entry);
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

static void
answer(struct submission *s, int status)
{
	s->done(s, status);
}

/* The durable fallback: 202 once fsync'ed, else 503. */
static void
spool_or_refuse(struct submission **subs, size_t n)
{
	bool ok = spool_append(subs, n);

	for (size_t i = 0; i < n; i++) {
		if (ok)
			metrics_outcome(OUTCOME_SPOOLED);
		answer(subs[i], ok ? 202 : 503);
	}
}

static int
outcome_status(const char *outcome, const struct response *r,
    const struct kiosk_ref *k)
{
	if (strcmp(outcome, "stored") == 0) {
		metrics_outcome(OUTCOME_STORED);
		return 201;
	}
	if (strcmp(outcome, "duplicate") == 0) {
		metrics_outcome(OUTCOME_DUPLICATE);
		return 200;
	}
	metrics_outcome(OUTCOME_CONFLICT);
	log_info("kiosk=%s response %s: id conflict (stored before with other "
	    "content)", k->code, r->id);
	return 409;
}

static void
replay_done(struct batch *b, PGresult *res, const struct db_failure *f)
{
	commit.replaying = false;
	if (res != NULL && (size_t)PQntuples(res) == b->n) {
		for (size_t i = 0; i < b->n; i++)
			outcome_status(PQgetvalue(res, (int)i, 0), &b->recs[i]->resp,
			    &b->recs[i]->kiosk);
		spool_done(b->recs[b->n - 1], b->n);
		log_info("replayed %zu spooled response(s); %zu to go", b->n,
		    spool_depth());
	} else {
		log_error("replaying the spool failed: %s; retrying",
		    f ? f->message : "wrong number of results");
	}
	spool_release(b->recs, b->n);
}

static void
live_done(struct batch *b, PGresult *res, const struct db_failure *f)
{
	double seconds = seconds_since(&b->sent);

	if (res != NULL && (size_t)PQntuples(res) == b->n) {
		metrics_commit(seconds);
		for (size_t i = 0; i < b->n; i++)
			answer(b->subs[i], outcome_status(PQgetvalue(res, (int)i, 0),
			    b->subs[i]->resp, b->subs[i]->kiosk));
	} else if (res == NULL && f->transient) {
		log_warn("storing %zu response(s) failed (%s); spooling them",
		    b->n, f->message);
		spool_or_refuse(b->subs, b->n);
	} else {
		log_error("storing %zu response(s) failed: %s", b->n,
		    f ? f->message : "wrong number of results");
		for (size_t i = 0; i < b->n; i++)
			answer(b->subs[i], 503);
	}
}

static void
batch_free(struct batch *b)
{
	free(b->subs);
	free(b->recs);
	free(b);
}

static void
on_batch_done(PGresult *res, const struct db_failure *f, void *arg)
{
	struct batch *b = arg;

	TAILQ_REMOVE(&commit.batches, b, entry);
	commit.inflight--;
	if (b->abandoned) {
		if (b->recs != NULL)
			spool_release(b->recs, b->n);
	} else if (b->recs != NULL) {
		replay_done(b, res, f);
	} else {
		live_done(b, res, f);
	}
	batch_free(b);
	schedule_flush();
}

/* --- sending --- */

static unsigned
max_inflight(void)
{
	return (unsigned)server.cfg->db_connections * INFLIGHT_PER_CONNECTION;
}

static struct batch *
take(size_t max)
{
	struct batch *b = xcalloc(1, sizeof *b);
	struct submission *s;

	b->subs = xcalloc(max, sizeof *b->subs);
	while (b->n < max && (s = TAILQ_FIRST(&commit.queue)) != NULL) {
		TAILQ_REMOVE(&commit.queue, s, entry);
		commit.nqueued--;
		b->subs[b->n++] = s;
	}
	return b;
}

static void
replay(void)
{
	struct batch *b = xcalloc(1, sizeof *b);
	size_t max = (size_t)server.cfg->batch_size;

	b->recs = xcalloc(max, sizeof *b->recs);
	b->n = spool_read(b->recs, max, server.catalog);
	if (b->n == 0) {
		batch_free(b);
		return;
	}
	if (send_batch(b)) {
		commit.replaying = true;
	} else {
		spool_release(b->recs, b->n);
		batch_free(b);
	}
}

/* Waits for batch_wait when a batch could still grow. */
static bool
hold_back(void)
{
	struct timespec *oldest = &TAILQ_FIRST(&commit.queue)->queued;
	double waited, wait = (double)server.cfg->batch_wait / 1000.0;
	struct timeval tv;

	if (wait <= 0 || commit.nqueued >= (size_t)server.cfg->batch_size)
		return false;
	waited = seconds_since(oldest);
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
		struct batch *b;
		if (!db_ready()) {
			b = take(commit.nqueued);
			spool_or_refuse(b->subs, b->n);
			batch_free(b);
			break;
		}
		if (commit.inflight >= max_inflight() || hold_back())
			break;
		b = take((size_t)server.cfg->batch_size);
		metrics_commit_batch(b->n);
		if (!send_batch(b)) {
			spool_or_refuse(b->subs, b->n);
			batch_free(b);
		}
	}
	if (!commit.replaying && spool_depth() > 0 && db_ready() &&
	    commit.inflight < max_inflight() && !server.stopping)
		replay();
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	if (commit.nqueued > 0 || spool_depth() > 0)
		schedule_flush();
}

void
commit_start(struct event_base *base)
{
	struct timeval second = { 1, 0 };

	TAILQ_INIT(&commit.queue);
	TAILQ_INIT(&commit.batches);
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
	TAILQ_INSERT_TAIL(&commit.queue, s, entry);
	commit.nqueued++;
	schedule_flush();
}

bool
commit_idle(void)
{
	struct batch *b;

	if (commit.nqueued > 0)
		return false;
	TAILQ_FOREACH(b, &commit.batches, entry)
		if (b->recs == NULL && !b->abandoned)
			return false;
	return true;
}

void
commit_abandon(void)
{
	struct batch *b;

	if (commit.nqueued > 0) {
		b = take(commit.nqueued);
		spool_or_refuse(b->subs, b->n);
		batch_free(b);
	}
	/* Their outcome is unknown: spooled, they are stored on replay, or
	 * found to be duplicates if their transaction did commit. */
	TAILQ_FOREACH(b, &commit.batches, entry) {
		if (b->abandoned)
			continue;
		b->abandoned = true;
		if (b->recs == NULL)
			spool_or_refuse(b->subs, b->n);
	}
}

void
commit_stop(void)
{
	event_free(commit.flush);
	event_free(commit.wait);
	event_free(commit.tick);
	commit.flush = commit.wait = commit.tick = NULL;
}
