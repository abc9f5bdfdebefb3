/* What every sipas command shares: errors and usage, the common options,
 * the database connection, queries and the list commands. The commands call
 * it; it calls none of them. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "sipas.h"

const char *cli_conninfo;
char cli_last_error[512];

void
cli_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli_last_error, sizeof cli_last_error, fmt, ap);
	va_end(ap);
	fputs("sipas: ", stderr);
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

	fputs("sipas: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
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

int
cli_list(int argc, char **argv, const char *usage, const char *what,
    const char *sql, size_t ncols, const char *const *cols)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	enum output_format fmt = OUTPUT_TABLE;
	const char *row[16];
	struct table *t;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'f') {
			if (!output_format_parse(optarg, &fmt) || fmt == OUTPUT_JSON ||
			    fmt == OUTPUT_HTML)
				cli_usage_error(usage, "--format: '%s' is not table "
				    "or csv", optarg);
		} else {
			cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	conn = cli_connect();
	res = cli_exec(conn, what, sql, 0, NULL);
	t = table_new(ncols, cols);
	for (int i = 0; i < PQntuples(res); i++) {
		for (size_t c = 0; c < ncols && c < 16; c++)
			row[c] = PQgetvalue(res, i, (int)c);
		table_add(t, row);
	}
	table_print(t, fmt, stdout);
	table_free(t);
	PQclear(res);
	PQfinish(conn);
	return 0;
}

