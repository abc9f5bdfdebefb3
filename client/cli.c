/* What every sipas command shares: errors and usage, the common options,
 * the database connection, queries, the list commands, dates, the lookups
 * of centers and counters, and CSV files. The commands call
 * it; it calls none of them. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "sipas.h"
#include "xmalloc.h"

const char *cli_conninfo;
char cli_last_error[512];
static char cli_where[512];

void
cli_context(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli_where, sizeof cli_where, fmt, ap);
	va_end(ap);
}

void
cli_die(const char *fmt, ...)
{
	va_list ap;

	snprintf(cli_last_error, sizeof cli_last_error, "%s", cli_where);
	va_start(ap, fmt);
	vsnprintf(cli_last_error + strlen(cli_last_error),
	    sizeof cli_last_error - strlen(cli_last_error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sipas: %s", cli_where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli_last_error, sizeof cli_last_error, fmt, ap);
	va_end(ap);
	fprintf(stderr, "sipas: %s\n%s", cli_last_error, usage);
	exit(EXIT_USAGE);
}

bool
cli_common_option(int ch, const char *arg, const char *usage)
{
	switch (ch) {
	case 'D':
		cli_conninfo = arg;
		return true;
	case 'h':
		fputs(usage, stdout);
		exit(0);
	case '?':
		fputs(usage, stderr);
		exit(EXIT_USAGE);
	}
	return false;
}

static void
quiet_notices(void *arg, const char *message)
{
}

PGconn *
cli_connect(void)
{
	PGconn *conn = PQconnectdb(cli_conninfo ? cli_conninfo : "");
	char *msg;

	if (PQstatus(conn) != CONNECTION_OK) {
		msg = PQerrorMessage(conn);
		msg[strcspn(msg, "\n")] = '\0';
		cli_die("cannot connect to the database: %s\n"
		    "Check --db, $SIPAS_DB or the PG* variables.", msg);
	}
	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	return conn;
}

PGresult *
cli_exec(PGconn *conn, const char *what, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL,
	    NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	char *msg;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		msg = PQresultErrorMessage(res);
		msg[strcspn(msg, "\n")] = '\0';
		cli_die("%s: %s", what, msg);
	}
	return res;
}

void
cli_print_rows(PGresult *res, const char *format, const char *usage,
    size_t ncols, const char *const *cols)
{
	enum output_format fmt = OUTPUT_TABLE;
	const char *row[16];
	struct table *t;

	if (format != NULL && (!output_format_parse(format, &fmt) ||
	    fmt == OUTPUT_JSON || fmt == OUTPUT_HTML))
		cli_usage_error(usage, "--format: '%s' is not table or csv", format);
	t = table_new(ncols, cols);
	for (int i = 0; i < PQntuples(res); i++) {
		for (size_t c = 0; c < ncols && c < 16; c++)
			row[c] = PQgetvalue(res, i, (int)c);
		table_add(t, row);
	}
	table_print(t, fmt, stdout);
	table_free(t);
}

int
cli_list(int argc, char **argv, const char *usage, const char *what,
    const char *sql, size_t ncols, const char *const *cols)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	const char *format = NULL;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'f')
			format = optarg;
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	conn = cli_connect();
	res = cli_exec(conn, what, sql, 0, NULL);
	cli_print_rows(res, format, usage, ncols, cols);
	PQclear(res);
	PQfinish(conn);
	return 0;
}

bool
cli_date_valid(const char *s)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return false;
	}
	if (s[10] != '\0' || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return false;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

const char *
cli_date_option(const char *opt, const char *s)
{
	if (s != NULL && !cli_date_valid(s))
		cli_die("%s: '%s' is not a date (YYYY-MM-DD)", opt, s);
	return s;
}

const char *
cli_center_id(PGconn *conn, const char *code, const char *day)
{
	static char id[16];
	const char *params[2] = { code, day };
	PGresult *res;

	res = cli_exec(conn, "looking up the center",
	    "SELECT id, coalesce(closed_on::text, ''), "
	    " closed_on < coalesce(nullif($2, '')::date, " CLI_TODAY_SQL ") "
	    "FROM centers WHERE code = $1", 2, params);
	if (PQntuples(res) == 0)
		cli_die("unknown center '%s'; see 'sipas center list'", code);
	if (day != NULL && PQgetvalue(res, 0, 2)[0] == 't')
		cli_die("center '%s' closed on %s", code, PQgetvalue(res, 0, 1));
	snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return id;
}

const char *
cli_counter_id(PGconn *conn, const char *center_id, const char *center,
    const char *code, const char *day)
{
	static char id[16];
	const char *params[3] = { center_id, code, day };
	PGresult *res;

	res = cli_exec(conn, "looking up the counter",
	    "SELECT id, coalesce(retired_on::text, ''), "
	    " retired_on <= coalesce($3::date, " CLI_TODAY_SQL ") "
	    "FROM counters WHERE center_id = $1 AND code = $2", 3, params);
	if (PQntuples(res) == 0)
		cli_die("unknown counter '%s' of center '%s'; see 'sipas counter "
		    "list --center %s'", code, center, center);
	if (PQgetvalue(res, 0, 2)[0] == 't')
		cli_die("counter '%s' of center '%s' retired on %s", code, center,
		    PQgetvalue(res, 0, 1));
	snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return id;
}

int
cli_csv_read(FILE *f, char **buf, size_t *cap, char **fields)
{
	size_t len = 0, starts[CLI_CSV_MAX_FIELDS];
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
			if (n == CLI_CSV_MAX_FIELDS)
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

void
cli_csv_columns(const char *file, char *const *fields, int n,
    const char *const *names, size_t nnames, size_t nrequired, int *index)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		index[i] = -1;
	for (int c = 0; c < n; c++) {
		for (i = 0; i < nnames && strcmp(fields[c], names[i]) != 0; i++)
			;
		if (i == nnames)
			cli_die("%s:1: unknown column '%s' in the header; nothing "
			    "was imported", file, fields[c]);
		if (index[i] != -1)
			cli_die("%s:1: column '%s' twice in the header; nothing "
			    "was imported", file, fields[c]);
		index[i] = c;
	}
	for (i = 0; i < nrequired; i++) {
		if (index[i] == -1)
			cli_die("%s:1: no column '%s' in the header; nothing "
			    "was imported", file, names[i]);
	}
}
