/* The database connections. A few connections, each non-blocking and in
 * pipeline mode, so that one query waiting on a lock (a kiosk retrying an id
 * whose first attempt is still in flight) does not hold up the others: a new
 * query goes to the ready connection with the fewest queries in flight.
 * Connecting is asynchronous too; a lost connection is retried with a
 * growing delay, and its queries in flight fail as transient, so that
 * what they were storing goes to the spool.
 *
 * A connection that stops answering (a backend stopped, a standby that
 * hangs, a network that drops everything) is lost too: each connection has
 * one timer, set for the deadline of the reply due first, db_timeout after
 * its query was sent. Replies come in order, so that is its oldest query,
 * or the oldest ordinary one waiting behind a slow one.
 *
 * Under failover (a multi-host conninfo with target_session_attrs=
 * read-write) a connection whose server no longer takes writes, a standby
 * after a demotion (25006) or a server shutting down (57P01-57P03), is
 * dropped as soon as it says so, never given another query: the
 * reconnection looks for the server that is primary now. sipasd walks the
 * hosts of such a conninfo itself, one at a time, each given db_timeout:
 * libpq's own walk applies connect_timeout only when it blocks, and a
 * first host that accepts and never answers would use up every attempt.
 *
 * A synchronous standby that stops answering holds every commit: the
 * deadline gives the connection up, and its backend, which does not
 * notice its client leaving while it waits, is cancelled. A wait that is
 * cancelled (by us or anyone) ends in success with a WARNING, the commit
 * local only: a query that draws that WARNING is answered as if its
 * connection broke, its outcome unknown, so that it is spooled and not
 * acknowledged as stored. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "clock.h"
#include "conninfo.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "sipasd.h"
#include "xmalloc.h"

/* The rollup's folding (db_query_slow) does bounded work, a slice of the
 * queue and a count of the rest, but may wait on locks or a cold cache for
 * seconds: it is given this many times db_timeout, and a connection whose
 * backend hangs in it is still freed within minutes (100 s by default). */
#define DB_SLOW_TIMEOUT_FACTOR 10

/* Cancel requests under way at once; more (a server that answers none)
 * are not sent: the backends then wait for their standby. */
#define DB_CANCELS_MAX 64

enum dbconn_state {
	DBCONN_IDLE,		/* waiting for the reconnect delay */
	DBCONN_CONNECTING,	/* PQconnectPoll in progress */
	DBCONN_READY,		/* pipeline mode, accepting queries */
};

struct db_query {
	STAILQ_ENTRY(db_query) entry;	/* on dbconn.inflight */
	db_cb *cb;
	void *arg;
	PGresult *result;	/* its first error, else its first result */
	struct timespec sent;
	bool slow;		/* db_query_slow */
	bool warned;		/* a WARNING came before its Sync */
};

struct dbconn {
	unsigned no;		/* for log lines */
	PGconn *conn;
	enum dbconn_state state;
	struct event *io;	/* connecting: the one event PQconnectPoll asks for */
	struct event *rd;	/* ready: persistent read */
	struct event *wr;	/* ready: write, while PQflush has more to send */
	struct event *timer;	/* IDLE: the reconnect delay; CONNECTING: the
				 * connect timeout; READY: the deadline of the
				 * reply due first, while queries are in flight */
	struct event *flush;	/* one flush per loop iteration, not per query */
	bool flush_scheduled;
	STAILQ_HEAD(, db_query) inflight;
	unsigned ninflight;
	unsigned nslow;		/* of them, slow: queries behind them wait */
	int delay;		/* seconds before the next connection attempt */
	bool retiring;		/* READY, but its server takes no more writes:
				 * dropped once its current reply is read */
	unsigned host;		/* CONNECTING: the host of db.conninfo tried */
};

struct statement {
	const char *name;
	const char *sql;
};

static struct {
	struct event_base *base;
	struct conninfo conninfo;	/* one option set for each host */
	struct statement statements[16];
	unsigned nstatements;
	struct dbconn *conns;
	unsigned nconns;
	char error[256];	/* the last failure, "" while one is ready */
} db;

static void dbconn_connect(struct dbconn *dc);
static void connect_failed(struct dbconn *dc, const char *what);

