/* sipas kiosk add, revoke and list: the registry sipasd checks every
 * request against. A kiosk is its certificate's SHA-256 fingerprint. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cert.h"
#include "output.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas kiosk add CODE --center CENTER --cert FILE.pem [--questionnaire CODE]\n"
    "       sipas kiosk rotate CODE --cert NEW.pem\n"
    "       sipas kiosk revoke CODE\n"
    "       sipas kiosk list [--format table|csv]\n"
    "\n"
    "add enrols a kiosk of a center by its client certificate; rotate replaces\n"
    "its certificate, keeping its code and history (the old certificate is\n"
    "refused within 10 seconds); revoke makes sipasd refuse the kiosk within\n"
    "10 seconds. Every command takes --db CONNINFO.\n";

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
		{ NULL, 0, NULL, 0 } };
	const char *center = NULL, *certfile = NULL, *questionnaire = "";
	char hex[2 * CERT_FINGERPRINT_LEN + 3], *detail;
	const char *params[4], *args[9];
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': center = optarg; break;
		case 'C': certfile = optarg; break;
		case 'q': questionnaire = optarg; break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind + 1 != argc)
		cli_usage_error(usage, "kiosk add: one kiosk CODE is required");
	if (center == NULL || certfile == NULL)
		cli_usage_error(usage, "kiosk add: --center and --cert are required");
	conn = cli_connect();
	args[0] = "code", args[1] = argv[optind], args[2] = "center", args[3] = center;
	args[4] = "cert", args[5] = certfile, args[6] = "questionnaire";
	args[7] = questionnaire[0] != '\0' ? questionnaire : NULL, args[8] = NULL;
	audit_begin(conn, "kiosk add", args);
	params[0] = center;
	res = cli_exec(conn, "looking up the center",
	    "SELECT 1 FROM centers WHERE code = $1", 1, params);
	if (PQntuples(res) == 0)
		cli_die("unknown center '%s'; see 'sipas center list'", center);
	PQclear(res);
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
	res = PQexecParams(conn,
	    "INSERT INTO kiosks (code, center_id, cert_sha256, questionnaire_id) "
	    "SELECT $1, c.id, $3::bytea, "
	    "(SELECT id FROM questionnaires WHERE code = nullif($4, '')) "
	    "FROM centers c WHERE c.code = $2", 4, NULL, params, NULL, NULL, 0);
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
	printf("kiosk %s enrolled at %s, certificate sha256 %s\n", argv[optind],
	    center, hex + 2);
	PQfinish(conn);
	return 0;
}

static int
kiosk_rotate(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "cert", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 } };
	char hex[2 * CERT_FINGERPRINT_LEN + 3], *detail;
	const char *certfile = NULL, *params[2], *args[5];
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
	args[0] = "code", args[1] = argv[optind], args[2] = "cert", args[3] = certfile;
	args[4] = NULL;
	audit_begin(conn, "kiosk rotate", args);
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
	const char *params[1], *args[3];
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		cli_common_option(ch, optarg, usage);
	if (optind + 1 != argc)
		cli_usage_error(usage, "kiosk revoke: one kiosk CODE is required");
	params[0] = argv[optind];
	conn = cli_connect();
	args[0] = "code", args[1] = argv[optind], args[2] = NULL;
	audit_begin(conn, "kiosk revoke", args);
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
	static const char *const cols[] = { "code", "center", "status",
		"enrolled_at", "revoked_at", "questionnaire", "cert_sha256" };

	return cli_list(argc, argv, usage, "listing kiosks",
	    "SELECT k.code, c.code, k.status, "
	    " to_char(k.enrolled_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'), "
	    " coalesce(to_char(k.revoked_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'), ''), "
	    " coalesce(q.code, ''), encode(k.cert_sha256, 'hex') "
	    "FROM kiosks k JOIN centers c ON c.id = k.center_id "
	    "LEFT JOIN questionnaires q ON q.id = k.questionnaire_id ORDER BY k.code",
	    7, cols);
}

int
cmd_kiosk(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return kiosk_add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return kiosk_rotate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return kiosk_revoke(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return kiosk_list(argc - 1, argv + 1);
	cli_usage_error(usage, "kiosk: expected 'add', 'rotate', 'revoke' or 'list'");
}
