/* The audit log of administrative actions (sql/010_privacy.sql): one row
 * per action, in the action's own transaction. */
#ifndef SIPAS_AUDIT_H
#define SIPAS_AUDIT_H

#include <getopt.h>
#include <stdbool.h>

#include <libpq-fe.h>

/* Inserts one row in conn's current transaction: action, its arguments as
 * NULL-terminated pairs of name and value (a NULL value is left out; never
 * a secret), outcome "ok" or "failed", a detail. Exits on failure. */
void audit_record(PGconn *conn, const char *action, const char *outcome,
    const char *detail, const char *const *args);

/* BEGIN, and the action under way: should sipas exit before audit_commit
 * (cli_die), its transaction is rolled back and the failure recorded, with
 * the message, in a transaction of its own. args must live until then. */
void audit_begin(PGconn *conn, const char *action, const char *const *args);
/* audit_begin with the arguments of the command line argv (after getopt):
 * each long option of longopts by its name (one without a value: "yes"),
 * the others named by the comma-separated list positional ("code",
 * "center,code"). --db is left out: a connection string may hold a
 * password. */
void audit_begin_argv(PGconn *conn, const char *action, const char *positional,
    int argc, char **argv, const struct option *longopts);

/* Records the action under way as started and COMMITs it, then BEGINs
 * again: for an action whose effect leaves before its outcome is known (an
 * export's rows), so that nothing leaves unrecorded. Its outcome follows. */
void audit_started(PGconn *conn);

/* Records the action under way as done, with a detail, and COMMITs. */
void audit_commit(PGconn *conn, const char *detail);

/* Whether the database has the audit log yet (db init, before 010). */
bool audit_log_exists(PGconn *conn);

#endif
