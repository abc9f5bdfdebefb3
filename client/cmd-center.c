/* sipas center import, list, close and move: the tree of service centers
 * (province, district, commune) over time. Import is an upsert by code, in
 * one transaction, so a file can be imported again after corrections. */
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "audit.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas center import FILE.csv [--db CONNINFO]\n"
    "       sipas center list [--format table|csv] [--db CONNINFO]\n"
    "       sipas center close CODE --on DATE [--successor CODE | --no-successor]\n"
    "                          [--db CONNINFO]\n"
    "       sipas center move CODE --parent CODE --on DATE [--db CONNINFO]\n"
    "\n"
    "The CSV file has a header row naming its columns: code,name_vi,level,parent\n"
    "and optionally opened_on,closed_on,successor,official_code, in any order.\n"
    "level is province, district or commune; parent is the code of a center\n"
    "already in the database or earlier in the file (empty for the province);\n"
    "for a center already in the database, it must be a parent the center has\n"
    "(sipas center move gives it another from a date). A successor may come\n"
    "later in the file. An empty optional cell leaves the center's value as it\n"
    "is. Dates are YYYY-MM-DD, Vietnam days; a center is open from opened_on to\n"
    "closed_on, both included.\n"
    "close records the last day a center is open and its successor (a successor\n"
    "already set is kept unless --successor or --no-successor is given); move\n"
    "gives a center another parent from a date on.\n";

/* The first cycle in the tree of any day on which it changes, as "day|a ->
 * b -> a" (a's parent is b, b's is a), or no row. Walking up from every
 * center in the tree of each such day, each walk stops at a center it has
 * passed already; a walk that comes back to its start is a cycle. */
static const char cycle_sql[] =
    "WITH RECURSIVE tree AS ("
    " SELECT d.day, s.center_id AS id, s.parent_id"
    " FROM (SELECT DISTINCT valid_from AS day FROM center_parents) d"
    " JOIN center_parent_spans s ON s.valid_from <= d.day AND d.day < s.valid_until"
    " WHERE s.parent_id IS NOT NULL),"
    " up (day, start, id, path) AS ("
    " SELECT day, id, parent_id, ARRAY[id] FROM tree"
    " UNION ALL"
    " SELECT u.day, u.start, t.parent_id, u.path || u.id FROM up u"
    " JOIN tree t ON t.day = u.day AND t.id = u.id WHERE u.id <> ALL (u.path))"
    " SELECT u.day::text, (SELECT string_agg(c.code, ' -> ' ORDER BY p.n)"
    "  FROM unnest(u.path || u.start) WITH ORDINALITY p (id, n) JOIN centers c ON c.id = p.id)"
    " FROM up u JOIN centers s ON s.id = u.start WHERE u.id = u.start"
    " ORDER BY u.day, s.code LIMIT 1";

/* Refuses, before a move commits, a tree in which a center is its own
 * ancestor, today or on any other day: a move from a date can close a loop
 * in the tree of a later day, and every query that walks the tree down from
 * a center would then never end. (An import cannot: it gives a parent only
 * to a new center, which has no descendants yet.) */
static void
center_check_tree(PGconn *conn, const char *what, const char *nothing)
{
	PGresult *res = cli_exec(conn, "checking the tree of centers", cycle_sql, 0, NULL);
	const char *day, *cycle;

	if (PQntuples(res) > 0) {
		day = PQgetvalue(res, 0, 0);
		cycle = PQgetvalue(res, 0, 1);
		cli_die("%s: center '%.*s' would be its own ancestor%s%s: %s (each "
		    "center followed by its parent); %s", what,
		    (int)strcspn(cycle, " "), cycle,
		    strcmp(day, "-infinity") == 0 ? "" : " from ",
		    strcmp(day, "-infinity") == 0 ? "" : day, cycle, nothing);
	}
	PQclear(res);
}

/* Refuses a successor that is not open on the day after its predecessor
 * closed, because it opens later or closed already: regrouping history
 * through it would then lose days. */
