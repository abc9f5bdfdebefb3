/* sipas comments: the comments of the selected responses, sealed ones
 * opened with the secret key (docs/privacy.md). Needs sipas_comments;
 * recorded in the audit log. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "output.h"
#include "seal.h"
#include "sipas.h"

static const char usage[] =
    "usage: sipas comments --key FILE [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                      [--center CODE] [--format table|csv] [--db CONNINFO]\n"
    "\n"
    "Lists the comments of the selected responses in the order submitted: id,\n"
    "time (Vietnam), center and the comment, sealed ones opened with the\n"
    "secret key of FILE ('sipas seal-key new'). --center includes every\n"
    "center below it. A comment the key does not open is listed as stored\n"
    "and named on standard error, and sipas exits 1. Needs a role granted\n"
    "sipas_comments; recorded in the audit log.\n";

/* $1 from, $2 to, $3 center: each NULL for any. */
static const char comments_sql[] =
    "SELECT r.id, to_char(r.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"'), c.code, r.comment"
    " FROM responses r JOIN centers c ON c.id = r.center_id"
    " WHERE r.comment IS NOT NULL AND r.comment <> ''"
    " AND ($1::date IS NULL OR r.submitted_at >= $1::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($2::date IS NULL OR r.submitted_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($3::text IS NULL OR r.center_id IN (WITH RECURSIVE scope AS ("
    "  SELECT id FROM centers WHERE code = $3"
    "  UNION ALL SELECT x.id FROM centers x JOIN scope s ON x.parent_id = s.id)"
    "  SELECT id FROM scope))"
    " ORDER BY r.submitted_at, r.id";

static void
comments_read_key(const char *path, unsigned char sk[SEAL_KEY_LEN])
{
	char line[256] = "", err[256];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		cli_die("%s: %s", path, strerror(errno));
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	if (!seal_key_parse(line, sk, err, sizeof err))
		cli_die("%s: %s", path, err);
	explicit_bzero(line, sizeof line);
}

int
cmd_comments(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "key", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "center", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 } };
	static const char *const cols[] = { "id", "submitted_at", "center", "comment" };
	const char *params[3] = { NULL, NULL, NULL }, *keyfile = NULL, *args[7], *row[4];
	enum output_format fmt = OUTPUT_TABLE;
	unsigned char sk[SEAL_KEY_LEN];
	char detail[64];
	struct table *t;
	PGresult *res;
	PGconn *conn;
	long opened = 0, unopened = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 'f': params[0] = optarg; break;
		case 't': params[1] = optarg; break;
		case 'c': params[2] = optarg; break;
		case 'F':
			if (!output_format_parse(optarg, &fmt) || fmt == OUTPUT_JSON ||
			    fmt == OUTPUT_HTML)
				cli_usage_error(usage, "--format: '%s' is not table or csv", optarg);
			break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (keyfile == NULL)
		cli_usage_error(usage, "comments: --key FILE is required");
	comments_read_key(keyfile, sk);
	conn = cli_connect();
	args[0] = "from", args[1] = params[0], args[2] = "to", args[3] = params[1];
	args[4] = "center", args[5] = params[2], args[6] = NULL;
	audit_begin(conn, "comments", args);
	res = cli_exec(conn, "reading the comments", comments_sql, 3, params);
	t = table_new(4, cols);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *c = PQgetvalue(res, i, 3);
		char *plain = NULL;
		/* Flagged and listed as stored, the rest still opened: a
		 * comment stored in the clear before sealing may begin like a
		 * box, and one box sealed to another key spoils no others. */
		if (seal_is_sealed(c) && (plain = seal_open(c, sk)) == NULL) {
			fprintf(stderr, "sipas: the comment of response %s cannot be opened "
			    "with this key (sealed to another one, altered, or stored in "
			    "the clear): listed as stored\n", PQgetvalue(res, i, 0));
			unopened++;
		}
		for (int k = 0; k < 3; k++)
			row[k] = PQgetvalue(res, i, k);
		row[3] = plain != NULL ? plain : c;
		table_add(t, row);
		opened += plain != NULL;
		if (plain != NULL) {
			explicit_bzero(plain, strlen(plain));
			free(plain);
		}
	}
	snprintf(detail, sizeof detail, "%d comments, %ld opened, %ld not", PQntuples(res),
	    opened, unopened);
	audit_commit(conn, detail);
	explicit_bzero(sk, sizeof sk);
	table_print(t, fmt, stdout);
	table_free(t);
	PQclear(res);
	PQfinish(conn);
	if (unopened > 0) {
		fprintf(stderr, "sipas: %ld comment%s could not be opened\n", unopened,
		    unopened == 1 ? "" : "s");
		return 1;
	}
	return 0;
}
