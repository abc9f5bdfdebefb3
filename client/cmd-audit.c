/* sipas audit: the log of administrative actions, listed with filters, and
 * its hash chain verified here, not by functions in the database
 * (sql/010_privacy.sql). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "output.h"
#include "sipas.h"

static const char usage[] =
    "usage: sipas audit [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--action ACTION]\n"
    "                   [--who NAME] [--format table|csv|json] [--db CONNINFO]\n"
    "       sipas audit verify [--head ID:HASH] [--db CONNINFO]\n"
    "\n"
    "Lists the administrative actions recorded, oldest first: when (Vietnam\n"
    "time), who (database role, operating-system user, host), the action, its\n"
    "arguments and its outcome. --from and --to are Vietnam days, included;\n"
    "--who matches the database role, the session's role or the OS user.\n"
    "verify recomputes the chain of hashes (in sipas, not with the database's\n"
    "functions) and exits 1 naming the first row that\n"
    "was changed, or follows a removed one; on success it prints the last row\n"
    "and its hash: keep them elsewhere, as only they show a removal of the\n"
    "last rows, which --head ID:HASH checks: that row must still be there.\n"
    "Needs the database's owner or a role granted sipas_audit.\n";

/* $1 from, $2 to, $3 action, $4 who: each NULL for "any". */
static const char where_sql[] =
    " FROM audit_log a"
    " WHERE ($1::date IS NULL OR a.at >= $1::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($2::date IS NULL OR a.at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($3::text IS NULL OR a.action = $3)"
    " AND ($4::text IS NULL OR $4 IN (a.db_user, a.session_user_name, a.os_user))";

#define AUDIT_WHEN \
	"to_char(a.at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"')"

static int
audit_list(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "action", required_argument, NULL, 'a' },
		{ "who", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 } };
	static const char *const cols[] = { ">id", "at", "db_user", "os_user", "host",
		"action", "outcome", "arguments", "detail" };
	const char *params[4] = { NULL, NULL, NULL, NULL };
	enum output_format fmt = OUTPUT_TABLE;
	const char *row[9];
	char sql[2048];
	struct table *t;
	PGresult *res;
	PGconn *conn;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': params[0] = optarg; break;
		case 't': params[1] = optarg; break;
		case 'a': params[2] = optarg; break;
		case 'w': params[3] = optarg; break;
		case 'F':
			if (!output_format_parse(optarg, &fmt) || fmt == OUTPUT_HTML)
				cli_usage_error(usage, "--format: '%s' is not table, csv "
				    "or json", optarg);
			break;
		default: cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	conn = cli_connect();
	if (fmt == OUTPUT_JSON) {
		snprintf(sql, sizeof sql, "SELECT coalesce(json_agg(json_build_object("
		    "'id', a.id, 'at', " AUDIT_WHEN ", 'db_user', a.db_user,"
		    " 'session_user', a.session_user_name, 'os_user', a.os_user,"
		    " 'host', a.host, 'action', a.action, 'arguments', a.arguments,"
		    " 'outcome', a.outcome, 'detail', a.detail) ORDER BY a.id), '[]')%s",
		    where_sql);
		res = cli_exec(conn, "reading the audit log", sql, 4, params);
		printf("%s\n", PQgetvalue(res, 0, 0));
	} else {
		snprintf(sql, sizeof sql, "SELECT a.id, " AUDIT_WHEN ", a.db_user,"
		    " a.os_user, a.host, a.action, a.outcome, a.arguments::text, a.detail"
		    "%s ORDER BY a.id", where_sql);
		res = cli_exec(conn, "reading the audit log", sql, 4, params);
		t = table_new(9, cols);
		for (int i = 0; i < PQntuples(res); i++) {
			for (int c = 0; c < 9; c++)
				row[c] = PQgetvalue(res, i, c);
			table_add(t, row);
		}
		table_print(t, fmt, stdout);
		table_free(t);
	}
	PQclear(res);
	PQfinish(conn);
	return 0;
}

/* Each row's columns as stored, in the text forms of the hashed string
 * below, oldest first. Only built-in functions of pg_catalog, named so,
 * which the database's owner cannot replace (sql/010_privacy.sql's
 * sipas_audit_canonical and sipas_audit_row_hash, which the trigger uses,
 * it can). */
static const char verify_sql[] =
    "SELECT a.id, pg_catalog.to_char(a.at AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), a.db_user, a.session_user_name,"
    " pg_catalog.host(a.client_addr), a.os_user, a.host, a.action,"
    " CAST(a.arguments AS pg_catalog.text), a.outcome, a.detail,"
    " pg_catalog.encode(a.prev_hash, 'hex'), pg_catalog.encode(a.row_hash, 'hex')"
    " FROM public.audit_log a ORDER BY a.id";

/* Columns of verify_sql's result. */
enum { V_ID = 0, V_AT = 1, V_ARGUMENTS = 8, V_PREV = 11, V_ROW = 12 };

/* s as a JSON string, escaped as PostgreSQL's escape_json does. */
static void
audit_json_string(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if ((unsigned char)*s < ' ')
				fprintf(f, "\\u%04x", (unsigned)*s);
			else
				putc(*s, f);
		}
	}
	putc('"', f);
}

