/* sipas grant and sipas revoke: a database login given or denied one of
 * sipas's own roles, the change and its audit row in one transaction
 * (docs/privacy.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sipas.h"
#include "xmalloc.h"

/* The group roles the migrations define (sql/004_roles.sql, 006, 010):
 * these only, never a role of PostgreSQL's own (pg_read_all_data...) nor
 * a login's. A new role in sql/ is a new row here. */
static const char *const grant_roles[] = {
	"sipas_ingest",			/* sipasd: stores responses */
	"sipas_report",			/* reports, without personal data */
	"sipas_report_personnel",	/* and figures by officer */
	"sipas_comments",		/* and comments and profiles, row by row */
	"sipas_audit",			/* reads the audit log */
	NULL
};

static const char usage[] =
    "usage: sipas grant ROLE USER [--db CONNINFO]\n"
    "       sipas revoke ROLE USER [--db CONNINFO]\n"
    "\n"
    "Grants the database role USER (a login, CREATE ROLE USER LOGIN) one of\n"
    "sipas's roles, or revokes it: sipas_ingest (sipasd), sipas_report\n"
    "(reports, no personal data), sipas_report_personnel (and figures by\n"
    "officer), sipas_comments (and comments and respondent profiles),\n"
    "sipas_audit (the audit log). No other role. Recorded in the audit log,\n"
    "in the transaction of the change. Needs a role allowed to grant them,\n"
    "such as the one that ran 'sipas db init'.\n";

static bool
grant_role_known(const char *role)
{
	for (const char *const *r = grant_roles; *r != NULL; r++)
		if (strcmp(*r, role) == 0)
			return true;
	return false;
}

/* Whether user is a direct member of role; dies if there is no user, or
 * if it is not a login but a group (granting sipas_comments to
 * sipas_report would give every reporter the comments). */
static bool
grant_is_member(PGconn *conn, const char *role, const char *user)
{
	const char *params[2] = { role, user };
	PGresult *res = cli_exec(conn, "looking up the user",
	    "SELECT EXISTS (SELECT FROM pg_catalog.pg_auth_members m"
	    " JOIN pg_catalog.pg_roles r ON r.oid = m.roleid"
	    " WHERE r.rolname = $1 AND m.member = u.oid), u.rolcanlogin"
	    " FROM pg_catalog.pg_roles u WHERE u.rolname = $2", 2, params);
	bool yes;

	if (PQntuples(res) == 0)
		cli_die("no database role '%s'; create the login first: CREATE ROLE %s "
		    "LOGIN", user, user);
	if (PQgetvalue(res, 0, 1)[0] != 't' || grant_role_known(user) ||
	    strncmp(user, "pg_", 3) == 0)
		cli_die("'%s' is not a login but a group role: sipas grants its roles to "
		    "people's logins only", user);
	yes = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return yes;
}

static int
grant_run(bool grant, int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	const char *role, *user, *done;
	char *ident, *sql;
	PGconn *conn;
	bool member;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		cli_common_option(ch, optarg, usage);
	if (argc - optind != 2)
		cli_usage_error(usage, "a role and a user are required");
	role = argv[optind];
	user = argv[optind + 1];
	if (!grant_role_known(role))
		cli_usage_error(usage, "'%s' is not one of sipas's roles", role);
	conn = cli_connect();
	audit_begin_argv(conn, grant ? "grant" : "revoke", "role,user", argc, argv, longopts);
	member = grant_is_member(conn, role, user);
	if (member != grant) {
		if ((ident = PQescapeIdentifier(conn, user, strlen(user))) == NULL)
			cli_die("quoting '%s': %s", user, PQerrorMessage(conn));
		xasprintf(&sql, grant ? "GRANT %s TO %s" : "REVOKE %s FROM %s", role, ident);
		PQfreemem(ident);
		PQclear(cli_exec(conn, grant ? "granting" : "revoking", sql, 0, NULL));
		free(sql);
	}
	if (member == grant)
		done = grant ? "already granted" : "not granted";
	else
		done = grant ? "granted" : "revoked";
	audit_commit(conn, done);
	printf("%s %s %s %s\n", done, role, grant ? "to" : "from", user);
	PQfinish(conn);
	return 0;
}

int
cmd_grant(int argc, char **argv)
{
	return grant_run(true, argc, argv);
}

int
cmd_revoke(int argc, char **argv)
{
	return grant_run(false, argc, argv);
}
