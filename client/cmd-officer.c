/* sipas officer add, import, list, retire and move: the officers (công
 * chức) by their code, unique in the province, and their postings. A
 * posting holds from its day until the officer's next one; a move adds a
 * posting and never rewrites an earlier one, so that the registry says
 * where anyone worked on any day (past ratings record their own center,
 * counter and officer anyway). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas officer add CODE --name \"FULL NAME\" --center CENTER [--counter CODE]\n"
    "           [--from DATE]\n"
    "       sipas officer import FILE.csv\n"
    "       sipas officer list [--center CENTER] [--on DATE] [--format table|csv]\n"
    "       sipas officer retire CODE [--on DATE]\n"
    "       sipas officer move CODE --center CENTER [--counter CODE] --on DATE\n"
    "\n"
    "add posts a new officer at a center (and a counter of it) from DATE,\n"
    "default today; move posts them elsewhere from DATE, which cannot be before\n"
    "their current posting; retire makes DATE (default today) the first day\n"
    "they are no longer active; list shows the officers active on DATE (default\n"
    "today) where they were posted that day. The CSV file has the header\n"
    "code,full_name,center,counter[,valid_from]: a new officer is added, a\n"
    "changed posting is a move from valid_from (default today), a row as it is\n"
    "in the database changes nothing. Dates are Vietnam days, YYYY-MM-DD.\n"
    "Every command takes --db CONNINFO.\n";

/* Posts the officer (id, code) at center and counter (NULL or "": none)
 * from day ("": today), unless that is where they are posted already.
 * Returns whether anything changed. A posting from the same day as the
 * current one replaces it: it is a correction of that day's posting. */
static bool
officer_post(PGconn *conn, const char *id, const char *code, const char *center,
    const char *counter, const char *day)
{
	char center_id[16], counter_id[16] = "", today[16];
	const char *params[4];
	PGresult *res;

	params[0] = day;
	params[1] = center;
	res = cli_exec(conn, "reading the date",
	    "SELECT coalesce(nullif($1, '')::date, " CLI_TODAY_SQL ")::text, "
	    " (SELECT opened_on::text FROM centers WHERE code = $2 "
	    "  AND opened_on > coalesce(nullif($1, '')::date, " CLI_TODAY_SQL "))",
	    2, params);
	snprintf(today, sizeof today, "%s", PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 1))
		cli_die("center '%s' opens on %s, after %s", center,
		    PQgetvalue(res, 0, 1), today);
	PQclear(res);
	snprintf(center_id, sizeof center_id, "%s", cli_center_id(conn, center, today));
	if (counter != NULL && counter[0] != '\0')
		snprintf(counter_id, sizeof counter_id, "%s",
		    cli_counter_id(conn, center_id, center, counter, today));
	params[0] = id;
	params[1] = today;
	params[2] = center_id;
	params[3] = counter_id;
	res = cli_exec(conn, "reading the current posting",
	    "SELECT p.valid_from::text, p.valid_from > $2::date, p.valid_from = $2::date, "
	    " coalesce(o.retired_on::text, ''), o.retired_on <= $2::date "
	    "FROM officers o JOIN officer_postings p ON p.officer_id = o.id "
	    "WHERE o.id = $1 AND NOT (p.center_id = $3 "
	    " AND p.counter_id IS NOT DISTINCT FROM nullif($4, '')::integer) "
	    " AND p.valid_from = (SELECT max(valid_from) FROM officer_postings "
	    " WHERE officer_id = $1) FOR UPDATE OF o", 4, params);
	if (PQntuples(res) == 0) {
		/* Posted there already, or never posted yet. */
		PQclear(res);
		res = cli_exec(conn, "reading the postings",
		    "INSERT INTO officer_postings (officer_id, valid_from, center_id, counter_id) "
		    "SELECT $1, $2, $3, nullif($4, '')::integer "
		    "WHERE NOT EXISTS (SELECT FROM officer_postings WHERE officer_id = $1) "
		    "RETURNING 1", 4, params);
		bool added = PQntuples(res) > 0;
		PQclear(res);
		return added;
	}
	if (PQgetvalue(res, 0, 4)[0] == 't')
		cli_die("officer '%s' retired on %s; nothing was changed", code,
		    PQgetvalue(res, 0, 3));
	if (PQgetvalue(res, 0, 1)[0] == 't')
		cli_die("officer '%s': %s is before their current posting from %s; "
		    "nothing was changed", code, today, PQgetvalue(res, 0, 0));
	PQclear(cli_exec(conn, "posting the officer",
	    PQgetvalue(res, 0, 2)[0] == 't' ?
	    "UPDATE officer_postings SET center_id = $3, counter_id = nullif($4, '')::integer "
	    "WHERE officer_id = $1 AND valid_from = $2" :
	    "INSERT INTO officer_postings (officer_id, valid_from, center_id, counter_id) "
	    "VALUES ($1, $2, $3, nullif($4, '')::integer)", 4, params));
	PQclear(res);
	return true;
}

