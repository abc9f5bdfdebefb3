/* sipas center import and list: the tree of service centers (province,
 * district, commune). Import is an upsert by code, in one transaction, so a
 * file can be imported again after corrections. */
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "output.h"
#include "sipas.h"
#include "xmalloc.h"

#define CSV_MAX_FIELDS 8

static const char usage[] =
    "usage: sipas center import FILE.csv [--db CONNINFO]\n"
    "       sipas center list [--format table|csv] [--db CONNINFO]\n"
    "\n"
    "The CSV file has a header row and the columns code,name_vi,level,parent;\n"
    "level is province, district or commune; parent is the code of a center\n"
    "already in the database or earlier in the file (empty for the province).\n";

/* Reads one RFC 4180 record. Returns the number of fields, 0 at the end of
 * the file, -1 when a line has too many fields. Fields point into *buf. */
static int
csv_read(FILE *f, char **buf, size_t *cap, char **fields)
{
	size_t len = 0, starts[CSV_MAX_FIELDS];
	int ch, n = 0;
	bool quoted = false, any = false;

	starts[n++] = 0;
	while ((ch = fgetc(f)) != EOF) {
		any = true;
		if (len + 2 >= *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*buf = xreallocarray(*buf, *cap, 1);
		}
		if (quoted) {
			if (ch == '"') {
				int next = fgetc(f);
				if (next == '"') {
					(*buf)[len++] = '"';
					continue;
				}
				quoted = false;
				if (next == EOF)
					break;
				ch = next;
			} else {
				(*buf)[len++] = (char)ch;
				continue;
			}
		}
		if (ch == '"') {
			quoted = true;
		} else if (ch == ',') {
			if (n == CSV_MAX_FIELDS)
				return -1;
			(*buf)[len++] = '\0';
			starts[n++] = len;
		} else if (ch == '\n') {
			break;
		} else if (ch != '\r') {
			(*buf)[len++] = (char)ch;
		}
	}
	if (!any)
		return 0;
	if (*cap == 0)
		*buf = xmalloc(*cap = 16);
	(*buf)[len] = '\0';
	for (int i = 0; i < n; i++)
		fields[i] = *buf + starts[i];
	return n;
}

/* The first cycle in the tree as the transaction sees it, "a -> b -> a"
 * (a's parent is b, b's is a), or no row. Walking up from every center,
 * each walk stops at a center it has passed already; a walk that comes
 * back to its start is a cycle. */
static const char cycle_sql[] =
    "WITH RECURSIVE up (start, id, path) AS ("
    " SELECT id, parent_id, ARRAY[id] FROM centers WHERE parent_id IS NOT NULL"
    " UNION ALL"
    " SELECT u.start, c.parent_id, u.path || u.id FROM up u JOIN centers c ON c.id = u.id"
    " WHERE u.id <> ALL (u.path) AND c.parent_id IS NOT NULL)"
    " SELECT (SELECT string_agg(c.code, ' -> ' ORDER BY p.n)"
    "  FROM unnest(u.path || u.start) WITH ORDINALITY p (id, n) JOIN centers c ON c.id = p.id)"
    " FROM up u JOIN centers s ON s.id = u.start WHERE u.id = u.start"
    " ORDER BY s.code LIMIT 1";

/* Refuses, before the import commits, a tree in which a center is its own
 * ancestor: the rows of a file, or one row imported again, can close a
 * loop that the row-by-row parent lookup cannot see, and every query that
 * walks the tree down from a center would then never end. */
static void
center_check_tree(PGconn *conn, const char *file)
{
	PGresult *res = cli_exec(conn, "checking the tree of centers", cycle_sql, 0, NULL);
	const char *cycle;

	if (PQntuples(res) > 0) {
		cycle = PQgetvalue(res, 0, 0);
		cli_die("%s: center '%.*s' would be its own ancestor: %s (each center "
		    "followed by its parent); nothing was imported", file,
		    (int)strcspn(cycle, " "), cycle, cycle);
	}
	PQclear(res);
}

