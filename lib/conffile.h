/* A "key = value" file read against a table of keys, PgBouncer style: one
 * row per key with its type, target, default, whether a reload applies it
 * and a line of help, so that the parser, the defaults, the reload and the
 * documentation test cannot drift apart. */
#ifndef SIPAS_CONFFILE_H
#define SIPAS_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum conf_type {
	CONF_STRING,	/* char *, owned by the target */
	CONF_INT,	/* long long, plain integer */
	CONF_SIZE,	/* long long bytes; accepts a k/K, m/M or g/G suffix (1024-based) */
	CONF_SECONDS,	/* long long seconds; accepts an s, m or h suffix */
	CONF_LOGLEVEL,	/* enum log_level: error, warn, info, debug */
	CONF_ADDRESS,	/* char *, "ipv4:port" or "[ipv6]:port" */
	CONF_BOOL,	/* bool: yes/no, true/false, on/off, 1/0 */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;		/* of the field in the target struct */
	const char *def;	/* default in file syntax, NULL for none */
	long long min, max;	/* for numeric types */
	bool restart;		/* a reload cannot apply it: it keeps the running value */
	const char *help;	/* one line, for people reading the table */
};

/* Sets every key of the table to its default. */
bool conf_defaults(const struct conf_key *keys, void *target,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Reads path on top of the defaults. On failure err names the file, the line
 * and the key, and target holds what was set so far (free it with conf_free). */
bool conf_load(const char *path, const struct conf_key *keys, void *target,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Parses one line; lineno is only for messages. Exposed for the fuzzer. */
bool conf_parse_line(char *line, unsigned lineno, const struct conf_key *keys,
    void *target, unsigned char *seen, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Sets key in dst to its value in src (a string is copied); says whether
 * dst held a different value. */
bool conf_copy_key(const struct conf_key *key, void *dst, const void *src);
/* Each key with its default and whether it needs a restart, then its help. */
void conf_print_keys(const struct conf_key *keys, FILE *f);
void conf_free(const struct conf_key *keys, void *target);
size_t conf_count(const struct conf_key *keys);

#endif
