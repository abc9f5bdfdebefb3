/* libpq inside the event loop: a few non-blocking connections in pipeline
 * mode, each with a FIFO of queries in flight, each query answered after its
 * own Sync, that is after its implicit transaction has committed, or with
 * the error that ended it, or with a transient failure when no reply came
 * within db_timeout. */
#ifndef SIPASD_DB_H
#define SIPASD_DB_H

#include <stdbool.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

struct db_failure {
	const char *message;
	/* The database was unreachable, shutting down, overloaded or silent
	 * past db_timeout, rather than refusing this query: the same query
	 * may succeed later (and, after a timeout, may have committed). */
	bool transient;
	/* The error's SQLSTATE when the database reported one, else "". */
	char sqlstate[6];
};

/* res is NULL on failure, with f saying why; res is freed after the
 * callback returns. Called exactly once for every accepted query. */
typedef void db_cb(PGresult *res, const struct db_failure *f, void *arg);

/* Registers a statement to be prepared on every connection as it opens;
 * call before db_start. Queries name their statement. A name is its
 * module's name, an underscore and what it does (commit_insert), so that
 * no two modules pick the same; one prepared twice is a fatal bug. */
void db_prepare(const char *name, const char *sql);
void db_start(struct event_base *base, const char *conninfo, unsigned nconns);
void db_stop(void);
bool db_ready(void);
/* The last connection failure, for /healthz and log lines. */
const char *db_error(void);
/* Sends a query of the prepared statement name; false (and no callback)
 * when the database is not ready. formats may be NULL for all-text
 * parameters. */
bool db_query(const char *name, int nparams, const char *const *values,
    const int *lengths, const int *formats, db_cb *cb, void *arg)
    __attribute__((warn_unused_result));
/* The same for a query that may take seconds: while it runs, other queries
 * go to other connections when there are any, and its reply may take ten
 * times db_timeout. */
bool db_query_slow(const char *name, int nparams, const char *const *values,
    db_cb *cb, void *arg) __attribute__((warn_unused_result));
unsigned db_inflight(void);

#endif