static void
fail_inflight(struct dbconn *dc, const char *why)
{
	struct db_failure f = { why, true, "" };
	struct db_query *q;

	while ((q = STAILQ_FIRST(&dc->inflight)) != NULL) {
		STAILQ_REMOVE_HEAD(&dc->inflight, entry);
		dc->ninflight--;
		dc->nslow -= q->slow;
		PQclear(q->result);
		q->cb(NULL, &f, q->arg);
		free(q);
	}
}

/* The server will not take this connection's writes again: it is a
 * standby now (read_only_sql_transaction), or an administrator or a crash
 * of another backend is shutting it down (admin_shutdown, crash_shutdown,
 * cannot_connect_now). */
static bool
server_gone(const char *sqlstate)
{
	return sqlstate != NULL && (strcmp(sqlstate, "25006") == 0 ||
	    strcmp(sqlstate, "57P01") == 0 || strcmp(sqlstate, "57P02") == 0 ||
	    strcmp(sqlstate, "57P03") == 0);
}

/* Connection failures (08), operator intervention such as a shutdown (57),
 * insufficient resources (53), system errors (58), serialization failures
 * and deadlocks (40001, 40P01), and a server that has become read-only
 * (25006), whose primary will take the same query. */
static bool
transient(const char *sqlstate)
{
	if (sqlstate == NULL)
		return true;
	return strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57", 2) == 0 ||
	    strncmp(sqlstate, "53", 2) == 0 || strncmp(sqlstate, "58", 2) == 0 ||
	    strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
	    strcmp(sqlstate, "25006") == 0;
}

static atomic_uint cancels_running;

static void *
cancel_run(void *arg)
{
	PGcancel *cancel = arg;
	char err[256];

	(void)PQcancel(cancel, err, sizeof err);	/* nothing more to try */
	PQfreeCancel(cancel);
	atomic_fetch_sub(&cancels_running, 1);
	return NULL;
}

/* PQcancel blocks (it opens a connection of its own to the server): it
 * runs on a thread of its own, with every signal blocked, which stay the
 * event loop's. */
