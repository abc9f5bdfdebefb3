/* Tables and CSV: the one CSV cell writer, csv_field. */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "utf8.h"
#include "xmalloc.h"

struct table {
	size_t ncols;
	char **names;
	bool *number;		/* a column of numbers: right-aligned, written as they are */
	char ***rows;
	size_t nrows;
};

bool
output_format_parse(const char *name, enum output_format *out)
{
	if (strcmp(name, "table") == 0)
		*out = OUTPUT_TABLE;
	else if (strcmp(name, "csv") == 0)
		*out = OUTPUT_CSV;
	else if (strcmp(name, "json") == 0)
		*out = OUTPUT_JSON;
	else if (strcmp(name, "html") == 0)
		*out = OUTPUT_HTML;
	else
		return false;
	return true;
}

struct table *
table_new(size_t ncols, const char *const *names)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	t->names = xcalloc(ncols, sizeof *t->names);
	t->number = xcalloc(ncols, sizeof *t->number);
	for (size_t i = 0; i < ncols; i++) {
		t->number[i] = names[i][0] == '>';
		t->names[i] = xstrdup(names[i] + t->number[i]);
	}
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	char **row = xcalloc(t->ncols, sizeof *row);

	for (size_t i = 0; i < t->ncols; i++)
		row[i] = xstrdup(cells[i] ? cells[i] : "");
	t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof *t->rows);
	t->rows[t->nrows++] = row;
}

/* [-+]digits[.digits], or "-": what the report and export print as numbers. */
static bool
csv_is_number(const char *s)
{
	size_t digits;

	if (strcmp(s, "-") == 0)
		return true;
	if (*s == '-' || *s == '+')
		s++;
	if ((digits = strspn(s, "0123456789")) == 0)
		return false;
	s += digits;
	if (*s == '.') {
		s++;
		if ((digits = strspn(s, "0123456789")) == 0)
			return false;
		s += digits;
	}
	return *s == '\0';
}

void
csv_field(FILE *f, const char *s, enum csv_kind kind, bool last)
{
	bool formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;

	if (kind == CSV_NUMBER && csv_is_number(s))
		formula = false;
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		if (formula)
			fputc('\'', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		if (formula)
			fputc('\'', f);
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static void
print_cell(FILE *f, const char *s, size_t width, bool right, bool last)
{
	size_t w = utf8_width(s);
	size_t pad = width > w ? width - w : 0;

	if (right)
		fprintf(f, "%*s", (int)pad, "");
	fputs(s, f);
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
	fputs(last ? "\n" : "  ", f);
}

void
table_print(const struct table *t, enum output_format fmt, FILE *f)
{
	size_t *width;

	if (fmt == OUTPUT_CSV) {
		fputs(CSV_BOM, f);
		for (size_t c = 0; c < t->ncols; c++)
			csv_field(f, t->names[c], CSV_TEXT, c + 1 == t->ncols);
		for (size_t r = 0; r < t->nrows; r++)
			for (size_t c = 0; c < t->ncols; c++)
				csv_field(f, t->rows[r][c],
				    t->number[c] ? CSV_NUMBER : CSV_TEXT, c + 1 == t->ncols);
		return;
	}
	width = xcalloc(t->ncols, sizeof *width);
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = utf8_width(t->names[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = utf8_width(t->rows[r][c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t c = 0; c < t->ncols; c++)
		print_cell(f, t->names[c], width[c], t->number[c], c + 1 == t->ncols);
	for (size_t c = 0; c < t->ncols; c++) {
		for (size_t i = 0; i < width[c]; i++)
			fputc('-', f);
		fputs(c + 1 == t->ncols ? "\n" : "  ", f);
	}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			print_cell(f, t->rows[r][c], width[c], t->number[c],
			    c + 1 == t->ncols);
	free(width);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	for (size_t c = 0; c < t->ncols; c++)
		free(t->names[c]);
	free(t->names);
	free(t->number);
	free(t->rows);
	free(t);
}
