/* sipas db init: applies the numbered migrations of the SQL directory that
 * the database has not recorded yet, each in its own transaction. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas db init [--sql-dir DIR] [--db CONNINFO]\n"
    "\n"
    "Creates the schema, or brings it up to date, by applying the numbered\n"
    "migrations (NNN_name.sql) not yet recorded in schema_migrations.\n"
    "Running it again changes nothing. The migrations are read from --sql-dir,\n"
    "else $SIPAS_SQL_DIR, else " SIPAS_SQLDIR ".\n";

static int
is_migration(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 8 && d->d_name[0] >= '0' && d->d_name[0] <= '9' &&
	    d->d_name[1] >= '0' && d->d_name[1] <= '9' &&
	    d->d_name[2] >= '0' && d->d_name[2] <= '9' && d->d_name[3] == '_' &&
	    strcmp(d->d_name + len - 4, ".sql") == 0;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		cli_die("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		cli_die("%s: cannot read", path);
	buf = xmalloc((size_t)len + 1);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		cli_die("%s: cannot read", path);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static bool
applied(PGconn *conn, const char *version)
{
	const char *params[1] = { version };
	PGresult *res = cli_exec(conn, "reading schema_migrations",
	    "SELECT 1 FROM schema_migrations WHERE version = $1", 1, params);
	bool yes = PQntuples(res) > 0;

	PQclear(res);
	return yes;
}

static void
apply(PGconn *conn, const char *dir, const char *name)
{
	char *path, *sql, version[4];
	const char *params[2] = { version, name };
	const char *args[5] = { "version", version, "file", name, NULL };
	PGresult *res;

	memcpy(version, name, 3);
	version[3] = '\0';
	xasprintf(&path, "%s/%s", dir, name);
	sql = read_file(path);
	PQclear(cli_exec(conn, "BEGIN", "BEGIN", 0, NULL));
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		char *msg = PQresultErrorMessage(res);
		msg[strcspn(msg, "\n")] = '\0';
		PQclear(PQexec(conn, "ROLLBACK"));
		if (audit_log_exists(conn))
			audit_record(conn, "db migrate", "failed", msg, args);
		cli_die("migration %s failed, nothing of it was applied: %s",
		    path, msg);
	}
	PQclear(res);
	PQclear(cli_exec(conn, "recording the migration",
	    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
	    2, params));
	/* From the migration that creates it on, in the migration's transaction. */
	if (audit_log_exists(conn))
		audit_record(conn, "db migrate", "ok", "", args);
	PQclear(cli_exec(conn, "COMMIT", "COMMIT", 0, NULL));
	printf("applied %s\n", name);
	free(sql);
	free(path);
}

static int
db_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "sql-dir", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = getenv("SIPAS_SQL_DIR");
	struct dirent **names;
	PGconn *conn;
	int ch, n, done = 0;

	if (dir == NULL)
		dir = SIPAS_SQLDIR;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 's')
			dir = optarg;
		else
			cli_common_option(ch, optarg, usage);
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if ((n = scandir(dir, &names, is_migration, alphasort)) < 0)
		cli_die("cannot read the migrations in %s: %s", dir, strerror(errno));
	if (n == 0)
		cli_die("no migrations (NNN_name.sql) in %s", dir);

	conn = cli_connect();
	/* Two administrators running init at once must not interleave. */
	PQclear(cli_exec(conn, "locking", "SELECT pg_advisory_lock(4242001)", 0, NULL));
	PQclear(cli_exec(conn, "creating schema_migrations",
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version text PRIMARY KEY,"
	    " name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL));
	for (int i = 0; i < n; i++) {
		char version[4];
		memcpy(version, names[i]->d_name, 3);
		version[3] = '\0';
		if (!applied(conn, version)) {
			apply(conn, dir, names[i]->d_name);
			done++;
		}
		free(names[i]);
	}
	free(names);
	if (done == 0)
		printf("database is up to date (%d migrations)\n", n);
	PQfinish(conn);
	return 0;
}

int
cmd_db(int argc, char **argv)
{
	if (argc < 2)
		cli_usage_error(usage, "db: a subcommand is required");
	if (strcmp(argv[1], "init") == 0)
		return db_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	cli_usage_error(usage, "db: unknown subcommand '%s'", argv[1]);
}
