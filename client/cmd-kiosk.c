/* sipas kiosk add, move, rotate, revoke and list: the registry sipasd
 * checks every request against. A kiosk is its certificate's SHA-256
 * fingerprint, at a center and maybe fixed to a counter of it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "output.h"
#include "audit.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas kiosk add CODE --center CENTER --cert FILE.pem [--counter CODE]\n"
    "           [--questionnaire CODE]\n"
    "       sipas kiosk move CODE --center CENTER [--counter CODE] [--on DATE]\n"
    "       sipas kiosk move CODE --counter CODE|--no-counter [--on DATE]\n"
    "       sipas kiosk rotate CODE --cert NEW.pem\n"
    "       sipas kiosk revoke CODE\n"
    "       sipas kiosk list [--format table|csv]\n"
    "\n"
    "add enrols a kiosk of a center by its client certificate, fixed to a\n"
    "counter of the center with --counter (sipasd then stores that counter for\n"
    "its responses; not one with a retirement date); move takes it to another\n"
    "center (no counter unless --counter) or fixes it to another counter or\n"
    "none from DATE on (default today, not later), keeping its certificate:\n"
    "what it collected before DATE, even sent later, counts at the center and\n"
    "counter it had that day; rotate replaces\n"
    "its certificate, keeping its code and history (the old certificate is\n"
    "refused within 10 seconds); revoke makes sipasd refuse the kiosk within\n"
    "10 seconds. Every command takes --db CONNINFO.\n";

/* A kiosk is fixed to a counter for good: not to one that retires, even
 * later, which sipasd would have to stop storing on that day. */
#define FIXED_UNTIL "infinity"

/* The certificate's fingerprint as a bytea literal, refusing one already
 * enrolled. */
static void
new_fingerprint(PGconn *conn, const char *certfile, char hex[2 * CERT_FINGERPRINT_LEN + 3])
{
	unsigned char fp[CERT_FINGERPRINT_LEN];
	const char *params[1] = { hex };
	char err[512];
	PGresult *res;

	if (!cert_fingerprint_file(certfile, fp, err, sizeof err))
		cli_die("%s", err);
	hex[0] = '\\';
	hex[1] = 'x';
	hex_encode(fp, sizeof fp, hex + 2);
	res = cli_exec(conn, "looking up the certificate",
	    "SELECT code FROM kiosks WHERE cert_sha256 = $1::bytea", 1, params);
	if (PQntuples(res) > 0)
		cli_die("this certificate is already enrolled as kiosk '%s'",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
}

static int
kiosk_add(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "center", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "questionnaire", required_argument, NULL, 'q' },
		{ "counter", required_argument, NULL, 'Q' },
		{ NULL, 0, NULL, 0 } };
	const char *center = NULL, *certfile = NULL, *questionnaire = "";
	char hex[2 * CERT_FINGERPRINT_LEN + 3], center_id[16], counter_id[16] = "";
	const char *counter = NULL, *params[5];
	char *detail;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': center = optarg; break;
		case 'C': certfile = optarg; break;
		case 'q': questionnaire = optarg; break;
		case 'Q': counter = optarg; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "kiosk add: one kiosk CODE is required");
	if (center == NULL || certfile == NULL)
		cli_usage_error(usage, "kiosk add: --center and --cert are required");
	conn = cli_connect();
	audit_begin_argv(conn, "kiosk add", "code", argc, argv, longopts);
	snprintf(center_id, sizeof center_id, "%s", cli_center_id(conn, center, ""));
	if (counter != NULL)
		snprintf(counter_id, sizeof counter_id, "%s",
		    cli_counter_id(conn, center_id, center, counter, FIXED_UNTIL));
	if (questionnaire[0] != '\0') {
		params[0] = questionnaire;
		res = cli_exec(conn, "looking up the questionnaire",
		    "SELECT 1 FROM questionnaires WHERE code = $1 AND active", 1, params);
		if (PQntuples(res) == 0)
			cli_die("unknown or inactive questionnaire '%s'", questionnaire);
		PQclear(res);
	}
	new_fingerprint(conn, certfile, hex);
	params[0] = argv[optind];
	params[1] = center;
	params[2] = hex;
	params[3] = questionnaire;
	params[4] = counter_id;
	/* Its placement since always, in the same statement. */
	res = PQexecParams(conn,
	    "WITH k AS (INSERT INTO kiosks (code, center_id, cert_sha256, "
	    " questionnaire_id, counter_id) "
	    "SELECT $1, c.id, $3::bytea, "
	    "(SELECT id FROM questionnaires WHERE code = nullif($4, '')), "
	    "nullif($5, '')::integer FROM centers c WHERE c.code = $2 "
	    "RETURNING id, center_id, counter_id) "
	    "INSERT INTO kiosk_postings (kiosk_id, valid_from, center_id, counter_id) "
	    "SELECT id, '-infinity', center_id, counter_id FROM k", 5, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "23505") == 0)
			cli_die("a kiosk '%s' exists already", argv[optind]);
		if (state != NULL && strcmp(state, "23514") == 0)
			cli_die("'%s' is not a valid kiosk code (1 to 64 of "
			    "A-Z a-z 0-9 . _ -)", argv[optind]);
		cli_die("adding kiosk %s: %s", argv[optind], PQresultErrorMessage(res));
	}
	PQclear(res);
	xasprintf(&detail, "certificate sha256 %s", hex + 2);
	audit_commit(conn, detail);
	free(detail);
	printf("kiosk %s enrolled at %s%s%s, certificate sha256 %s\n", argv[optind],
	    center, counter ? ", counter " : "", counter ? counter : "", hex + 2);
	PQfinish(conn);
	return 0;
}

