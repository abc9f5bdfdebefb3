/* sipas export: every selected response, one CSV row or one JSON line
 * each, criteria as columns in questionnaire order. Rows are streamed in
 * libpq's single-row mode, so memory stays flat however many there are;
 * PostgreSQL builds the JSON lines itself. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "catalog.h"
#include "filter.h"
#include "output.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas export [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--center CODE]\n"
    "                    [--area CODE] [--kiosk CODE] [--counter CODE]\n"
    "                    [--officer CODE] [--questionnaire CODE]\n"
    "                    [--format csv|ndjson] [--with-personal-data]\n"
    "                    [--db CONNINFO]\n"
    "\n"
    "Writes every selected response to standard output in the order submitted:\n"
    "its id, time (Vietnam), center, kiosk, service area, procedure, one column\n"
    "per criterion of the questionnaire (empty: not applicable), the overall\n"
    "rating, and, with --with-personal-data (which needs the role\n"
    "sipas_comments and is recorded in the audit log like every export), the\n"
    "respondent's profile and the comment. CSV (RFC 4180, UTF-8\n"
    "with a byte order mark) has a header row, and text that a spreadsheet\n"
    "would run as a formula starts with a single quote; ndjson is one JSON\n"
    "object a line. Without\n"
    "--questionnaire, the one with the most responses in the selection.\n";

static const char *const fixed[] = { "id", "submitted_at", "center", "kiosk",
	"service_area", "procedure" };
/* The overall rating, then the personal data (docs/privacy.md), exported
 * only with --with-personal-data. */
static const char *const profile[] = { "overall", "gender", "age_group", "ethnicity",
	"education", "occupation", "comment" };

#define NFIXED (sizeof fixed / sizeof fixed[0])
#define NPROFILE_ALL (sizeof profile / sizeof profile[0])

/* How many of profile[] are exported: 1 (the overall rating) or all. */
static size_t nprofile = 1;

/* $1 questionnaire, then the selection of filter_responses. */
static const char from_sql[] =
    " FROM responses r"
    " JOIN centers c ON c.id = r.center_id"
    " JOIN kiosks k ON k.id = r.kiosk_id"
    " JOIN service_areas sa ON sa.id = r.service_area_id"
    " WHERE r.questionnaire_id = $1 AND ";

/* The end of the query: from_sql, the selection, the order. */
static void
put_from(FILE *f, const struct filter *flt)
{
	fputs(from_sql, f);
	fputs(filter_responses(flt, true), f);
	fputs(" ORDER BY r.submitted_at, r.id", f);
}

static const char when_sql[] =
    "to_char(r.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"')";

/* The answers and the overall rating are numbers; everything else,
 * the comment above all, is text. */
static enum csv_kind
csv_kind_of(const struct questionnaire *q, size_t column)
{
	return column >= NFIXED && column <= NFIXED + q->ncriteria ? CSV_NUMBER : CSV_TEXT;
}

static char *
csv_query(const struct questionnaire *q, const struct filter *flt)
{
	char *sql;
	size_t len;
	FILE *f = open_memstream(&sql, &len);

	fprintf(f, "SELECT r.id, %s, c.code, k.code, sa.code, r.procedure", when_sql);
	for (size_t i = 0; i < q->ncriteria; i++)
		fprintf(f, ", r.answers[%zu]", i + 1);
	for (size_t i = 0; i < nprofile; i++)
		fprintf(f, ", r.%s", profile[i]);
	put_from(f, flt);
	fclose(f);
	return sql;
}

static char *
ndjson_query(PGconn *conn, const struct questionnaire *q, const struct filter *flt)
{
	char *sql, *code;
	size_t len;
	FILE *f = open_memstream(&sql, &len);

	fprintf(f, "SELECT json_build_object('id', r.id, 'submitted_at', %s,"
	    " 'center', c.code, 'kiosk', k.code, 'service_area', sa.code,"
	    " 'questionnaire', ", when_sql);
	code = PQescapeLiteral(conn, q->code, strlen(q->code));
	fprintf(f, "%s, 'procedure', r.procedure, 'answers', json_build_object(", code);
	PQfreemem(code);
	/* json_build_object takes at most 100 arguments: 50 criteria a call. */
	for (size_t i = 0; i < q->ncriteria; i++) {
		if (i > 0 && i % 50 == 0)
			fputs(")::jsonb || jsonb_build_object(", f);
		code = PQescapeLiteral(conn, q->criteria[i].code, strlen(q->criteria[i].code));
		fprintf(f, "%s%s, r.answers[%zu]", i % 50 ? ", " : "", code, i + 1);
		PQfreemem(code);
	}
	fputs(")", f);
	for (size_t i = 0; i < nprofile; i++)
		fprintf(f, ", '%s', r.%s", profile[i], profile[i]);
	fputs(")::text", f);
	put_from(f, flt);
	fclose(f);
	return sql;
}

