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

/* Columns whose name starts with '>' are right-aligned (the '>' is not shown). */
struct table *table_new(size_t ncols, const char *const *names);
/* Adds a row of ncols strings (copied). */
void table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, enum output_format fmt, FILE *f);
void table_free(struct table *t);

/* Every CSV sipas writes starts with a UTF-8 byte order mark: without it
 * the spreadsheet most officials use reads Vietnamese as Windows-1252. */
#define CSV_BOM "\xef\xbb\xbf"

/* One CSV field, quoted when it must be. */
void csv_field(FILE *f, const char *s, bool last);

#endif