/* Adds the officer and returns their id (malloc'd), or NULL when one with
 * that code exists already. */
static char *
officer_new(PGconn *conn, const char *code, const char *name)
{
	const char *params[2] = { code, name };
	PGresult *res;
	char *id;

	if (name[0] == '\0')
		cli_die("officer '%s': a full name is required", code);
	res = PQexecParams(conn,
	    "INSERT INTO officers (code, full_name) VALUES ($1, $2) "
	    "ON CONFLICT (code) DO NOTHING RETURNING id", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "23514") == 0)
			cli_die("'%s' is not a valid officer code (1 to 64 of "
			    "A-Z a-z 0-9 . _ -)", code);
		cli_die("adding officer %s: %s", code, PQresultErrorMessage(res));
	}
	id = PQntuples(res) > 0 ? xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return id;
}

static int
officer_add(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "name", required_argument, NULL, 'n' },
		{ "center", required_argument, NULL, 'c' },
		{ "counter", required_argument, NULL, 'q' },
		{ "from", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 } };
	const char *name = NULL, *center = NULL, *counter = NULL, *from = "";
	PGconn *conn;
	char *id;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': name = optarg; break;
		case 'c': center = optarg; break;
		case 'q': counter = optarg; break;
		case 'F': from = cli_date_option("--from", optarg); break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "officer add: one officer CODE is required");
	if (name == NULL || center == NULL)
		cli_usage_error(usage, "officer add: --name is required, and so is --center");
	conn = cli_connect();
	audit_begin_argv(conn, "officer add", "code", argc, argv, longopts);
	if ((id = officer_new(conn, argv[optind], name)) == NULL)
		cli_die("an officer '%s' exists already; 'sipas officer move' posts "
		    "them elsewhere", argv[optind]);
	(void)officer_post(conn, id, argv[optind], center, counter, from);
	audit_commit(conn, NULL);
	printf("officer %s added at %s%s%s\n", argv[optind], center,
	    counter ? ", counter " : "", counter ? counter : "");
	free(id);
	PQfinish(conn);
	return 0;
}

enum officer_col { OCOL_CODE, OCOL_NAME, OCOL_CENTER, OCOL_COUNTER, OCOL_FROM, OCOL_N };
static const char *const officer_cols[OCOL_N] = { "code", "full_name", "center",
	"counter", "valid_from" };

static int
officer_import(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	unsigned line = 0, added = 0, moved = 0, renamed = 0;
	char *buf = NULL, *fields[CLI_CSV_MAX_FIELDS], *id;
	int ch, n, ncols = 0, col[OCOL_N];
	const char *file, *params[2], *from;
	size_t cap = 0;
	PGresult *res;
	PGconn *conn;
	FILE *f;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		cli_common_option(ch, optarg, usage);
	if (optind + 1 != argc)
		cli_usage_error(usage, "officer import: one CSV file is required");
	file = argv[optind];
	if ((f = fopen(file, "r")) == NULL)
		cli_die("%s: %s", file, strerror(errno));
	conn = cli_connect();
	audit_begin_argv(conn, "officer import", "file", argc, argv, longopts);
	while ((n = cli_csv_read(f, &buf, &cap, fields)) > 0) {
		if (++line == 1) {
			cli_csv_columns(file, fields, n, officer_cols, OCOL_N, 4, col);
			ncols = n;
			continue;
		}
		cli_context("%s:%u: ", file, line);
		if (n != ncols)
			cli_die("expected %d columns as in the header, found %d; "
			    "nothing was imported", ncols, n);
		from = col[OCOL_FROM] < 0 ? "" : fields[col[OCOL_FROM]];
		if (from[0] != '\0' && !cli_date_valid(from))
			cli_die("valid_from '%s' is not a date (YYYY-MM-DD); nothing "
			    "was imported", from);
		bool is_new = (id = officer_new(conn, fields[col[OCOL_CODE]],
		    fields[col[OCOL_NAME]])) != NULL;
		if (is_new) {
			added++;
		} else {
			params[0] = fields[col[OCOL_CODE]];
			params[1] = fields[col[OCOL_NAME]];
			res = cli_exec(conn, "renaming the officer",
			    "UPDATE officers SET full_name = $2 WHERE code = $1 "
			    "AND full_name <> $2 RETURNING id", 2, params);
			renamed += PQntuples(res) > 0;
			PQclear(res);
			res = cli_exec(conn, "looking up the officer",
			    "SELECT id FROM officers WHERE code = $1", 1, params);
			id = xstrdup(PQgetvalue(res, 0, 0));
			PQclear(res);
		}
		if (officer_post(conn, id, fields[col[OCOL_CODE]], fields[col[OCOL_CENTER]],
		    fields[col[OCOL_COUNTER]], from) && !is_new)
			moved++;
		free(id);
	}
	cli_context("%s", "");
	if (n < 0)
		cli_die("%s:%u: too many columns; nothing was imported", file, line + 1);
	if (line == 0)
		cli_die("%s: empty file, expected a header row", file);
	audit_commit(conn, NULL);
	printf("imported %u officer(s) from %s: %u new, %u moved, %u renamed\n",
	    line - 1, file, added, moved, renamed);
	fclose(f);
	free(buf);
	PQfinish(conn);
	return 0;
}