static void
cancel_backend(PGconn *conn)
{
	PGcancel *cancel;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;

	if (atomic_fetch_add(&cancels_running, 1) >= DB_CANCELS_MAX ||
	    (cancel = PQgetCancel(conn)) == NULL) {
		atomic_fetch_sub(&cancels_running, 1);
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, cancel_run, cancel) != 0) {
		PQfreeCancel(cancel);
		atomic_fetch_sub(&cancels_running, 1);
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
close_conn(struct dbconn *dc)
{
	struct event **evs[] = { &dc->io, &dc->rd, &dc->wr };

	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	/* Its backend may be waiting for a synchronous standby. */
	if (dc->state == DBCONN_READY && dc->ninflight > 0)
		cancel_backend(dc->conn);
	if (dc->conn != NULL)
		PQfinish(dc->conn);
	dc->conn = NULL;
	dc->state = DBCONN_IDLE;
	dc->retiring = false;
}

static void
lost(struct dbconn *dc, const char *what)
{
	struct timeval tv = { dc->delay, 0 };
	const char *why = dc->conn ? PQerrorMessage(dc->conn) : "no connection";

	snprintf(db.error, sizeof db.error, "%s%s%s", what, why[0] ? ": " : "",
	    why);
	db.error[strcspn(db.error, "\n")] = '\0';
	log_error("database connection %u %s; reconnecting in %d s", dc->no,
	    db.error, dc->delay);
	close_conn(dc);
	dc->host = 0;	/* the next attempt walks the list from its start */
	evtimer_add(dc->timer, &tv);
	/* Short enough that service resumes soon after PostgreSQL does. */
	dc->delay = dc->delay < 4 ? dc->delay * 2 : 5;
	fail_inflight(dc, db.error);
}

static void
flush(struct dbconn *dc)
{
	int r = PQflush(dc->conn);

	if (r == -1)
		lost(dc, "write failed");
	else if (r == 1)
		event_add(dc->wr, NULL);
}

/* Seconds until q's deadline, negative once past. */
static double
time_left(const struct db_query *q)
{
	double allowed = (double)server.cfg->db_timeout *
	    (q->slow ? DB_SLOW_TIMEOUT_FACTOR : 1);

	return allowed - clock_seconds_since(&q->sent);
}

/* Sets the timer for the reply due first; replies come in order, so that
 * is the oldest query's, unless an ordinary query waits behind slow ones
 * and its own deadline comes earlier. Called whenever the oldest query or
 * the oldest ordinary one may have changed. */
static void
arm_deadline(struct dbconn *dc)
{
	struct db_query *first = STAILQ_FIRST(&dc->inflight), *q;
	double left;
	struct timeval tv;

	if (first == NULL) {
		evtimer_del(dc->timer);
		return;
	}
	left = time_left(first);
	for (q = first; q != NULL && q->slow; q = STAILQ_NEXT(q, entry))
		;
	if (q != NULL && q != first && time_left(q) < left)
		left = time_left(q);
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	evtimer_add(dc->timer, &tv);
}

static bool
result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

static void
complete(struct dbconn *dc, struct db_query *q)
{
	PGresult *res = q->result;
	char msg[256];

	STAILQ_REMOVE_HEAD(&dc->inflight, entry);
	dc->ninflight--;
	dc->nslow -= q->slow;
	metrics_db_round_trip(clock_seconds_since(&q->sent));
	if (res != NULL && result_ok(res) && !q->warned) {
		q->cb(res, NULL, q->arg);
	} else if (res != NULL && result_ok(res)) {
		struct db_failure f = { "the server warned before committing: "
		    "the outcome is unknown", true, "" };
		q->cb(NULL, &f, q->arg);
	} else {
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
		    NULL;
		struct db_failure f = { msg, transient(state), "" };
		/* Before the callback, which may send the next query. */
		if (server_gone(state))
			dc->retiring = true;
		snprintf(f.sqlstate, sizeof f.sqlstate, "%s", state ? state : "");
		snprintf(msg, sizeof msg, "%s", res ? PQresultErrorMessage(res) :
		    "no result");
		msg[strcspn(msg, "\n")] = '\0';
		q->cb(NULL, &f, q->arg);
	}
	PQclear(res);
	free(q);
}

/* libpq parses replies in order, and a commit's WARNING comes after the
 * query's result and before its Sync: it is the oldest query's. A commit
 * whose wait for the synchronous standby was cancelled is on the primary
 * only: its query is failed as if its connection broke. */
static void
on_notice(void *arg, const PGresult *res)
{
	struct dbconn *dc = arg;
	struct db_query *q = STAILQ_FIRST(&dc->inflight);
	const char *severity = PQresultErrorField(res,
	    PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (severity == NULL || strcmp(severity, "WARNING") != 0)
		return;
	log_warn("database connection %u: the server warns: %s", dc->no,
	    message ? message : "?");
	/* PostgreSQL's words (lc_messages must be English for this to work);
	 * other warnings, such as one on every transaction near wraparound,
	 * say nothing of a commit's outcome. */
	if (q != NULL && message != NULL &&
	    strstr(message, "wait for synchronous replication") != NULL)
		q->warned = true;
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn *dc = arg;
	PGresult *res;
	bool completed = false;

	if (PQconsumeInput(dc->conn) == 0) {
		lost(dc, "read failed");
		return;
	}
	/* A callback may send a query, or lose this connection. */
	while (dc->state == DBCONN_READY && !STAILQ_EMPTY(&dc->inflight) &&
	    !PQisBusy(dc->conn)) {
		struct db_query *q = STAILQ_FIRST(&dc->inflight);

		if ((res = PQgetResult(dc->conn)) == NULL)
			continue;	/* end of this query's results; its Sync is next */
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			/* The implicit transaction has ended, committed unless
			 * an error came before. */
			PQclear(res);
			complete(dc, q);
			completed = true;
		} else if (q->result == NULL ||
		    (result_ok(q->result) && !result_ok(res))) {
			/* An error after the rows, raised at COMMIT (a deferred
			 * constraint, a serialization failure), means the rows
			 * were rolled back: it wins. */
			PQclear(q->result);
			q->result = res;
		} else {
			PQclear(res);
		}
	}
	if (dc->state == DBCONN_READY && dc->retiring)
		lost(dc, "server no longer takes writes");
	else if (dc->state == DBCONN_READY && PQstatus(dc->conn) == CONNECTION_BAD)
		lost(dc, "connection lost");
	else if (dc->state == DBCONN_READY && completed)
		arm_deadline(dc);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn *dc = arg;

	dc->flush_scheduled = false;
	if (dc->state == DBCONN_READY)
		flush(dc);
}

static void
on_prepared(PGresult *res, const struct db_failure *f, void *arg)
{
	if (res == NULL && !f->transient)
		log_error("database: cannot prepare %s: %s; has 'sipas db init' "
		    "been run?", (const char *)arg, f->message);
}

static void
on_connect_io(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn *dc = arg;
	PostgresPollingStatusType st = PQconnectPoll(dc->conn);
	short wait;

	switch (st) {
	case PGRES_POLLING_READING:
	case PGRES_POLLING_WRITING:
		wait = st == PGRES_POLLING_READING ? EV_READ : EV_WRITE;
		event_free(dc->io);
		/* The socket can change between attempts at several hosts. */
		dc->io = event_new(db.base, PQsocket(dc->conn), wait,
		    on_connect_io, dc);
		event_add(dc->io, NULL);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		connect_failed(dc, "connection failed");
		return;
	}
	if (PQsetnonblocking(dc->conn, 1) != 0 ||
	    PQenterPipelineMode(dc->conn) != 1) {
		lost(dc, "cannot enter pipeline mode");
		return;
	}
	/* Parsed and planned once per connection, not once per query; the
	 * queries that follow in the pipeline find them ready. */
	for (unsigned i = 0; i < db.nstatements; i++) {
		struct db_query *q = xcalloc(1, sizeof *q);
		if (PQsendPrepare(dc->conn, db.statements[i].name,
		    db.statements[i].sql, 0, NULL) != 1 ||
		    PQpipelineSync(dc->conn) != 1) {
			free(q);
			lost(dc, "cannot prepare statements");
			return;
		}
		q->cb = on_prepared;
		q->arg = (void *)db.statements[i].name;
		clock_gettime(CLOCK_MONOTONIC, &q->sent);
		STAILQ_INSERT_TAIL(&dc->inflight, q, entry);
		dc->ninflight++;
	}
	event_free(dc->io);
	dc->io = NULL;
	dc->rd = event_new(db.base, PQsocket(dc->conn), EV_READ | EV_PERSIST,
	    on_read, dc);
	dc->wr = event_new(db.base, PQsocket(dc->conn), EV_WRITE, on_write, dc);
	event_add(dc->rd, NULL);
	dc->state = DBCONN_READY;
	arm_deadline(dc);	/* for the statements being prepared */
	dc->delay = 1;
	db.error[0] = '\0';
	log_info("database connection %u ready (server %d, database %s)", dc->no,
	    PQserverVersion(dc->conn), PQdb(dc->conn));
}

static void
dbconn_connect(struct dbconn *dc)
{
	struct timeval timeout = { (time_t)server.cfg->db_timeout, 0 };

	/* libpq's connect_timeout does not apply to PQconnectPoll: our own. */
	evtimer_add(dc->timer, &timeout);
	dc->state = DBCONN_CONNECTING;
	dc->conn = PQconnectStartParams(db.conninfo.keywords,
	    db.conninfo.hosts[dc->host], 0);
	if (dc->conn == NULL || PQstatus(dc->conn) == CONNECTION_BAD) {
		connect_failed(dc, "connection failed");
		return;
	}
	PQsetNoticeReceiver(dc->conn, on_notice, dc);
	dc->io = event_new(db.base, PQsocket(dc->conn), EV_WRITE, on_connect_io, dc);
	event_add(dc->io, NULL);
}

/* The next host of the list at once, the first again after a delay. */
static void
connect_failed(struct dbconn *dc, const char *what)
{
	char why[256];

	if (dc->host + 1 < db.conninfo.nhosts) {
		snprintf(why, sizeof why, "%s", dc->conn ? PQerrorMessage(dc->conn) :
		    "");
		why[strcspn(why, "\n")] = '\0';
		log_warn("database connection %u: %s with host %u of %u%s%s; "
		    "trying the next", dc->no, what, dc->host + 1, db.conninfo.nhosts,
		    why[0] ? ": " : "", why);
		close_conn(dc);
		dc->host++;
		dbconn_connect(dc);
		return;
	}
	lost(dc, what);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn *dc = arg;
	char what_failed[64];

	switch (dc->state) {
	case DBCONN_IDLE:
		dbconn_connect(dc);
		break;
	case DBCONN_CONNECTING:
		connect_failed(dc, "connection timed out");
		break;
	case DBCONN_READY:
		metrics_db_timeout();
		snprintf(what_failed, sizeof what_failed, "gave no reply within "
		    "db_timeout (%llds)", server.cfg->db_timeout);
		lost(dc, what_failed);
		break;
	}
}

void
db_prepare(const char *name, const char *sql)
{
	if (db.nstatements == sizeof db.statements / sizeof db.statements[0])
		fatalx("db_prepare: too many statements");
	for (unsigned i = 0; i < db.nstatements; i++)
		if (strcmp(db.statements[i].name, name) == 0)
			fatalx("db_prepare: statement %s prepared twice", name);
	db.statements[db.nstatements].name = name;
	db.statements[db.nstatements++].sql = sql;
}

void
db_start(struct event_base *base, const char *conninfo, unsigned nconns)
{
	char err[256];

	if (!conninfo_split(&db.conninfo, conninfo, err, sizeof err))
		fatalx("db: %s", err);
	db.base = base;
	db.nconns = nconns;
	db.conns = xcalloc(nconns, sizeof *db.conns);
	snprintf(db.error, sizeof db.error, "connecting");
	for (unsigned i = 0; i < nconns; i++) {
		struct dbconn *dc = &db.conns[i];
		dc->no = i + 1;
		dc->delay = 1;
		STAILQ_INIT(&dc->inflight);
		dc->timer = evtimer_new(base, on_timer, dc);
		dc->flush = event_new(base, -1, 0, on_flush, dc);
		dbconn_connect(dc);
	}
}

void
db_stop(void)
{
	snprintf(db.error, sizeof db.error, "shutting down");
	for (unsigned i = 0; i < db.nconns; i++) {
		struct dbconn *dc = &db.conns[i];
		close_conn(dc);
		fail_inflight(dc, db.error);
		event_free(dc->timer);
		event_free(dc->flush);
	}
	free(db.conns);
	db.conns = NULL;
	db.nconns = 0;
	conninfo_free(&db.conninfo);
}

/* The ready connection with the fewest queries in flight, avoiding those
 * busy with a slow one, which would hold up everything queued behind it. */
static struct dbconn *
least_busy(void)
{
	struct dbconn *best = NULL;

	for (unsigned i = 0; i < db.nconns; i++) {
		struct dbconn *dc = &db.conns[i];
		if (dc->state != DBCONN_READY || dc->retiring)
			continue;
		if (best == NULL || (dc->nslow == 0) > (best->nslow == 0) ||
		    ((dc->nslow == 0) == (best->nslow == 0) && dc->ninflight < best->ninflight))
			best = dc;
	}
	return best;
}

bool
db_ready(void)
{
	return least_busy() != NULL;
}

const char *
db_error(void)
{
	return db.error[0] ? db.error : "ok";
}

unsigned
db_inflight(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < db.nconns; i++)
		n += db.conns[i].ninflight;
	return n;
}

