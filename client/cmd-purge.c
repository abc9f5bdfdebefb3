/* sipas purge: the retention of personal data (docs/privacy.md). Clears
 * the comment and the respondent's profile of older responses; their
 * answers, and so every figure of the reports, stay. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sipas.h"

/* The default retention, docs/privacy.md: a year, the period of the annual
 * SIPAS index, whose breakdowns by respondent need the profiles. */
#define PURGE_DEFAULT_DAYS "365"

static const char usage[] =
    "usage: sipas purge [--personal-data-older-than DAYS] [--dry-run] [--db CONNINFO]\n"
    "\n"
    "Clears the comment and the respondent's profile (gender, age group,\n"
    "ethnicity, education, occupation) of the responses submitted before the\n"
    "Vietnam day DAYS days ago (default " PURGE_DEFAULT_DAYS "). Their answers stay, so\n"
    "every report gives the same figures, except that reports by a\n"
    "respondent attribute count the purged responses among those who did\n"
    "not say. --dry-run says how many would be cleared and changes nothing.\n"
    "Both are recorded in the audit log.\n";

/* $1 days; $2 dry: sipas_purge_personal_data (sql/010_privacy.sql), which
 * has the second rollup follow the purge. */
static const char purge_sql[] =
    "SELECT sipas_purge_personal_data((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
    " - $1::int, $2::boolean)";

static bool
purge_days_valid(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s >= '0' && *s <= '9' && *end == '\0' && v >= 0 && v <= 100000;
}

int
cmd_purge(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "personal-data-older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 } };
	const char *days = PURGE_DEFAULT_DAYS, *args[5];
	char detail[64];
	bool dry = false;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': days = optarg; break;
		case 'n': dry = true; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (!purge_days_valid(days))
		cli_usage_error(usage, "--personal-data-older-than: '%s' is not a number "
		    "of days", days);
	conn = cli_connect();
	args[0] = "older_than_days", args[1] = days;
	args[2] = "dry_run", args[3] = dry ? "yes" : "no", args[4] = NULL;
	audit_begin(conn, "purge", args);
	res = cli_exec(conn, dry ? "counting the responses to purge" : "purging", purge_sql, 2,
	    (const char *[]){ days, dry ? "true" : "false" });
	snprintf(detail, sizeof detail, "%s responses", PQgetvalue(res, 0, 0));
	audit_commit(conn, detail);
	printf("%s the personal data of %s responses older than %s days\n",
	    dry ? "would clear" : "cleared", PQgetvalue(res, 0, 0), days);
	PQclear(res);
	PQfinish(conn);
	return 0;
}
