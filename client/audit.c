/* The audit log's writer, which every administrative command calls: who
 * (the database fills in its roles; sipas says the operating-system user
 * and host), what, the outcome. The database numbers, times and chains
 * the rows (sql/010_privacy.sql). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "sipas.h"
#include "xmalloc.h"

#define AUDIT_MAX_ARGS 16

static struct {
	PGconn *conn;
	const char *action;
	const char *const *args;
} audit_pending;

static const char *
audit_os_user(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL)
		return pw->pw_name;
	snprintf(buf, len, "uid %u", (unsigned)getuid());
	return buf;
}

/* The insert of audit_record; false with the message in err. */
static bool
audit_insert(PGconn *conn, const char *action, const char *outcome,
    const char *detail, const char *const *args, char *err, size_t errlen)
{
	const char *params[5 + 2 * AUDIT_MAX_ARGS];
	char user[32], host[256] = "";
	int n = 5, nargs = 0;
	PGresult *res;
	bool ok;
	char *sql;
	size_t len;
	FILE *f = open_memstream(&sql, &len);

	gethostname(host, sizeof host - 1);
	params[0] = audit_os_user(user, sizeof user);
	params[1] = host;
	params[2] = action;
	params[3] = outcome;
	params[4] = detail != NULL ? detail : "";
	fputs("SELECT sipas_audit_record($1, $2, $3, $4, $5, jsonb_build_object(", f);
	for (size_t i = 0; args != NULL && args[i] != NULL; i += 2) {
		if (args[i + 1] == NULL)
			continue;
		if (nargs++ == AUDIT_MAX_ARGS)
			abort();	/* a bug: a command passes more */
		fprintf(f, "%s$%d::text, $%d::text", nargs > 1 ? ", " : "", n + 1, n + 2);
		params[n++] = args[i];
		params[n++] = args[i + 1];
	}
	fputs("))", f);
	fclose(f);
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(err, errlen, "%.*s", (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
	PQclear(res);
	free(sql);
	return ok;
}

void
audit_record(PGconn *conn, const char *action, const char *outcome,
    const char *detail, const char *const *args)
{
	char err[512];

	if (!audit_insert(conn, action, outcome, detail, args, err, sizeof err))
		cli_die("recording %s in the audit log: %s%s", action, err,
		    strstr(err, "sipas_audit_record") ? " (run 'sipas db init')" : "");
}

/* At exit with an action under way: sipas failed (cli_die) before
 * audit_commit. The transaction is rolled back, then the failure recorded
 * on its own; if even that fails (the database is gone), say so. */
static void
audit_at_exit(void)
{
	PGconn *conn = audit_pending.conn;
	PGresult *res;
	char err[512];

	if (conn == NULL)
		return;
	audit_pending.conn = NULL;
	while ((res = PQgetResult(conn)) != NULL)	/* a query under way */
		PQclear(res);
	PQclear(PQexec(conn, "ROLLBACK"));
	if (!audit_insert(conn, audit_pending.action, "failed", cli_last_error,
	    audit_pending.args, err, sizeof err))
		fprintf(stderr, "sipas: the failure of %s could not be recorded in "
		    "the audit log: %s\n", audit_pending.action, err);
}

void
audit_begin(PGconn *conn, const char *action, const char *const *args)
{
	static bool registered;

	if (!registered) {
		atexit(audit_at_exit);
		registered = true;
	}
	PQclear(cli_exec(conn, "BEGIN", "BEGIN", 0, NULL));
	audit_pending.conn = conn;
	audit_pending.action = action;
	audit_pending.args = args;
}

void
audit_started(PGconn *conn)
{
	audit_record(conn, audit_pending.action, "started", "", audit_pending.args);
	PQclear(cli_exec(conn, "COMMIT", "COMMIT", 0, NULL));
	PQclear(cli_exec(conn, "BEGIN", "BEGIN", 0, NULL));
}

void
audit_commit(PGconn *conn, const char *detail)
{
	audit_pending.conn = NULL;
	audit_record(conn, audit_pending.action, "ok", detail, audit_pending.args);
	PQclear(cli_exec(conn, "COMMIT", "COMMIT", 0, NULL));
}

/* The long option that arg (without "--", up to len) names, as getopt_long
 * takes it: exactly, or the first it abbreviates. */
static const struct option *
audit_option(const struct option *longopts, const char *arg, size_t len)
{
	const struct option *prefix = NULL;

	for (const struct option *o = longopts; o->name != NULL; o++) {
		if (strncmp(o->name, arg, len) != 0)
			continue;
		if (o->name[len] == '\0')
			return o;
		if (prefix == NULL)
			prefix = o;
	}
	return prefix;
}

void
audit_begin_argv(PGconn *conn, const char *action, const char *positional,
    int argc, char **argv, const struct option *longopts)
{
	static const char *args[2 * AUDIT_MAX_ARGS + 1];
	static char *names[AUDIT_MAX_ARGS];
	char *list = xstrdup(positional), *rest = list, *word;
	int n = 0, npos = 0, next = 0;

	while ((word = strsep(&rest, ",")) != NULL && npos < AUDIT_MAX_ARGS)
		names[npos++] = xstrdup(word);
	free(list);
	for (int i = 1; i < argc && n < 2 * AUDIT_MAX_ARGS; i++) {
		const char *a = argv[i], *eq, *value = "yes";
		const struct option *o;
		size_t len;

		if (strcmp(a, "--") == 0)
			continue;
		if (strncmp(a, "--", 2) != 0) {
			if (next < npos)
				args[n++] = names[next++];
			else
				args[n++] = "arg";
			args[n++] = a;
			continue;
		}
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a - 2) : strlen(a) - 2;
		o = audit_option(longopts, a + 2, len);
		if (o != NULL && o->has_arg == required_argument)
			value = eq != NULL ? eq + 1 : i + 1 < argc ? argv[++i] : "";
		if (o != NULL && strcmp(o->name, "db") == 0)
			continue;
		args[n++] = o != NULL ? o->name : "unknown option";
		args[n++] = value;
	}
	args[n] = NULL;
	audit_begin(conn, action, args);
}

bool
audit_log_exists(PGconn *conn)
{
	PGresult *res = cli_exec(conn, "looking for the audit log",
	    "SELECT to_regclass('audit_log') IS NOT NULL", 0, NULL);
	bool yes = PQgetvalue(res, 0, 0)[0] == 't';

	PQclear(res);
	return yes;
}