static int
center_import(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	char *buf = NULL, *fields[CSV_MAX_FIELDS], *detail;
	const char *args[3];
	size_t cap = 0;
	unsigned line = 0, count = 0;
	PGconn *conn;
	FILE *f;
	int ch, n;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		cli_common_option(ch, optarg, usage);
	if (optind + 1 != argc)
		cli_usage_error(usage, "center import: one CSV file is required");
	if ((f = fopen(argv[optind], "r")) == NULL)
		cli_die("%s: %s", argv[optind], strerror(errno));
	conn = cli_connect();
	args[0] = "file", args[1] = argv[optind], args[2] = NULL;
	audit_begin(conn, "center import", args);
	/* One import at a time, and no other change to the tree while it
	 * runs, so that the check of the whole tree below holds at commit. */
	PQclear(cli_exec(conn, "locking the centers",
	    "LOCK TABLE centers IN SHARE ROW EXCLUSIVE MODE", 0, NULL));
	while ((n = csv_read(f, &buf, &cap, fields)) != 0) {
		line++;
		if (n != 4)
			cli_die("%s:%u: expected 4 columns (code,name_vi,level,parent), "
			    "found %d; nothing was imported", argv[optind], line, n);
		if (line == 1) {
			if (strcmp(fields[0], "code") != 0 || strcmp(fields[3], "parent") != 0)
				cli_die("%s:1: expected the header code,name_vi,level,parent",
				    argv[optind]);
			continue;
		}
		const char *params[4] = { fields[0], fields[1], fields[2], fields[3] };
		PGresult *res = PQexecParams(conn,
		    "INSERT INTO centers (code, name_vi, level, parent_id) "
		    "VALUES ($1, $2, $3, (SELECT id FROM centers WHERE code = nullif($4, ''))) "
		    "ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, "
		    "level = EXCLUDED.level, parent_id = EXCLUDED.parent_id "
		    "RETURNING parent_id IS NOT NULL OR $4 = ''",
		    4, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			char *msg = PQresultErrorMessage(res);
			msg[strcspn(msg, "\n")] = '\0';
			cli_die("%s:%u: center '%s': %s; nothing was imported",
			    argv[optind], line, fields[0], msg);
		}
		if (PQgetvalue(res, 0, 0)[0] != 't')
			cli_die("%s:%u: center '%s': unknown parent '%s'; nothing "
			    "was imported", argv[optind], line, fields[0], fields[3]);
		PQclear(res);
		count++;
	}
	if (n < 0)
		cli_die("%s:%u: too many columns; nothing was imported",
		    argv[optind], line + 1);
	center_check_tree(conn, argv[optind]);
	xasprintf(&detail, "imported %u center(s)", count);
	audit_commit(conn, detail);
	free(detail);
	printf("imported %u center(s) from %s\n", count, argv[optind]);
	fclose(f);
	free(buf);
	PQfinish(conn);
	return 0;
}

static int
center_list(int argc, char **argv)
{
	static const char *const cols[] = { "code", "level", "parent", "name_vi" };

	/* Depth-first, so that each center follows its parent. */
	return cli_list(argc, argv, usage, "listing centers",
	    "WITH RECURSIVE tree AS ("
	    " SELECT id, code, level, name_vi, ''::text AS parent, ARRAY[code] AS path"
	    " FROM centers WHERE parent_id IS NULL"
	    " UNION ALL"
	    " SELECT c.id, c.code, c.level, c.name_vi, t.code, t.path || c.code"
	    " FROM centers c JOIN tree t ON c.parent_id = t.id)"
	    " SELECT code, level, parent, name_vi FROM tree ORDER BY path", 4, cols);
}

int
cmd_center(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return center_import(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return center_list(argc - 1, argv + 1);
	cli_usage_error(usage, "center: expected 'import' or 'list'");
}