static void
csv_header(const struct questionnaire *q)
{
	fputs(CSV_BOM, stdout);
	for (size_t i = 0; i < NFIXED; i++)
		csv_field(stdout, fixed[i], CSV_TEXT, false);
	for (size_t i = 0; i < q->ncriteria; i++)
		csv_field(stdout, q->criteria[i].code, CSV_TEXT, false);
	for (size_t i = 0; i < nprofile; i++)
		csv_field(stdout, profile[i], CSV_TEXT, i + 1 == nprofile);
}

/* The database refuses the personal columns to the report roles
 * (sql/010_privacy.sql); saying so before the export starts. */
static void
export_check_personal(PGconn *conn)
{
	PGresult *res = cli_exec(conn, "checking the right to personal data",
	    "SELECT has_column_privilege('responses', 'comment', 'SELECT')", 0, NULL);

	if (PQgetvalue(res, 0, 0)[0] != 't')
		cli_die("--with-personal-data needs a role granted sipas_comments; "
		    "nothing was exported");
	PQclear(res);
}

/* What the audit log records of an export: the selection and the format. */
static void
export_audit_args(const struct filter *flt, bool ndjson, const char *args[21])
{
	const char *const a[] = { "from", flt->from, "to", flt->to, "center", flt->center,
		"area", flt->area, "kiosk", flt->kiosk, "counter", flt->counter,
		"officer", flt->officer, "questionnaire", flt->questionnaire,
		"format", ndjson ? "ndjson" : "csv",
		"with_personal_data", nprofile > 1 ? "yes" : NULL, NULL };

	memcpy(args, a, sizeof a);
}

int
cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, FILTER_LONGOPTS,
		{ "format", required_argument, NULL, 'F' },
		{ "with-personal-data", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 } };
	struct filter flt = { 0 };
	const char *params[FILTER_NPARAMS], *args[21];
	bool ndjson = false;
	const struct questionnaire *q;
	struct catalog *cat;
	char err[512], qid[16], *sql;
	PGconn *conn;
	PGresult *res;
	int ch;
	long rows = 0;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'P': nprofile = NPROFILE_ALL; break;
		case 'F':
			if (strcmp(optarg, "ndjson") == 0)
				ndjson = true;
			else if (strcmp(optarg, "csv") != 0)
				cli_usage_error(usage, "--format: '%s' is not csv or ndjson", optarg);
			break;
		default:
			if (!filter_option(&flt, ch, optarg))
				cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	filter_check(NULL, &flt, usage);
	conn = cli_connect();
	export_audit_args(&flt, ndjson, args);
	audit_begin(conn, "export", args);
	if (nprofile > 1)
		export_check_personal(conn);
	filter_check(conn, &flt, usage);
	if (!catalog_load(conn, &cat, err, sizeof err))
		cli_die("%s", err);
	q = filter_questionnaire(conn, cat, &flt);

	snprintf(qid, sizeof qid, "%d", q->id);
	filter_params(&flt, qid, params);
	sql = ndjson ? ndjson_query(conn, q, &flt) : csv_query(q, &flt);
	/* A reader gone is a failure recorded (a write error), not a death
	 * by SIGPIPE with rows out and nothing in the audit log. */
	signal(SIGPIPE, SIG_IGN);
	audit_started(conn);
	if (!PQsendQueryParams(conn, sql, FILTER_NPARAMS, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn))
		cli_die("exporting: %s", PQerrorMessage(conn));
	if (!ndjson)
		csv_header(q);
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE) {
			int n = PQnfields(res);
			if (ndjson) {
				fputs(PQgetvalue(res, 0, 0), stdout);
				putchar('\n');
			} else {
				for (int i = 0; i < n; i++)
					csv_field(stdout, PQgetvalue(res, 0, i),
					    csv_kind_of(q, (size_t)i), i + 1 == n);
			}
			rows++;
			if (ferror(stdout))
				cli_die("writing the export failed after %ld rows: %s", rows,
				    strerror(errno));
		} else if (st != PGRES_TUPLES_OK) {
			cli_die("exporting, after %ld rows: %s", rows, PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_die("writing the export failed after %ld rows: %s", rows, strerror(errno));
	snprintf(err, sizeof err, "%ld responses", rows);
	audit_commit(conn, err);
	free(sql);
	catalog_free(cat);
	PQfinish(conn);
	return 0;
}
