/* The one CSV cell writer (client/output.c): RFC 4180 quoting, and text a
 * spreadsheet would run as a formula neutralised, numbers left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"

/* What table_print writes for one text column and one number column
 * (right-aligned, '>') holding the given cells, without the BOM. */
static char *
csv_of(const char *text, const char *number)
{
	static const char *const names[] = { "comment", ">change" };
	const char *row[2] = { text, number };
	struct table *t = table_new(2, names);
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	table_add(t, row);
	table_print(t, OUTPUT_CSV, f);
	fclose(f);
	table_free(t);
	assert_memory_equal(out, CSV_BOM, strlen(CSV_BOM));
	memmove(out, out + strlen(CSV_BOM), len - strlen(CSV_BOM) + 1);
	return out;
}

static void
assert_csv(const char *text, const char *number, const char *want_row)
{
	char *got = csv_of(text, number), want[512];

	snprintf(want, sizeof want, "comment,change\r\n%s\r\n", want_row);
	assert_string_equal(got, want);
	free(got);
}

static void
test_text_that_a_spreadsheet_runs_gets_a_leading_quote(void **state)
{
	(void)state;
	assert_csv("=HYPERLINK(\"http://x\",\"y\")", "1",
	    "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1");
	assert_csv("+1+2", "1", "'+1+2,1");
	assert_csv("-2+3", "1", "'-2+3,1");
	assert_csv("@SUM(A1)", "1", "'@SUM(A1),1");
	assert_csv("\tcmd", "1", "'\tcmd,1");
	assert_csv("\r=1+2", "1", "\"'\r=1+2\",1");
	/* A code that looks like a negative number is still text. */
	assert_csv("-1.5", "1", "'-1.5,1");
}

static void
test_ordinary_text_is_unchanged(void **state)
{
	(void)state;
	assert_csv("Cán bộ nhiệt tình.", "1", "Cán bộ nhiệt tình.,1");
	assert_csv("a = b, c", "1", "\"a = b, c\",1");
	assert_csv("", "", ",");
	assert_csv("1+1", "1", "1+1,1");
}

static void
test_numbers_are_never_changed(void **state)
{
	(void)state;
	assert_csv("x", "-3.25", "x,-3.25");
	assert_csv("x", "+0.50", "x,+0.50");
	assert_csv("x", "-", "x,-");
	assert_csv("x", "12", "x,12");
}

static void
test_a_number_cell_holding_text_is_neutralised_all_the_same(void **state)
{
	(void)state;
	/* A number column is written verbatim only when it holds a number. */
	assert_csv("x", "-2+3", "x,'-2+3");
	assert_csv("x", "=1", "x,'=1");
}

static void
test_csv_field_by_kind(void **state)
{
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	csv_field(f, "-3.25", CSV_NUMBER, false);
	csv_field(f, "-3.25", CSV_TEXT, false);
	csv_field(f, "@x", CSV_TEXT, true);
	fclose(f);
	assert_string_equal(out, "-3.25,'-3.25,'@x\r\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_that_a_spreadsheet_runs_gets_a_leading_quote),
		cmocka_unit_test(test_ordinary_text_is_unchanged),
		cmocka_unit_test(test_numbers_are_never_changed),
		cmocka_unit_test(test_a_number_cell_holding_text_is_neutralised_all_the_same),
		cmocka_unit_test(test_csv_field_by_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
