/* sipas purge: the retention of personal data, and a person's request to
 * erase theirs (docs/privacy.md). Clears the comment and the respondent's
 * profile of older responses, or of one; their answers, and so every
 * figure of the reports not by a respondent attribute, stay. */
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
    "       sipas purge --response ID [--dry-run] [--db CONNINFO]\n"
    "\n"
    "Clears the comment and the respondent's profile (gender, age group,\n"
    "ethnicity, education, occupation) of the responses submitted before the\n"
    "Vietnam day DAYS days ago (default " PURGE_DEFAULT_DAYS "). Their answers stay, so\n"
    "every report gives the same figures, except that reports by a\n"
    "respondent attribute count the purged responses among those who did\n"
    "not say. --response clears them of the one response ID (the UUID the\n"
    "kiosk shows), at a person's request. --dry-run says how many would be\n"
    "cleared and changes nothing. Both are recorded in the audit log.\n";

/* $1 days or $2 response id, the other NULL; $3 dry:
 * sipas_purge_personal_data (sql/011_erase.sql), which has the second
 * rollup follow the purge. */
static const char purge_sql[] =
    "SELECT sipas_purge_personal_data((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
    " - $1::int, $2::uuid, $3::boolean)";

static bool
purge_days_valid(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s >= '0' && *s <= '9' && *end == '\0' && v >= 0 && v <= 100000;
}

/* A response id as protocol.md has the kiosk write it: a UUID. */
static bool
purge_id_valid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t len = strlen(s);

	if (len != 36)
		return false;
	for (size_t i = 0, d = 0; i < len; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

static void
purge_print(bool dry, const char *days, const char *id, const char *count)
{
	if (id == NULL)
		printf("%s the personal data of %s responses older than %s days\n",
		    dry ? "would clear" : "cleared", count, days);
	else if (strcmp(count, "0") == 0)
		printf("response %s holds no personal data: nothing to clear\n", id);
	else
		printf("%s the personal data of response %s\n",
		    dry ? "would clear" : "cleared", id);
}

int
cmd_purge(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "personal-data-older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "response", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 } };
	const char *days = NULL, *id = NULL, *args[7];
	char detail[64];
	bool dry = false;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': days = optarg; break;
		case 'n': dry = true; break;
		case 'r': id = optarg; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (id != NULL && days != NULL)
		cli_usage_error(usage, "--response and --personal-data-older-than: one or "
		    "the other");
	if (id != NULL && !purge_id_valid(id))
		cli_usage_error(usage, "--response: '%s' is not a response id (a UUID)", id);
	if (id == NULL && days == NULL)
		days = PURGE_DEFAULT_DAYS;
	if (days != NULL && !purge_days_valid(days))
		cli_usage_error(usage, "--personal-data-older-than: '%s' is not a number "
		    "of days", days);
	conn = cli_connect();
	args[0] = "older_than_days", args[1] = days;
	args[2] = "response", args[3] = id;
	args[4] = "dry_run", args[5] = dry ? "yes" : "no", args[6] = NULL;
	audit_begin(conn, "purge", args);
	res = cli_exec(conn, dry ? "counting the responses to purge" : "purging", purge_sql, 3,
	    (const char *[]){ days, id, dry ? "true" : "false" });
	snprintf(detail, sizeof detail, "%s responses", PQgetvalue(res, 0, 0));
	audit_commit(conn, detail);
	purge_print(dry, days, id, PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return 0;
}