static void
center_check_successors(PGconn *conn, const char *what, const char *nothing)
{
	PGresult *res = cli_exec(conn, "checking the successors",
	    "SELECT s.code, c.code, (c.closed_on + 1)::text, "
	    " CASE WHEN s.opened_on > c.closed_on + 1 THEN 'opens on ' || s.opened_on "
	    " ELSE 'closed on ' || s.closed_on END "
	    "FROM centers c JOIN centers s ON s.id = c.successor_id "
	    "WHERE s.opened_on > c.closed_on + 1 OR s.closed_on <= c.closed_on "
	    "ORDER BY c.code LIMIT 1", 0, NULL);

	if (PQntuples(res) > 0)
		cli_die("%s: center '%s' succeeds '%s' from %s but %s; %s",
		    what, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), nothing);
	PQclear(res);
}

/* centers.parent_id is the parent of the span of today. */
static void
center_sync_parent(PGconn *conn, const char *id)
{
	const char *params[1] = { id };

	PQclear(cli_exec(conn, "updating the parent",
	    "UPDATE centers c SET parent_id = p.parent_id FROM center_parent_spans p "
	    "WHERE c.id = $1 AND p.center_id = c.id AND p.valid_from <= " CLI_TODAY_SQL
	    " AND " CLI_TODAY_SQL " < p.valid_until "
	    "AND c.parent_id IS DISTINCT FROM p.parent_id", 1, params));
}

/* Says which active kiosks are at the center id, or with NULL at a center
 * closed before today: their responses go to a center that no longer
 * exists until they are moved. */
static void
center_kiosks_left(PGconn *conn, const char *id, const char *successor)
{
	const char *params[1] = { id };
	PGresult *res = cli_exec(conn, "counting the kiosks",
	    "SELECT count(*), string_agg(k.code || ' (' || c.code || ')', ', ' "
	    " ORDER BY k.code) FROM kiosks k JOIN centers c ON c.id = k.center_id "
	    "WHERE k.status = 'active' AND (c.id = $1 OR $1 IS NULL AND c.closed_on < "
	    CLI_TODAY_SQL ")", 1, params);

	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		printf("%s active kiosk(s) at %s: %s; 'sipas kiosk move CODE --center "
		    "%s' moves each, keeping its certificate\n", PQgetvalue(res, 0, 0),
		    id ? "this center" : "closed centers", PQgetvalue(res, 0, 1),
		    successor ? successor : "CENTER");
	PQclear(res);
}

/* Begins the command's transaction, recorded in the audit log. */
static void
center_begin(PGconn *conn, const char *action, const char *positional, int argc,
    char **argv, const struct option *longopts)
{
	audit_begin_argv(conn, action, positional, argc, argv, longopts);
	/* One change at a time, and no other change to the tree while it
	 * runs, so that the checks of the whole tree hold at commit. */
	PQclear(cli_exec(conn, "locking the centers",
	    "LOCK TABLE centers, center_parents IN SHARE ROW EXCLUSIVE MODE", 0, NULL));
}

/* The columns of the file; the first four are required. */
enum center_col { COL_CODE, COL_NAME, COL_LEVEL, COL_PARENT, COL_OPENED,
	COL_CLOSED, COL_SUCCESSOR, COL_OFFICIAL, COL_N };
static const char *const center_cols[COL_N] = { "code", "name_vi", "level",
	"parent", "opened_on", "closed_on", "successor", "official_code" };

/* A row whose successor is set once the whole file is in: it may name a
 * center of a later row. */
struct center_successor {
	unsigned line;
	char *code, *successor;
	bool changed;
};

struct center_import {
	const char *file;
	unsigned line, added, changed;
	int col[COL_N];
	struct center_successor *succ;
	size_t nsucc;
};

/* The cell of column c, or "" when the file has no such column. */
static const char *
center_cell(const struct center_import *imp, char **fields, enum center_col c)
{
	return imp->col[c] < 0 ? "" : fields[imp->col[c]];
}

static void
center_import_die(const struct center_import *imp, const char *code, PGresult *res)
{
	char *msg = PQresultErrorMessage(res);

	msg[strcspn(msg, "\n")] = '\0';
	cli_die("%s:%u: center '%s': %s; nothing was imported", imp->file,
	    imp->line, code, msg);
}