/* The center kiosk_id stood at on day ("" for today): its code, in a
 * static buffer, and its id in center_id. */
static const char *
kiosk_center_on(PGconn *conn, const char *kiosk_id, const char *day,
    char center_id[16])
{
	static char code[65];
	const char *params[2] = { kiosk_id, day };
	PGresult *res;

	res = cli_exec(conn, "looking up the kiosk's center",
	    "SELECT s.center_id, c.code FROM kiosk_posting_spans s "
	    "JOIN centers c ON c.id = s.center_id, "
	    " (SELECT coalesce(nullif($2, '')::date, " CLI_TODAY_SQL ") AS d) t "
	    "WHERE s.kiosk_id = $1 AND s.valid_from <= t.d AND t.d < s.valid_until",
	    2, params);
	if (PQntuples(res) == 0)
		cli_die("the kiosk has no placement on that day; give --center");
	snprintf(center_id, 16, "%s", PQgetvalue(res, 0, 0));
	snprintf(code, sizeof code, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return code;
}

/* A placement from day on, and the kiosk's placement now (its latest, as
 * day is not after today) in kiosks, in the caller's transaction. */
static void
kiosk_place(PGconn *conn, const char *kiosk_id, const char *day,
    const char *center_id, const char *counter_id)
{
	const char *params[4] = { kiosk_id, day, center_id, counter_id };

	PQclear(cli_exec(conn, "moving the kiosk",
	    "INSERT INTO kiosk_postings (kiosk_id, valid_from, center_id, counter_id) "
	    "VALUES ($1, coalesce(nullif($2, '')::date, " CLI_TODAY_SQL "), $3, "
	    " nullif($4, '')::integer) "
	    "ON CONFLICT (kiosk_id, valid_from) DO UPDATE "
	    " SET center_id = EXCLUDED.center_id, counter_id = EXCLUDED.counter_id",
	    4, params));
	PQclear(cli_exec(conn, "moving the kiosk",
	    "UPDATE kiosks k SET (center_id, counter_id) = (SELECT p.center_id, "
	    " p.counter_id FROM kiosk_postings p WHERE p.kiosk_id = k.id "
	    " ORDER BY p.valid_from DESC LIMIT 1) WHERE k.id = $1", 1, params));
}

static int
kiosk_move(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "center", required_argument, NULL, 'c' },
		{ "counter", required_argument, NULL, 'Q' },
		{ "no-counter", no_argument, NULL, 'N' },
		{ "on", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 } };
	const char *center = NULL, *counter = NULL, *on = "", *params[2];
	char kiosk_id[16], center_id[16], counter_id[16] = "";
	bool no_counter = false;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': center = optarg; break;
		case 'Q': counter = optarg; break;
		case 'N': no_counter = true; break;
		case 'o': on = cli_date_option("--on", optarg); break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "kiosk move: one kiosk CODE is required");
	if (counter != NULL && no_counter)
		cli_usage_error(usage, "kiosk move: --counter or --no-counter, not both");
	if (center == NULL && counter == NULL && !no_counter)
		cli_usage_error(usage, "kiosk move: --center, --counter or --no-counter "
		    "is required");
	conn = cli_connect();
	audit_begin_argv(conn, "kiosk move", "code", argc, argv, longopts);
	params[0] = argv[optind];
	params[1] = on;
	res = cli_exec(conn, "looking up the kiosk",
	    "SELECT id, coalesce(nullif($2, '')::date, " CLI_TODAY_SQL ") > "
	    CLI_TODAY_SQL " FROM kiosks WHERE code = $1 FOR UPDATE", 2, params);
	if (PQntuples(res) == 0)
		cli_die("unknown kiosk '%s'; see 'sipas kiosk list'", argv[optind]);
	/* A move is recorded when it happens: what kiosks holds is the
	 * placement now. */
	if (PQgetvalue(res, 0, 1)[0] == 't')
		cli_die("--on %s is after today: move the kiosk on the day", on);
	snprintf(kiosk_id, sizeof kiosk_id, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* Without --center, the counter is one of the kiosk's center that day. */
	if (center == NULL)
		center = kiosk_center_on(conn, kiosk_id, on, center_id);
	else
		snprintf(center_id, sizeof center_id, "%s", cli_center_id(conn, center, on));
	if (counter != NULL)
		snprintf(counter_id, sizeof counter_id, "%s",
		    cli_counter_id(conn, center_id, center, counter, FIXED_UNTIL));
	kiosk_place(conn, kiosk_id, on, center_id, counter_id);
	audit_commit(conn, NULL);
	printf("kiosk %s is at %s%s%s from %s; sipasd stores it for the kiosk's "
	    "responses of those days within 10 seconds, its earlier responses keep "
	    "theirs\n", argv[optind], center, counter ? ", counter " : " with no counter",
	    counter ? counter : "", on[0] ? on : "today");
	PQfinish(conn);
	return 0;
}