static bool
send_query(const char *name, int nparams, const char *const *values,
    const int *lengths, const int *formats, db_cb *cb, void *arg, bool slow)
{
	struct dbconn *dc = least_busy();
	struct db_query *q;
	bool first_due;

	if (dc == NULL)
		return false;
	if (PQsendQueryPrepared(dc->conn, name, nparams, values, lengths,
	    formats, 0) != 1 || PQpipelineSync(dc->conn) != 1) {
		lost(dc, "send failed");
		return false;
	}
	q = xcalloc(1, sizeof *q);
	q->cb = cb;
	q->arg = arg;
	q->slow = slow;
	clock_gettime(CLOCK_MONOTONIC, &q->sent);
	/* Its deadline comes first if nothing else is in flight, or if it is
	 * the first ordinary query behind slow ones. */
	first_due = dc->ninflight == 0 || (!slow && dc->ninflight == dc->nslow);
	STAILQ_INSERT_TAIL(&dc->inflight, q, entry);
	dc->ninflight++;
	dc->nslow += slow;
	if (first_due)
		arm_deadline(dc);
	if (!dc->flush_scheduled) {
		dc->flush_scheduled = true;
		event_active(dc->flush, 0, 0);
	}
	return true;
}

bool
db_query(const char *name, int nparams, const char *const *values,
    const int *lengths, const int *formats, db_cb *cb, void *arg)
{
	return send_query(name, nparams, values, lengths, formats, cb, arg, false);
}

bool
db_query_slow(const char *name, int nparams, const char *const *values,
    db_cb *cb, void *arg)
{
	return send_query(name, nparams, values, NULL, NULL, cb, arg, true);
}