/* The upsert of one row of the file ($1 code, $2 name_vi, $3 level, $4
 * opened_on, $5 closed_on, $6 official_code, $7 parent id): the id and
 * whether it was inserted ("true"), updated ("false") or left ("none").
 * The parent is a new center's only: see center_import_row. */
static const char center_upsert_sql[] =
    "WITH c AS (INSERT INTO centers AS c (code, name_vi, level, opened_on, "
    " closed_on, official_code, parent_id) VALUES ($1, $2, $3, nullif($4, '')::date, "
    " nullif($5, '')::date, nullif($6, ''), nullif($7, '')::integer) "
    " ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, "
    " level = EXCLUDED.level, opened_on = EXCLUDED.opened_on, "
    " closed_on = EXCLUDED.closed_on, official_code = EXCLUDED.official_code "
    " WHERE (c.name_vi, c.level, c.opened_on, c.closed_on, c.official_code) "
    " IS DISTINCT FROM (EXCLUDED.name_vi, EXCLUDED.level, EXCLUDED.opened_on, "
    " EXCLUDED.closed_on, EXCLUDED.official_code) "
    " RETURNING id, xmax = 0 AS inserted) "
    "SELECT id::text, inserted::text FROM c "
    "UNION ALL SELECT id::text, 'none' FROM centers WHERE code = $1 "
    "AND NOT EXISTS (SELECT FROM c)";

/* The look-up of a row of the file ($1 code, $2 parent code): the center's
 * opened_on, closed_on and official_code, the parent's id, whether the
 * center is new, whether the parent is one it has on some day, and its
 * parent of today. */
static const char center_lookup_sql[] =
    "SELECT coalesce(c.opened_on::text, ''), coalesce(c.closed_on::text, ''), "
    " coalesce(c.official_code, ''), coalesce(p.id::text, ''), c.id IS NULL, "
    " EXISTS (SELECT FROM center_parents cp WHERE cp.center_id = c.id "
    "  AND cp.parent_id IS NOT DISTINCT FROM p.id), coalesce(t.code, '') "
    "FROM (SELECT) one LEFT JOIN centers c ON c.code = $1 "
    "LEFT JOIN centers p ON p.code = nullif($2, '') "
    "LEFT JOIN centers t ON t.id = c.parent_id";

/* A file's parent is a new center's parent since always. For a center
 * already in the database it must be one the center has on some day (that
 * of the first file, or after a move): another would re-parent its past
 * too, so a new parent from a date is `sipas center move`'s. */
static void
center_import_check_parent(const struct center_import *imp, const char *code,
    const char *parent, PGresult *res)
{
	if (PQgetvalue(res, 0, 4)[0] == 't' || PQgetvalue(res, 0, 5)[0] == 't')
		return;
	cli_die("%s:%u: center '%s': the file gives it the parent '%s' but its "
	    "parent is '%s'; an import does not change the parent of a center "
	    "already in the database, which would move its past too: 'sipas center "
	    "move %s --parent %s --on DATE' gives it that parent from DATE on; "
	    "nothing was imported", imp->file, imp->line, code, parent,
	    PQgetvalue(res, 0, 6), code, parent);
}

/* Upserts one row: what the file says, an empty optional cell keeping the
 * center's value; a new center gets the file's parent since always (a
 * center_parents row from -infinity). */