static int
officer_list(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "center", required_argument, NULL, 'c' },
		{ "on", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 } };
	static const char *const cols[] = { "code", "full_name", "center", "counter",
		"since", "retired_on" };
	const char *center = NULL, *format = NULL, *params[2] = { NULL, NULL };
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': center = optarg; break;
		case 'o': params[0] = cli_date_option("--on", optarg); break;
		case 'f': format = optarg; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	conn = cli_connect();
	if (center != NULL)
		params[1] = cli_center_id(conn, center, NULL);
	res = cli_exec(conn, "listing officers",
	    "WITH d AS (SELECT coalesce($1::date, " CLI_TODAY_SQL ") AS day) "
	    "SELECT o.code, o.full_name, c.code, coalesce(q.code, ''), s.valid_from::text, "
	    " coalesce(o.retired_on::text, '') "
	    "FROM d, officers o JOIN officer_posting_spans s ON s.officer_id = o.id "
	    "JOIN centers c ON c.id = s.center_id LEFT JOIN counters q ON q.id = s.counter_id "
	    "WHERE s.valid_from <= d.day AND d.day < s.valid_until "
	    "AND (o.retired_on IS NULL OR d.day < o.retired_on) "
	    "AND ($2::integer IS NULL OR s.center_id = $2) "
	    "ORDER BY c.code, o.code", 2, params);
	cli_print_rows(res, format, usage, 6, cols);
	PQclear(res);
	PQfinish(conn);
	return 0;
}

/* The officer's id (malloc'd), locked for the transaction, or exits. */
static char *
officer_lock(PGconn *conn, const char *code)
{
	const char *params[1] = { code };
	PGresult *res;
	char *id;

	res = cli_exec(conn, "looking up the officer",
	    "SELECT id FROM officers WHERE code = $1 FOR UPDATE", 1, params);
	if (PQntuples(res) == 0)
		cli_die("unknown officer '%s'; see 'sipas officer list'", code);
	id = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return id;
}

static int
officer_retire(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "on", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	const char *params[2] = { NULL, NULL };
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'o')
			params[1] = cli_date_option("--on", optarg);
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "officer retire: one officer CODE is required");
	conn = cli_connect();
	audit_begin_argv(conn, "officer retire", "code", argc, argv, longopts);
	params[0] = officer_lock(conn, argv[optind]);
	res = cli_exec(conn, "retiring the officer",
	    "SELECT coalesce($2::date, " CLI_TODAY_SQL ")::text, max(valid_from)::text, "
	    " max(valid_from) > coalesce($2::date, " CLI_TODAY_SQL ") "
	    "FROM officer_postings WHERE officer_id = $1", 2, params);
	if (PQgetvalue(res, 0, 2)[0] == 't')
		cli_die("officer '%s': %s is before their current posting from %s; "
		    "nothing was changed", argv[optind], PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1));
	PQclear(cli_exec(conn, "retiring the officer",
	    "UPDATE officers SET retired_on = coalesce($2::date, " CLI_TODAY_SQL ") "
	    "WHERE id = $1", 2, params));
	audit_commit(conn, NULL);
	printf("officer %s is no longer active from %s\n", argv[optind],
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	free((char *)params[0]);
	PQfinish(conn);
	return 0;
}

static int
officer_move(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "center", required_argument, NULL, 'c' },
		{ "counter", required_argument, NULL, 'q' },
		{ "on", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	const char *center = NULL, *counter = NULL, *on = NULL;
	PGconn *conn;
	char *id;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': center = optarg; break;
		case 'q': counter = optarg; break;
		case 'o': on = cli_date_option("--on", optarg); break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "officer move: one officer CODE is required");
	if (center == NULL)
		cli_usage_error(usage, "officer move: --center is required");
	if (on == NULL)
		cli_usage_error(usage, "officer move: --on is required");
	conn = cli_connect();
	audit_begin_argv(conn, "officer move", "code", argc, argv, longopts);
	id = officer_lock(conn, argv[optind]);
	if (officer_post(conn, id, argv[optind], center, counter, on))
		printf("officer %s is posted at %s%s%s from %s\n", argv[optind], center,
		    counter ? ", counter " : "", counter ? counter : "", on);
	else
		printf("officer %s is posted there already; nothing was changed\n",
		    argv[optind]);
	audit_commit(conn, NULL);
	free(id);
	PQfinish(conn);
	return 0;
}

int
cmd_officer(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "add", officer_add },
		{ "import", officer_import },
		{ "list", officer_list },
		{ "retire", officer_retire },
		{ "move", officer_move },
	};

	for (size_t i = 0; argc >= 2 && i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	}
	cli_usage_error(usage, "officer: expected 'add', 'import', 'list', 'retire' or 'move'");
}
