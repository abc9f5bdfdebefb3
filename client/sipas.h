/* sipas, the administrators' command: what the subcommands share. */
#ifndef SIPAS_H
#define SIPAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#define EXIT_USAGE 2

/* From --db, else SIPAS_DB, else NULL for libpq's own PG* variables. */
extern const char *cli_conninfo;
/* The message of the last cli_die or cli_usage_error, truncated: what the
 * audit log records of a failed action. */
extern char cli_last_error[512];

/* Connects or exits with a message saying what to check. */
PGconn *cli_connect(void);
/* Runs a query that must succeed, or exits naming what was being done. */
PGresult *cli_exec(PGconn *conn, const char *what, const char *sql,
    int nparams, const char *const *params);
void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* What cli_die's messages start with from now on, e.g. "FILE:LINE: " while
 * a file is read; cli_context("%s", "") for nothing. */
void cli_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Handles the options every subcommand takes (--db, --help). Returns false
 * when ch is not one of them. */
bool cli_common_option(int ch, const char *arg, const char *usage);

/* The list commands: --format table|csv and the common options, then the
 * rows of sql (at most 16 columns) printed under cols. */
int cli_list(int argc, char **argv, const char *usage, const char *what,
    const char *sql, size_t ncols, const char *const *cols);

/* The rows of res printed under cols (at most 16 columns). */
void cli_print_rows(PGresult *res, const char *format, const char *usage,
    size_t ncols, const char *const *cols);

/* Today as a Vietnam day, in SQL. */
#define CLI_TODAY_SQL "(now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

/* Whether s is a day of the calendar written YYYY-MM-DD. */
bool cli_date_valid(const char *s) __attribute__((warn_unused_result));
/* s, or exits saying that the value of the option opt is not a date. */
const char *cli_date_option(const char *opt, const char *s);

/* The id of the center code (pointing into a static buffer until the next
 * call), or exits naming it. With a day ("" for today), also refuses a
 * center closed before that day. */
const char *cli_center_id(PGconn *conn, const char *code, const char *day);
/* The id of counter code of the center center_id (whose code is center),
 * active on day (NULL: today), or exits naming it. */
const char *cli_counter_id(PGconn *conn, const char *center_id,
    const char *center, const char *code, const char *day);

#define CLI_CSV_MAX_FIELDS 16
/* Reads one RFC 4180 record. Returns the number of fields, 0 at the end of
 * the file, -1 when a line has too many fields. Fields point into *buf. */
int cli_csv_read(FILE *f, char **buf, size_t *cap, char **fields);
/* Maps the header row fields[0..n) onto names: index[i] is the column of
 * names[i], or -1. Exits on a column not in names or given twice, and when
 * one of the first nrequired names is missing. */
void cli_csv_columns(const char *file, char *const *fields, int n,
    const char *const *names, size_t nnames, size_t nrequired, int *index);

int cmd_db(int argc, char **argv);
int cmd_area(int argc, char **argv);
int cmd_center(int argc, char **argv);
int cmd_kiosk(int argc, char **argv);
int cmd_counter(int argc, char **argv);
int cmd_officer(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_seal_key(int argc, char **argv);
int cmd_comments(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_revoke(int argc, char **argv);

#define CLI_COMMON_LONGOPTS \
	{ "db", required_argument, NULL, 'D' }, \
	{ "help", no_argument, NULL, 'h' }

#endif