static void
center_import_row(PGconn *conn, struct center_import *imp, char **fields)
{
	const char *code = fields[imp->col[COL_CODE]];
	const char *parent = fields[imp->col[COL_PARENT]];
	const char *cells[3] = { center_cell(imp, fields, COL_OPENED),
		center_cell(imp, fields, COL_CLOSED), center_cell(imp, fields, COL_OFFICIAL) };
	const char *params[7];
	bool inserted, changed;
	char id[16];
	PGresult *res;

	for (int i = 0; i < 2; i++) {
		if (cells[i][0] != '\0' && !cli_date_valid(cells[i]))
			cli_die("%s:%u: center '%s': %s '%s' is not a date "
			    "(YYYY-MM-DD); nothing was imported", imp->file, imp->line,
			    code, center_cols[COL_OPENED + i], cells[i]);
	}
	params[0] = code;
	params[1] = parent;
	res = cli_exec(conn, "looking up the center", center_lookup_sql, 2, params);
	for (int i = 0; i < 3; i++) {
		if (cells[i][0] == '\0')
			cells[i] = PQgetvalue(res, 0, i);
	}
	if (strcmp(parent, code) == 0)
		cli_die("%s:%u: center '%s' would be its own ancestor: %s -> %s (each "
		    "center followed by its parent); nothing was imported", imp->file,
		    imp->line, code, code, code);
	if (parent[0] != '\0' && PQgetvalue(res, 0, 3)[0] == '\0')
		cli_die("%s:%u: center '%s': unknown parent '%s'; nothing was "
		    "imported", imp->file, imp->line, code, parent);
	center_import_check_parent(imp, code, parent, res);
	if (cells[0][0] != '\0' && cells[1][0] != '\0' && strcmp(cells[1], cells[0]) < 0)
		cli_die("%s:%u: center '%s' closes before it opens (%s, %s); "
		    "nothing was imported", imp->file, imp->line, code, cells[1], cells[0]);
	params[0] = code;
	params[1] = fields[imp->col[COL_NAME]];
	params[2] = fields[imp->col[COL_LEVEL]];
	params[3] = cells[0];
	params[4] = cells[1];
	params[5] = cells[2];
	params[6] = PQgetvalue(res, 0, 3);
	/* Kept until the parent is set: params[3..6] point into res. */
	PGresult *up = PQexecParams(conn, center_upsert_sql, 7, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(up) != PGRES_TUPLES_OK)
		center_import_die(imp, code, up);
	snprintf(id, sizeof id, "%s", PQgetvalue(up, 0, 0));
	inserted = strcmp(PQgetvalue(up, 0, 1), "true") == 0;
	changed = strcmp(PQgetvalue(up, 0, 1), "false") == 0;
	PQclear(up);
	if (inserted) {
		params[0] = id;
		params[1] = PQgetvalue(res, 0, 3);
		PQclear(cli_exec(conn, "setting the parent",
		    "INSERT INTO center_parents (center_id, valid_from, parent_id) "
		    "VALUES ($1, '-infinity', nullif($2, '')::integer)", 2, params));
	}
	PQclear(res);
	imp->added += inserted;
	imp->changed += changed;
	if (imp->col[COL_SUCCESSOR] >= 0 && fields[imp->col[COL_SUCCESSOR]][0] != '\0') {
		imp->succ = xreallocarray(imp->succ, imp->nsucc + 1, sizeof *imp->succ);
		imp->succ[imp->nsucc++] = (struct center_successor){ imp->line,
			xstrdup(code), xstrdup(fields[imp->col[COL_SUCCESSOR]]), changed };
	}
}

/* Sets the successors once every center of the file is in. */
static void
center_import_successors(PGconn *conn, struct center_import *imp)
{
	for (size_t i = 0; i < imp->nsucc; i++) {
		struct center_successor *s = &imp->succ[i];
		const char *params[2] = { s->code, s->successor };
		PGresult *res;

		if (strcmp(s->code, s->successor) == 0)
			cli_die("%s:%u: center '%s' cannot be its own successor; "
			    "nothing was imported", imp->file, s->line, s->code);
		res = cli_exec(conn, "setting the successor",
		    "SELECT (SELECT closed_on IS NULL FROM centers WHERE code = $1), "
		    " EXISTS (SELECT FROM centers WHERE code = $2)", 2, params);
		if (PQgetvalue(res, 0, 1)[0] != 't')
			cli_die("%s:%u: center '%s': unknown successor '%s'; nothing "
			    "was imported", imp->file, s->line, s->code, s->successor);
		if (PQgetvalue(res, 0, 0)[0] == 't')
			cli_die("%s:%u: center '%s' has a successor but no closed_on; "
			    "nothing was imported", imp->file, s->line, s->code);
		PQclear(res);
		res = cli_exec(conn, "setting the successor",
		    "UPDATE centers c SET successor_id = s.id FROM centers s "
		    "WHERE c.code = $1 AND s.code = $2 "
		    "AND c.successor_id IS DISTINCT FROM s.id RETURNING 1", 2, params);
		if (PQntuples(res) > 0 && !s->changed)
			imp->changed++;
		PQclear(res);
		free(s->code);
		free(s->successor);
	}
	free(imp->succ);
}

