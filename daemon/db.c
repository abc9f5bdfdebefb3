/* The database connection. Connecting is asynchronous too, and a lost
 * connection is retried with a growing delay; queries in flight at the loss
 * fail, and their requests are answered 503 so that the kiosk retries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "db.h"
#include "log.h"
#include "xmalloc.h"

enum db_state {
	DB_IDLE,		/* waiting for the retry timer */
	DB_CONNECTING,		/* PQconnectPoll in progress */
	DB_READY,		/* pipeline mode, accepting queries */
};

struct db_query {
	STAILQ_ENTRY(db_query) entry;	/* on db.inflight */
	db_cb *cb;
	void *arg;
	PGresult *result;	/* the query's first result, until its Sync */
};

static struct {
	struct event_base *base;
	char *conninfo;
	PGconn *conn;
	enum db_state state;
	struct event *io;	/* connecting: the one event PQconnectPoll asks for */
	struct event *rd;	/* ready: persistent read */
	struct event *wr;	/* ready: write, while PQflush has more to send */
	struct event *retry;
	struct event *flush;	/* one flush per loop iteration, not per query */
	bool flush_scheduled;
	STAILQ_HEAD(, db_query) inflight;
	unsigned ninflight;
	int delay;		/* seconds before the next connection attempt */
	char error[256];
} db;

static void db_connect(void);

static void
set_error(const char *what, const char *detail)
{
	char *nl;

	snprintf(db.error, sizeof db.error, "%s: %s", what, detail);
	if ((nl = strchr(db.error, '\n')) != NULL)
		*nl = '\0';
}

static void
fail_inflight(const char *why)
{
	struct db_query *q;

	while ((q = STAILQ_FIRST(&db.inflight)) != NULL) {
		STAILQ_REMOVE_HEAD(&db.inflight, entry);
		db.ninflight--;
		PQclear(q->result);
		q->cb(NULL, why, q->arg);
		free(q);
	}
}

static void
close_conn(void)
{
	struct event **evs[] = { &db.io, &db.rd, &db.wr };

	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	if (db.conn != NULL)
		PQfinish(db.conn);
	db.conn = NULL;
	db.state = DB_IDLE;
}

static void
disconnect(void)
{
	struct timeval tv = { db.delay, 0 };

	close_conn();
	fail_inflight(db.error);
	evtimer_add(db.retry, &tv);
	db.delay = db.delay < 8 ? db.delay * 2 : 10;
}

static void
lost(const char *what)
{
	set_error(what, db.conn ? PQerrorMessage(db.conn) : "no connection");
	log_error("database %s; reconnecting in %d s", db.error, db.delay);
	disconnect();
}

static void
flush(void)
{
	int r = PQflush(db.conn);

	if (r == -1)
		lost("write failed");
	else if (r == 1)
		event_add(db.wr, NULL);
}

static void
complete(struct db_query *q)
{
	PGresult *res = q->result;
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	STAILQ_REMOVE_HEAD(&db.inflight, entry);
	db.ninflight--;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		q->cb(res, NULL, q->arg);
	} else {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", res ? PQresultErrorMessage(res) :
		    "no result");
		msg[strcspn(msg, "\n")] = '\0';
		q->cb(NULL, msg, q->arg);
	}
	PQclear(res);
	free(q);
}

static void
read_results(void)
{
	PGresult *res;

	if (PQconsumeInput(db.conn) == 0) {
		lost("read failed");
		return;
	}
	/* A callback may send a query, or lose the connection. */
	while (db.state == DB_READY && !STAILQ_EMPTY(&db.inflight) &&
	    !PQisBusy(db.conn)) {
		struct db_query *q = STAILQ_FIRST(&db.inflight);

		if ((res = PQgetResult(db.conn)) == NULL)
			continue;	/* end of this query's results; its Sync is next */
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			complete(q);
		} else if (q->result == NULL) {
			q->result = res;
		} else {
			PQclear(res);
		}
	}
	if (db.state == DB_READY && PQstatus(db.conn) == CONNECTION_BAD)
		lost("connection lost");
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	read_results();
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	flush();
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	db.flush_scheduled = false;
	if (db.state == DB_READY)
		flush();
}

