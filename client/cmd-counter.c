/* sipas counter add, list and retire: the counters (quầy) of a center, by
 * a code unique within the center. A counter is active before its
 * retired_on; it is never deleted, since responses name it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sipas.h"

static const char usage[] =
    "usage: sipas counter add CENTER CODE --name NAME\n"
    "       sipas counter list [--center CENTER] [--all] [--format table|csv]\n"
    "       sipas counter retire CENTER CODE [--on DATE]\n"
    "\n"
    "add creates a counter of a center that is not closed; list shows the\n"
    "active counters (--all: the retired ones too); retire makes DATE (default\n"
    "today, a Vietnam day, YYYY-MM-DD) the first day the counter is no longer\n"
    "active, and is refused while a kiosk is fixed to the counter ('sipas kiosk\n"
    "move' moves it first). Every command takes --db CONNINFO.\n";

static int
counter_add(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 } };
	const char *name = NULL, *params[3];
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'n')
			name = optarg;
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind + 2 != argc)
		cli_usage_error(usage, "counter add: a CENTER and a counter CODE are required");
	if (name == NULL || name[0] == '\0')
		cli_usage_error(usage, "counter add: --name is required");
	conn = cli_connect();
	audit_begin_argv(conn, "counter add", "center,code", argc, argv, longopts);
	params[0] = cli_center_id(conn, argv[optind], "");
	params[1] = argv[optind + 1];
	params[2] = name;
	res = PQexecParams(conn,
	    "INSERT INTO counters (center_id, code, name_vi) VALUES ($1, $2, $3)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "23505") == 0)
			cli_die("a counter '%s' of center '%s' exists already",
			    argv[optind + 1], argv[optind]);
		if (state != NULL && strcmp(state, "23514") == 0)
			cli_die("'%s' is not a valid counter code (1 to 64 of "
			    "A-Z a-z 0-9 . _ -)", argv[optind + 1]);
		cli_die("adding counter %s: %s", argv[optind + 1],
		    PQresultErrorMessage(res));
	}
	PQclear(res);
	audit_commit(conn, NULL);
	printf("counter %s of center %s added\n", argv[optind + 1], argv[optind]);
	PQfinish(conn);
	return 0;
}

static int
counter_list(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "center", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 } };
	static const char *const cols[] = { "center", "code", "name_vi", "retired_on" };
	const char *center = NULL, *format = NULL, *params[2] = { NULL, "f" };
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': center = optarg; break;
		case 'a': params[1] = "t"; break;
		case 'f': format = optarg; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	conn = cli_connect();
	if (center != NULL)
		params[0] = cli_center_id(conn, center, NULL);
	res = cli_exec(conn, "listing counters",
	    "SELECT c.code, q.code, q.name_vi, coalesce(q.retired_on::text, '') "
	    "FROM counters q JOIN centers c ON c.id = q.center_id "
	    "WHERE ($1::integer IS NULL OR q.center_id = $1) AND ($2::boolean "
	    " OR q.retired_on IS NULL OR " CLI_TODAY_SQL " < q.retired_on) "
	    "ORDER BY c.code, q.code", 2, params);
	cli_print_rows(res, format, usage, 4, cols);
	PQclear(res);
	PQfinish(conn);
	return 0;
}

static int
counter_retire(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "on", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	const char *on = NULL, *params[3];
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'o')
			on = cli_date_option("--on", optarg);
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind + 2 != argc)
		cli_usage_error(usage, "counter retire: a CENTER and a counter CODE are required");
	conn = cli_connect();
	audit_begin_argv(conn, "counter retire", "center,code", argc, argv, longopts);
	params[0] = cli_center_id(conn, argv[optind], NULL);
	params[1] = argv[optind + 1];
	params[2] = on;
	/* The counter's row, locked so that no kiosk is fixed to it meanwhile. */
	res = cli_exec(conn, "retiring the counter",
	    "SELECT q.id, coalesce(q.retired_on::text, ''), "
	    " (SELECT string_agg(k.code, ', ' ORDER BY k.code) FROM kiosks k "
	    "  WHERE k.counter_id = q.id) "
	    "FROM counters q WHERE q.center_id = $1 AND q.code = $2 FOR UPDATE",
	    2, params);
	if (PQntuples(res) == 0)
		cli_die("unknown counter '%s' of center '%s'; see 'sipas counter list "
		    "--center %s --all'", argv[optind + 1], argv[optind], argv[optind]);
	if (!PQgetisnull(res, 0, 2))
		cli_die("kiosk(s) %s are fixed to counter '%s'; move them first with "
		    "'sipas kiosk move CODE --counter OTHER' or '--no-counter'; nothing "
		    "was changed", PQgetvalue(res, 0, 2), argv[optind + 1]);
	PQclear(res);
	res = cli_exec(conn, "retiring the counter",
	    "UPDATE counters SET retired_on = coalesce($3::date, " CLI_TODAY_SQL ") "
	    "WHERE center_id = $1 AND code = $2 RETURNING retired_on::text", 3, params);
	audit_commit(conn, NULL);
	printf("counter %s of center %s is no longer active from %s\n",
	    argv[optind + 1], argv[optind], PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return 0;
}

int
cmd_counter(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return counter_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return counter_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "retire") == 0)
		return counter_retire(argc - 1, argv + 1);
	cli_usage_error(usage, "counter: expected 'add', 'list' or 'retire'");
}