static int
center_import(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	struct center_import imp = { 0 };
	char *buf = NULL, *fields[CLI_CSV_MAX_FIELDS], *detail;
	size_t cap = 0;
	int ch, n, ncols = 0;
	PGconn *conn;
	FILE *f;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		cli_common_option(ch, optarg, usage);
	if (optind + 1 != argc)
		cli_usage_error(usage, "center import: one CSV file is required");
	imp.file = argv[optind];
	if ((f = fopen(imp.file, "r")) == NULL)
		cli_die("%s: %s", imp.file, strerror(errno));
	conn = cli_connect();
	center_begin(conn, "center import", "file", argc, argv, longopts);
	while ((n = cli_csv_read(f, &buf, &cap, fields)) > 0) {
		imp.line++;
		if (imp.line == 1) {
			cli_csv_columns(imp.file, fields, n, center_cols, COL_N, 4, imp.col);
			ncols = n;
			continue;
		}
		if (n != ncols)
			cli_die("%s:%u: expected %d columns as in the header, found %d; "
			    "nothing was imported", imp.file, imp.line, ncols, n);
		center_import_row(conn, &imp, fields);
	}
	if (n < 0)
		cli_die("%s:%u: too many columns; nothing was imported", imp.file,
		    imp.line + 1);
	if (imp.line == 0)
		cli_die("%s: empty file, expected a header row", imp.file);
	center_import_successors(conn, &imp);
	center_check_successors(conn, imp.file, "nothing was imported");
	xasprintf(&detail, "imported %u center(s): %u new, %u changed", imp.line - 1,
	    imp.added, imp.changed);
	audit_commit(conn, detail);
	free(detail);
	printf("imported %u center(s) from %s: %u new, %u changed\n", imp.line - 1,
	    imp.file, imp.added, imp.changed);
	center_kiosks_left(conn, NULL, NULL);
	fclose(f);
	free(buf);
	PQfinish(conn);
	return 0;
}

static int
center_close(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "on", required_argument, NULL, 'o' },
		{ "successor", required_argument, NULL, 's' },
		{ "no-successor", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 } };
	const char *on = NULL, *successor = NULL, *params[4];
	const char *code, *succ_id = NULL;
	bool no_successor = false;
	char id[16], *kept;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': on = cli_date_option("--on", optarg); break;
		case 's': successor = optarg; break;
		case 'n': no_successor = true; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "center close: one center CODE is required");
	if (on == NULL)
		cli_usage_error(usage, "center close: --on is required (the last day it is open)");
	if (successor != NULL && no_successor)
		cli_usage_error(usage, "center close: --successor or --no-successor, not both");
	code = argv[optind];
	if (successor != NULL && strcmp(successor, code) == 0)
		cli_die("center '%s' cannot be its own successor", code);
	conn = cli_connect();
	center_begin(conn, "center close", "code", argc, argv, longopts);
	params[0] = code;
	params[1] = on;
	res = cli_exec(conn, "looking up the center",
	    "SELECT id, opened_on::text, opened_on > $2::date FROM centers WHERE code = $1",
	    2, params);
	if (PQntuples(res) == 0)
		cli_die("unknown center '%s'; see 'sipas center list'", code);
	if (PQgetvalue(res, 0, 2)[0] == 't')
		cli_die("center '%s' opened on %s; it cannot close on %s", code,
		    PQgetvalue(res, 0, 1), on);
	snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (successor != NULL) {
		params[0] = successor;
		res = cli_exec(conn, "looking up the successor",
		    "SELECT id FROM centers WHERE code = $1", 1, params);
		if (PQntuples(res) == 0)
			cli_die("unknown successor '%s'; see 'sipas center list'", successor);
		succ_id = xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	/* Without --successor or --no-successor, the successor already set
	 * stays: a new closing day is not a new successor. */
	params[0] = id;
	params[1] = on;
	params[2] = succ_id;
	params[3] = successor != NULL || no_successor ? "t" : "f";
	res = cli_exec(conn, "closing the center",
	    "UPDATE centers c SET closed_on = $2, successor_id = CASE WHEN $4::boolean "
	    " THEN $3::integer ELSE successor_id END WHERE id = $1 "
	    "RETURNING coalesce((SELECT s.code FROM centers s WHERE s.id = c.successor_id), '')",
	    4, params);
	kept = PQgetvalue(res, 0, 0)[0] != '\0' ? xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	center_check_successors(conn, code, "nothing was changed");
	audit_commit(conn, NULL);
	printf("center %s is open until %s included%s%s\n", code, on,
	    kept ? ", its successor is " : "", kept ? kept : "");
	center_kiosks_left(conn, id, kept);
	free((char *)succ_id);
	free(kept);
	PQfinish(conn);
	return 0;
}