static void
on_connect_io(evutil_socket_t fd, short what, void *arg)
{
	PostgresPollingStatusType st = PQconnectPoll(db.conn);
	short wait;

	switch (st) {
	case PGRES_POLLING_READING:
	case PGRES_POLLING_WRITING:
		wait = st == PGRES_POLLING_READING ? EV_READ : EV_WRITE;
		event_free(db.io);
		/* The socket can change between attempts at several hosts. */
		db.io = event_new(db.base, PQsocket(db.conn), wait, on_connect_io, NULL);
		event_add(db.io, NULL);
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		lost("connection failed");
		return;
	}
	if (PQsetnonblocking(db.conn, 1) != 0 || PQenterPipelineMode(db.conn) != 1) {
		lost("cannot enter pipeline mode");
		return;
	}
	event_free(db.io);
	db.io = NULL;
	db.rd = event_new(db.base, PQsocket(db.conn), EV_READ | EV_PERSIST, on_read, NULL);
	db.wr = event_new(db.base, PQsocket(db.conn), EV_WRITE, on_write, NULL);
	event_add(db.rd, NULL);
	evtimer_del(db.retry);
	db.state = DB_READY;
	db.delay = 1;
	db.error[0] = '\0';
	log_info("database connected (server %d, database %s)",
	    PQserverVersion(db.conn), PQdb(db.conn));
}

static void
db_connect(void)
{
	struct timeval timeout = { 10, 0 };

	/* libpq's connect_timeout does not apply to PQconnectPoll: our own. */
	evtimer_add(db.retry, &timeout);
	db.state = DB_CONNECTING;
	db.conn = PQconnectStart(db.conninfo);
	if (db.conn == NULL || PQstatus(db.conn) == CONNECTION_BAD) {
		lost("connection failed");
		return;
	}
	db.io = event_new(db.base, PQsocket(db.conn), EV_WRITE, on_connect_io, NULL);
	event_add(db.io, NULL);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	if (db.state == DB_CONNECTING)
		lost("connection timed out");
	else
		db_connect();
}

void
db_start(struct event_base *base, const char *conninfo)
{
	db.base = base;
	db.conninfo = xstrdup(conninfo);
	db.delay = 1;
	STAILQ_INIT(&db.inflight);
	db.retry = evtimer_new(base, on_retry, NULL);
	db.flush = event_new(base, -1, 0, on_flush, NULL);
	snprintf(db.error, sizeof db.error, "connecting");
	db_connect();
}

void
db_stop(void)
{
	snprintf(db.error, sizeof db.error, "shutting down");
	close_conn();
	fail_inflight(db.error);
	if (db.retry != NULL)
		event_free(db.retry);
	if (db.flush != NULL)
		event_free(db.flush);
	db.retry = db.flush = NULL;
	free(db.conninfo);
	db.conninfo = NULL;
}

bool
db_ready(void)
{
	return db.state == DB_READY;
}

const char *
db_error(void)
{
	return db.error[0] ? db.error : "ok";
}

unsigned
db_inflight(void)
{
	return db.ninflight;
}

bool
db_query(const char *sql, int nparams, const char *const *values,
    const int *lengths, const int *formats, db_cb *cb, void *arg)
{
	struct db_query *q;

	if (db.state != DB_READY)
		return false;
	if (PQsendQueryParams(db.conn, sql, nparams, NULL, values, lengths,
	    formats, 0) != 1 || PQpipelineSync(db.conn) != 1) {
		lost("send failed");
		return false;
	}
	q = xcalloc(1, sizeof *q);
	q->cb = cb;
	q->arg = arg;
	STAILQ_INSERT_TAIL(&db.inflight, q, entry);
	db.ninflight++;
	if (!db.flush_scheduled) {
		db.flush_scheduled = true;
		event_active(db.flush, 0, 0);
	}
	return true;
}
