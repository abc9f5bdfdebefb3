/* sipas: option handling common to every subcommand, the database
 * connection, and dispatch to client/cmd-*.c. */
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "sipas.h"

const char *cli_conninfo;

static const char usage_text[] =
    "usage: sipas [--db CONNINFO] COMMAND [ARGS]\n"
    "\n"
    "Administers the satisfaction survey database and reports on it.\n"
    "\n"
    "commands:\n"
    "  db init                       create or upgrade the schema (idempotent)\n"
    "  area list                     list the service areas\n"
    "  center import FILE.csv        add or update centers (code,name_vi,level,parent)\n"
    "  center list                   list the centers as a tree\n"
    "  kiosk add CODE --center CENTER --cert FILE.pem [--questionnaire CODE]\n"
    "  kiosk rotate CODE --cert NEW.pem  replace the kiosk's certificate\n"
    "  kiosk revoke CODE             refuse the kiosk's requests from now on\n"
    "  kiosk list                    list the kiosks\n"
    "  report --by DIM[,DIM] [--from DATE] [--to DATE] [--center CODE]\n"
    "         [--area CODE] [--kiosk CODE] [--questionnaire CODE] [--min-n N]\n"
    "         [--target PERCENT] [--worst N] [--compare previous|FROM:TO]\n"
    "         [--format table|csv|json|html]   satisfaction figures\n"
    "  export [--from DATE] [--to DATE] [--center CODE] [--area CODE]\n"
    "         [--kiosk CODE] [--questionnaire CODE] [--format csv|ndjson]\n"
    "                                every response with its answers\n"
    "\n"
    "The database is --db CONNINFO, else $SIPAS_DB, else libpq's PG* variables.\n"
    "Every command takes --help. See sipas(1).\n";

void
cli_die(const char *fmt, ...)
{
	va_list ap;

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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{ "db", cmd_db },
		{ "area", cmd_area },
		{ "center", cmd_center },
		{ "kiosk", cmd_kiosk },
		{ "report", cmd_report },
		{ "export", cmd_export },
	};
	int ch;

	/* Widths of Vietnamese text need a UTF-8 character type. */
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	log_init("sipas", LOG_LEVEL_WARN);
	cli_conninfo = getenv("SIPAS_DB");

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (ch == 'V') {
			printf("sipas %s\n", PACKAGE_VERSION);
			return 0;
		}
		cli_common_option(ch, optarg, usage_text);
	}
	if (optind >= argc)
		cli_usage_error(usage_text, "a command is required");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			argv += optind;
			argc -= optind;
			optind = 0;	/* 0 makes GNU getopt start afresh, forgetting "+" */
			return commands[i].fn(argc, argv);
		}
	}
	cli_usage_error(usage_text, "unknown command '%s'", argv[optind]);
}