static int
center_move(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "on", required_argument, NULL, 'o' },
		{ "parent", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 } };
	const char *on = NULL, *parent = NULL, *code, *params[3];
	char id[16];
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': on = cli_date_option("--on", optarg); break;
		case 'p': parent = optarg; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "center move: one center CODE is required");
	if (on == NULL || parent == NULL)
		cli_usage_error(usage, "center move: --parent and --on are required");
	code = argv[optind];
	if (strcmp(parent, code) == 0)
		cli_die("center '%s' cannot be its own parent", code);
	conn = cli_connect();
	center_begin(conn, "center move", "code", argc, argv, longopts);
	snprintf(id, sizeof id, "%s", cli_center_id(conn, code, on));
	params[0] = id;
	params[1] = on;
	params[2] = cli_center_id(conn, parent, on);
	PQclear(cli_exec(conn, "moving the center",
	    "INSERT INTO center_parents (center_id, valid_from, parent_id) "
	    "VALUES ($1, $2, $3) ON CONFLICT (center_id, valid_from) "
	    "DO UPDATE SET parent_id = EXCLUDED.parent_id", 3, params));
	center_sync_parent(conn, id);
	center_check_tree(conn, code, "nothing was changed");
	res = cli_exec(conn, "looking up the parent",
	    "SELECT $2::date > " CLI_TODAY_SQL ", coalesce(p.code, '') FROM centers c "
	    "LEFT JOIN centers p ON p.id = c.parent_id WHERE c.id = $1", 2, params);
	audit_commit(conn, NULL);
	printf("center %s is under %s from %s", code, parent, on);
	if (PQgetvalue(res, 0, 0)[0] == 't')
		printf(" (until then under %s)", PQgetvalue(res, 0, 1));
	putchar('\n');
	PQclear(res);
	PQfinish(conn);
	return 0;
}

static int
center_list(int argc, char **argv)
{
	static const char *const cols[] = { "code", "level", "parent", "opened_on",
		"closed_on", "successor", "official_code", "name_vi" };

	/* Depth-first, so that each center follows its parent (today's). */
	return cli_list(argc, argv, usage, "listing centers",
	    "WITH RECURSIVE tree AS ("
	    " SELECT id, code, ''::text AS parent, ARRAY[code] AS path"
	    " FROM centers WHERE parent_id IS NULL"
	    " UNION ALL"
	    " SELECT c.id, c.code, t.code, t.path || c.code"
	    " FROM centers c JOIN tree t ON c.parent_id = t.id)"
	    " SELECT t.code, c.level, t.parent, coalesce(c.opened_on::text, ''),"
	    " coalesce(c.closed_on::text, ''), coalesce(s.code, ''),"
	    " coalesce(c.official_code, ''), c.name_vi"
	    " FROM tree t JOIN centers c ON c.id = t.id"
	    " LEFT JOIN centers s ON s.id = c.successor_id ORDER BY t.path", 8, cols);
}

int
cmd_center(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "import", center_import },
		{ "list", center_list },
		{ "close", center_close },
		{ "move", center_move },
	};

	for (size_t i = 0; argc >= 2 && i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	}
	cli_usage_error(usage, "center: expected 'import', 'list', 'close' or 'move'");
}
