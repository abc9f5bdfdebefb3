/* sipas, the administrators' command: what the subcommands share. */
#ifndef SIPAS_H
#define SIPAS_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#define EXIT_USAGE 2

/* From --db, else SIPAS_DB, else NULL for libpq's own PG* variables. */
extern const char *cli_conninfo;
/* The message of the last cli_die, truncated: what the audit log records
 * of a failed action. */
extern char cli_last_error[512];

/* Connects or exits with a message saying what to check. */
PGconn *cli_connect(void);
/* Runs a query that must succeed, or exits naming what was being done. */
PGresult *cli_exec(PGconn *conn, const char *what, const char *sql,
    int nparams, const char *const *params);
void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Handles the options every subcommand takes (--db, --help). Returns false
 * when ch is not one of them. */
bool cli_common_option(int ch, const char *arg, const char *usage);

/* The list commands: --format table|csv and the common options, then the
 * rows of sql (at most 16 columns) printed under cols. */
int cli_list(int argc, char **argv, const char *usage, const char *what,
    const char *sql, size_t ncols, const char *const *cols);

int cmd_db(int argc, char **argv);
int cmd_area(int argc, char **argv);
int cmd_center(int argc, char **argv);
int cmd_kiosk(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_seal_key(int argc, char **argv);
int cmd_comments(int argc, char **argv);

#define CLI_COMMON_LONGOPTS \
	{ "db", required_argument, NULL, 'D' }, \
	{ "help", no_argument, NULL, 'h' }

#endif