static int
kiosk_rotate(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "cert", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 } };
	char hex[2 * CERT_FINGERPRINT_LEN + 3];
	const char *certfile = NULL, *params[2];
	char *detail;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'C')
			certfile = optarg;
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "kiosk rotate: one kiosk CODE is required");
	if (certfile == NULL)
		cli_usage_error(usage, "kiosk rotate: --cert is required");
	conn = cli_connect();
	audit_begin_argv(conn, "kiosk rotate", "code", argc, argv, longopts);
	new_fingerprint(conn, certfile, hex);
	params[0] = argv[optind];
	params[1] = hex;
	res = cli_exec(conn, "rotating the certificate",
	    "UPDATE kiosks SET cert_sha256 = $2::bytea WHERE code = $1 "
	    "RETURNING status", 2, params);
	if (PQntuples(res) == 0)
		cli_die("unknown kiosk '%s'; see 'sipas kiosk list'", argv[optind]);
	xasprintf(&detail, "certificate sha256 %s", hex + 2);
	audit_commit(conn, detail);
	free(detail);
	printf("kiosk %s now has certificate sha256 %s%s; the old certificate "
	    "is refused within 10 seconds\n", argv[optind], hex + 2,
	    strcmp(PQgetvalue(res, 0, 0), "revoked") == 0 ?
	    " (the kiosk stays revoked)" : "");
	PQclear(res);
	PQfinish(conn);
	return 0;
}

static int
kiosk_revoke(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 } };
	const char *params[1];
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		cli_common_option(ch, optarg, usage);
	if (optind + 1 != argc)
		cli_usage_error(usage, "kiosk revoke: one kiosk CODE is required");
	params[0] = argv[optind];
	conn = cli_connect();
	audit_begin_argv(conn, "kiosk revoke", "code", argc, argv, longopts);
	res = cli_exec(conn, "revoking the kiosk",
	    "UPDATE kiosks SET status = 'revoked', revoked_at = now() "
	    "WHERE code = $1 AND status = 'active' RETURNING 1", 1, params);
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = cli_exec(conn, "looking up the kiosk",
		    "SELECT status FROM kiosks WHERE code = $1", 1, params);
		if (PQntuples(res) == 0)
			cli_die("unknown kiosk '%s'; see 'sipas kiosk list'", argv[optind]);
		audit_commit(conn, "already revoked");
		printf("kiosk %s was already revoked\n", argv[optind]);
	} else {
		audit_commit(conn, "revoked");
		printf("kiosk %s revoked; sipasd refuses it within 10 seconds\n",
		    argv[optind]);
	}
	PQclear(res);
	PQfinish(conn);
	return 0;
}

static int
kiosk_list(int argc, char **argv)
{
	static const char *const cols[] = { "code", "center", "counter", "status",
		"enrolled_at", "revoked_at", "questionnaire", "cert_sha256" };

	return cli_list(argc, argv, usage, "listing kiosks",
	    "SELECT k.code, c.code, coalesce(q.code, ''), k.status, "
	    " to_char(k.enrolled_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'), "
	    " coalesce(to_char(k.revoked_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'), ''), "
	    " coalesce(qn.code, ''), encode(k.cert_sha256, 'hex') "
	    "FROM kiosks k JOIN centers c ON c.id = k.center_id "
	    "LEFT JOIN counters q ON q.id = k.counter_id "
	    "LEFT JOIN questionnaires qn ON qn.id = k.questionnaire_id ORDER BY k.code",
	    8, cols);
}

int
cmd_kiosk(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return kiosk_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "move") == 0)
		return kiosk_move(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return kiosk_rotate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return kiosk_revoke(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return kiosk_list(argc - 1, argv + 1);
	cli_usage_error(usage, "kiosk: expected 'add', 'move', 'rotate', 'revoke' or 'list'");
}
