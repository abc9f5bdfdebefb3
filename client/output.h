/* Tabular output for the client: an aligned terminal table (Vietnamese
 * widths counted in columns, not bytes) or RFC 4180 CSV. */
#ifndef SIPAS_OUTPUT_H
#define SIPAS_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

enum output_format {
	OUTPUT_TABLE,
	OUTPUT_CSV,
	OUTPUT_JSON,
	OUTPUT_HTML,
};

struct table;

bool output_format_parse(const char *name, enum output_format *out);

/* Columns whose name starts with '>' hold numbers: right-aligned in the
 * table, written as they are in CSV (the '>' is not shown). */
struct table *table_new(size_t ncols, const char *const *names);
/* Adds a row of ncols strings (copied). */
void table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, enum output_format fmt, FILE *f);
void table_free(struct table *t);

/* Every CSV sipas writes starts with a UTF-8 byte order mark: without it
 * the spreadsheet most officials use reads Vietnamese as Windows-1252. */
#define CSV_BOM "\xef\xbb\xbf"

/* What a CSV cell holds. Text comes from the public (comments, procedure
 * codes) or from files: text that a spreadsheet would run as a formula,
 * starting with '=', '+', '-', '@', a tab or a carriage return, is written
 * with a leading single quote (OWASP, CSV injection), so it shows as the
 * text it is. A number is written as it is ("-3.25" stays a number), and
 * so is "-", the mark of a missing figure; a CSV_NUMBER cell that holds
 * anything else is neutralised like text. */
enum csv_kind {
	CSV_TEXT,
	CSV_NUMBER,
};

/* One CSV field, neutralised and quoted when it must be: every CSV sipas
 * writes goes through here. */
void csv_field(FILE *f, const char *s, enum csv_kind kind, bool last);

#endif
