/* The audit log of administrative actions (sql/010_privacy.sql): one row
 * per action, in the action's own transaction. */
#ifndef SIPAS_AUDIT_H
#define SIPAS_AUDIT_H

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
/* Records the action under way as done, with a detail, and COMMITs. */
void audit_commit(PGconn *conn, const char *detail);

/* Whether the database has the audit log yet (db init, before 010). */
bool audit_log_exists(PGconn *conn);

#endif