/* The SHA-256, in hex, of row i of verify_sql's result: of the text of
 * the JSON array of its columns id, at, db_user, session_user_name,
 * host(client_addr), os_user, host, action, arguments, outcome, detail
 * and the hex of prev_hash, written as jsonb writes it: ", " between the
 * elements, the id a number, a missing client address null, the arguments
 * as stored (jsonb's own text), the rest strings. The same byte string as
 * sipas_audit_canonical in sql/010_privacy.sql, which the trigger hashes:
 * change one, change both (sql/012_audit_verify.sql). */
static void
audit_row_hash(PGresult *res, int i, char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "[%s", PQgetvalue(res, i, V_ID));
	for (int c = V_AT; c <= V_PREV; c++) {
		fputs(", ", f);
		if (PQgetisnull(res, i, c))
			fputs("null", f);
		else if (c == V_ARGUMENTS)
			fputs(PQgetvalue(res, i, c), f);
		else
			audit_json_string(f, PQgetvalue(res, i, c));
	}
	putc(']', f);
	fclose(f);
	if (EVP_Digest(text, len, md, NULL, EVP_sha256(), NULL) != 1)
		cli_die("computing SHA-256: %s", ERR_reason_error_string(ERR_get_error()));
	for (int b = 0; b < SHA256_DIGEST_LENGTH; b++)
		snprintf(hex + 2 * b, 3, "%02x", md[b]);
	free(text);
}

/* The row --head names (ID:HASH, as verify printed it once), and what
 * the check found of it. */
struct audit_head {
	long long id;
	const char *hash;
	bool seen;
};

/* Checks the chain, each row's hash computed here: exits 1 naming the
 * first row whose number does not follow its predecessor's (a row removed
 * before it), whose prev_hash is not its predecessor's hash (the
 * predecessor changed, its hash recomputed, or removed), or whose own hash
 * is not that of its content (changed); and the row of head, if any, must
 * be there with its hash, which is what shows a removal of the last rows.
 * Returns the number of rows; last gets the last one's hash. */
static int
audit_check_chain(PGconn *conn, struct audit_head *head, long long *last,
    char lasthash[2 * SHA256_DIGEST_LENGTH + 1])
{
	PGresult *res = cli_exec(conn, "verifying the audit log", verify_sql, 0, NULL);
	char prev[2 * SHA256_DIGEST_LENGTH + 1], hash[sizeof prev];
	long long id;
	int n = PQntuples(res);

	*last = 0;
	memset(prev, '0', sizeof prev - 1);
	prev[sizeof prev - 1] = '\0';
	snprintf(lasthash, sizeof prev, "-");
	for (int i = 0; i < n; i++) {
		id = strtoll(PQgetvalue(res, i, V_ID), NULL, 10);
		if (id != *last + 1)
			cli_die("audit log broken: row %lld follows row %lld: the rows between "
			    "were removed; the rows after it are not vouched for", id, *last);
		if (strcmp(PQgetvalue(res, i, V_PREV), prev) != 0)
			cli_die("audit log broken: row %lld does not follow the hash of the row "
			    "before it, which was changed; the rows after it are not vouched "
			    "for", id);
		audit_row_hash(res, i, hash);
		if (strcmp(PQgetvalue(res, i, V_ROW), hash) != 0)
			cli_die("audit log broken: row %lld was changed after it was written; "
			    "the rows after it are not vouched for", id);
		if (head != NULL && id == head->id) {
			if (strcmp(hash, head->hash) != 0)
				cli_die("audit log broken: row %lld does not have the hash noted",
				    id);
			head->seen = true;
		}
		memcpy(prev, hash, sizeof prev);
		*last = id;
	}
	PQclear(res);
	if (head != NULL && !head->seen)
		cli_die("audit log broken: row %lld is missing: the rows from it on were "
		    "removed", head->id);
	if (n > 0)
		memcpy(lasthash, prev, sizeof prev);
	return n;
}

static bool
audit_head_valid(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	return digits > 0 && digits < 19 && s[digits] == ':' &&
	    strlen(s + digits + 1) == 64 && strspn(s + digits + 1, "0123456789abcdef") == 64;
}

static int
audit_verify(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "head", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 } };
	const char *head = NULL;
	struct audit_head h = { 0, NULL, false };
	char lasthash[2 * SHA256_DIGEST_LENGTH + 1];
	long long last;
	PGconn *conn;
	int ch, n;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'H')
			head = optarg;
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (head != NULL && !audit_head_valid(head))
		cli_usage_error(usage, "--head: '%s' is not ID:HASH as 'sipas audit "
		    "verify' prints them", head);
	if (head != NULL) {
		h.id = strtoll(head, NULL, 10);
		h.hash = strchr(head, ':') + 1;
	}
	conn = cli_connect();
	/* Bytes as the database hashed them (UTF-8), and nothing of the owner's
	 * between them and this check: its functions are pg_catalog's, its
	 * table named with its schema, whatever search_path the owner set. */
	if (PQsetClientEncoding(conn, "UTF8") != 0)
		cli_die("cannot read the audit log as UTF-8: %s", PQerrorMessage(conn));
	PQclear(cli_exec(conn, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    0, NULL));
	PQclear(cli_exec(conn, "setting the search path",
	    "SET LOCAL search_path = pg_catalog", 0, NULL));
	n = audit_check_chain(conn, head != NULL ? &h : NULL, &last, lasthash);
	printf("audit log intact: %d rows; last row %lld, hash %s\n", n, last, lasthash);
	PQclear(cli_exec(conn, "COMMIT", "COMMIT", 0, NULL));
	PQfinish(conn);
	return 0;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	return audit_list(argc, argv);
}
