/* The grouping of sipas report (client/report-group.c), without a database:
 * groups as report-query.c hands them over, added up, given margins and a
 * total, split, suppressed, ranked, compared, ordered, and read as a cross
 * table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "report-group.h"
#include "report-model.h"
#include "xmalloc.h"

/* 1 element, 3 criteria (QYTD, QYHD, QYTG), scale 1..3. */
static const struct questionnaire *
qy(void)
{
	return catalog_questionnaire(cat, "quay-2023");
}

/* A group as a query row: keys (NULL: none in that slot) and n responses,
 * each with one answer of 1 to criterion 0, so that cells[0] == n. */
static void
row(struct report_group *g, const char *k0, const char *k1, long n)
{
	memset(g, 0, sizeof *g);
	g->key[0] = k0 ? xstrdup(k0) : NULL;
	g->label[0] = k0 ? xstrdup(k0) : NULL;
	g->key[1] = k1 ? xstrdup(k1) : NULL;
	g->label[1] = k1 ? xstrdup(k1) : NULL;
	report_counts_init(&g->counts, qy());
	g->counts.n = n;
	g->counts.cells[0] = n;
}

/* A group with only an index, as the ranking and the order read it. */
static void
ranked(struct report_group *g, const char *k0, const char *k1, double index)
{
	row(g, k0, k1, 0);
	g->fig.has_index = true;
	g->fig.index = index;
}

static const struct report_group *
find(const struct report_group *g, size_t n, const char *k0, const char *k1)
{
	for (size_t i = 0; i < n; i++)
		if (report_same_key(g[i].key[0], k0) && report_same_key(g[i].key[1], k1))
			return &g[i];
	fail_msg("no group (%s, %s)", k0 ? k0 : "NULL", k1 ? k1 : "NULL");
	return NULL;
}

static void
test_merge_adds_up_groups_with_the_same_keys(void **state)
{
	struct report_group *g = xcalloc(3, sizeof *g);
	size_t n = 3;

	row(&g[0], "b", NULL, 1);
	row(&g[1], "a", NULL, 2);
	row(&g[2], "b", NULL, 4);
	report_group_merge(qy(), g, &n);
	assert_int_equal(n, 2);
	assert_string_equal(g[0].key[0], "a");
	assert_int_equal(g[0].counts.n, 2);
	assert_string_equal(g[1].key[0], "b");
	assert_int_equal(g[1].counts.n, 5);
	assert_int_equal(g[1].counts.cells[0], 5);
	report_groups_free(g, n);
}

static void
test_two_dimensions_get_both_margins_and_the_total(void **state)
{
	struct report_group *g = xcalloc(3, sizeof *g);
	size_t n = 3;

	row(&g[0], "a", "x", 1);
	row(&g[1], "a", "y", 2);
	row(&g[2], "b", "x", 4);
	g = report_group_margins(qy(), 2, g, &n);
	/* 3 cells, the total, 2 margins of each dimension. */
	assert_int_equal(n, 8);
	assert_int_equal(find(g, n, "a", "x")->counts.n, 1);
	assert_int_equal(find(g, n, NULL, NULL)->counts.n, 7);
	assert_int_equal(find(g, n, "a", NULL)->counts.n, 3);
	assert_int_equal(find(g, n, "b", NULL)->counts.n, 4);
	assert_int_equal(find(g, n, NULL, "x")->counts.n, 5);
	assert_int_equal(find(g, n, NULL, "y")->counts.n, 2);
	assert_string_equal(find(g, n, NULL, "y")->label[1], "y");
	assert_int_equal(find(g, n, NULL, "x")->counts.cells[0], 5);
	report_groups_free(g, n);
}

static void
test_an_empty_selection_still_has_a_total_of_zero(void **state)
{
	struct report_group *g = xcalloc(1, sizeof *g);
	size_t n = 0;

	g = report_group_margins(qy(), 1, g, &n);
	assert_int_equal(n, 1);
	assert_null(g[0].key[0]);
	assert_null(g[0].key[1]);
	assert_int_equal(g[0].counts.n, 0);
	report_groups_free(g, n);
}

static void
test_split_by_criterion_gives_each_criterion_then_the_margin(void **state)
{
	const struct questionnaire *q = qy();
	struct report_group *g = xcalloc(1, sizeof *g);
	size_t n;

	row(&g[0], NULL, "x", 6);	/* criterion in slot 0, the other in 1 */
	g[0].counts.cells[1 * report_nlevels(q) + 2] = 3;	/* QYHD: 3 answers of 3 */
	g = report_group_split(q, report_dim_find("criterion"), 0, g, 1, &n);
	assert_int_equal(n, q->ncriteria + 1);
	for (size_t c = 0; c < q->ncriteria; c++) {
		assert_string_equal(g[c].key[0], q->criteria[c].code);
		assert_string_equal(g[c].label[0], q->criteria[c].text_vi);
		assert_string_equal(g[c].key[1], "x");
	}
	/* A criterion's group counts its valid answers. */
	assert_int_equal(g[0].counts.n, 6);
	assert_int_equal(g[1].counts.n, 3);
	assert_int_equal(g[2].counts.n, 0);
	assert_null(g[3].key[0]);
	assert_int_equal(g[3].counts.n, 6);
	report_groups_free(g, n);
}

static void
test_ranks_are_competition_ranks_of_the_index_as_shown(void **state)
{
	struct report_group g[5];

	ranked(&g[0], "a", NULL, 70);
	ranked(&g[1], "b", NULL, 90);
	ranked(&g[2], "c", NULL, 80.001);	/* shows as 80.00, like d */
	ranked(&g[3], "d", NULL, 80.004);
	ranked(&g[4], NULL, NULL, 85);	/* the total is not ranked */
	report_group_rank(g, 5);
	assert_int_equal(g[0].rank, 4);
	assert_int_equal(g[1].rank, 1);
	assert_int_equal(g[2].rank, 2);
	assert_int_equal(g[3].rank, 2);
	assert_int_equal(g[4].rank, 0);
	report_groups_clear(g, 5);
}

static void
test_cells_rank_among_cells_of_the_same_column(void **state)
{
	struct report_group g[6];

	ranked(&g[0], "a", "x", 60);
	ranked(&g[1], "b", "x", 50);
	ranked(&g[2], "a", "y", 40);	/* first in column y, though lowest */
	ranked(&g[3], "a", NULL, 55);
	ranked(&g[4], NULL, "x", 10);	/* margins of the second dimension */
	ranked(&g[5], NULL, "y", 20);
	report_group_rank(g, 6);
	assert_int_equal(g[0].rank, 1);
	assert_int_equal(g[1].rank, 2);
	assert_int_equal(g[2].rank, 1);
	assert_int_equal(g[3].rank, 1);
	assert_int_equal(g[4].rank, 2);
	assert_int_equal(g[5].rank, 1);
	report_groups_clear(g, 6);
}

static void
test_print_order_is_by_rank_then_margins_then_total(void **state)
{
	struct report r;

	memset(&r, 0, sizeof r);
	r.by[0] = report_dim_find("center");
	r.nby = 1;
	r.q = qy();
	r.ngroups = 4;
	r.groups = xcalloc(r.ngroups, sizeof *r.groups);
	ranked(&r.groups[0], NULL, NULL, 75);
	ranked(&r.groups[1], "a", NULL, 70);
	ranked(&r.groups[2], "b", NULL, 90);
	ranked(&r.groups[3], "c", NULL, 80);
	report_group_rank(r.groups, r.ngroups);
	report_group_sort(&r);
	assert_string_equal(r.groups[0].key[0], "b");
	assert_string_equal(r.groups[1].key[0], "c");
	assert_string_equal(r.groups[2].key[0], "a");
	assert_null(r.groups[3].key[0]);
	assert_ptr_equal(report_total(&r), &r.groups[3]);
	report_groups_free(r.groups, r.ngroups);
}

static void
test_time_runs_in_order_whatever_the_index(void **state)
{
	struct report r;

	memset(&r, 0, sizeof r);
	r.by[0] = report_dim_find("month");
	r.nby = 1;
	r.q = qy();
	r.ngroups = 3;
	r.groups = xcalloc(r.ngroups, sizeof *r.groups);
	ranked(&r.groups[0], "2026-02", NULL, 90);
	ranked(&r.groups[1], NULL, NULL, 75);
	ranked(&r.groups[2], "2026-01", NULL, 60);
	report_group_rank(r.groups, r.ngroups);
	report_group_sort(&r);
	assert_string_equal(r.groups[0].key[0], "2026-01");
	assert_string_equal(r.groups[1].key[0], "2026-02");
	assert_null(r.groups[2].key[0]);
	report_groups_free(r.groups, r.ngroups);
}

/* by center and month: each center's months, then that center's margin,
 * centers by the rank of their margin; the months' margins; the total. */
static void
test_two_dimensions_print_each_row_then_its_margin(void **state)
{
	static const char *const want[][2] = { { "b", "2026-01" }, { "b", NULL },
		{ "a", "2026-01" }, { "a", "2026-02" }, { "a", NULL },
		{ NULL, "2026-01" }, { NULL, "2026-02" }, { NULL, NULL } };
	struct report r;
	size_t n = 3;

	memset(&r, 0, sizeof r);
	r.by[0] = report_dim_find("center");
	r.by[1] = report_dim_find("month");
	r.nby = 2;
	r.q = qy();
	r.groups = xcalloc(n, sizeof *r.groups);
	ranked(&r.groups[0], "a", "2026-02", 50);
	ranked(&r.groups[1], "b", "2026-01", 50);
	ranked(&r.groups[2], "a", "2026-01", 50);
	r.groups = report_group_margins(r.q, 2, r.groups, &n);
	r.ngroups = n;
	assert_int_equal(n, 8);
	for (size_t i = 0; i < n; i++) {
		struct report_group *g = &r.groups[i];
		g->fig.has_index = true;
		g->fig.index = report_same_key(g->key[0], "a") ? 65 : 80;
	}
	report_group_rank(r.groups, r.ngroups);
	report_group_sort(&r);
	for (size_t i = 0; i < n; i++)
		if (!report_same_key(r.groups[i].key[0], want[i][0]) ||
		    !report_same_key(r.groups[i].key[1], want[i][1]))
			fail_msg("group %zu is (%s, %s)", i,
			    r.groups[i].key[0] ? r.groups[i].key[0] : "NULL",
			    r.groups[i].key[1] ? r.groups[i].key[1] : "NULL");
	report_groups_free(r.groups, r.ngroups);
}

static void
test_the_previous_period_is_matched_by_keys(void **state)
{
	struct report r;
	struct report_group prev[3];

	memset(&r, 0, sizeof r);
	r.ngroups = 3;
	r.groups = xcalloc(r.ngroups, sizeof *r.groups);
	ranked(&r.groups[0], "a", NULL, 70);
	ranked(&r.groups[1], "b", NULL, 80);
	ranked(&r.groups[2], NULL, NULL, 75);
	ranked(&prev[0], NULL, NULL, 65);
	ranked(&prev[1], "a", NULL, 60);
	prev[1].rank = 2;
	row(&prev[2], "b", NULL, 0);	/* no index then: nothing to compare */
	report_group_attach_previous(&r, prev, 3);
	assert_true(r.groups[0].has_prev);
	assert_true(r.groups[0].prev_index == 60);
	assert_int_equal(r.groups[0].prev_rank, 2);
	assert_false(r.groups[1].has_prev);
	assert_true(r.groups[2].has_prev);
	assert_true(r.groups[2].prev_index == 65);
	assert_true(report_has_change(&r.groups[0]));
	assert_true(report_change(&r.groups[0]) == 10);
	report_groups_free(r.groups, r.ngroups);
	report_groups_clear(prev, 3);
}

static void
test_weakest_criteria_come_first_ties_in_questionnaire_order(void **state)
{
	const struct questionnaire *q = qy();
	struct report r;
	struct report_group g;

	memset(&r, 0, sizeof r);
	r.q = q;
	r.worst = 2;
	row(&g, NULL, NULL, 10);
	report_compute(q, &g.counts, 30, &g.fig);
	/* QYTD 0.9, QYHD 0.5, QYTG 0.5: the two at 0.5 in their order. */
	g.fig.rate[0] = 0.9;
	g.fig.rate[1] = g.fig.rate[2] = 0.5;
	for (size_t c = 0; c < q->ncriteria; c++)
		g.fig.has_rate[c] = true;
	report_group_find_worst(&r, &g);
	assert_int_equal(g.nworst, 2);
	assert_int_equal(g.worst[0], 1);
	assert_int_equal(g.worst[1], 2);
	/* A criterion without a rate is never among them. */
	g.fig.has_rate[1] = false;
	free(g.worst);
	report_group_find_worst(&r, &g);
	assert_int_equal(g.nworst, 2);
	assert_int_equal(g.worst[0], 2);
	assert_int_equal(g.worst[1], 0);
	report_groups_clear(&g, 1);
}

static void
test_the_cross_table_reads_rows_columns_and_cells(void **state)
{
	struct report r;
	struct report_cross x;
	struct report_group *g = xcalloc(2, sizeof *g);
	size_t n = 2;

	memset(&r, 0, sizeof r);
	r.by[0] = report_dim_find("center");
	r.by[1] = report_dim_find("month");
	r.nby = 2;
	r.q = qy();
	ranked(&g[0], "a", "2026-01", 70);
	ranked(&g[1], "b", "2026-02", 80);
	g = report_group_margins(r.q, 2, g, &n);
	for (size_t i = 0; i < n; i++)
		g[i].fig.has_index = true;
	r.groups = g;
	r.ngroups = n;
	report_group_rank(r.groups, r.ngroups);
	report_group_sort(&r);
	report_cross(&r, &x);
	assert_int_equal(x.nrows, 3);	/* a, b, the total */
	assert_int_equal(x.ncols, 3);	/* 2026-01, 2026-02, the total */
	assert_null(x.rows[2]->key[0]);
	assert_null(x.cols[2]->key[1]);
	assert_string_equal(x.cols[0]->key[1], "2026-01");
	assert_string_equal(report_label(x.cols[2], 1), "Tổng cộng");
	/* a in 2026-02: nobody. */
	const struct report_group *a = x.rows[0]->key[0][0] == 'a' ? x.rows[0] : x.rows[1];
	assert_null(report_cell(&r, a, x.cols[1]));
	assert_non_null(report_cell(&r, a, x.cols[0]));
	assert_ptr_equal(report_cell(&r, x.rows[2], x.cols[2]), report_total(&r));
	report_cross_free(&x);
	report_groups_free(r.groups, r.ngroups);
}

struct cell {
	const char *k0, *k1;
	long n;
};

/* The groups of a report by dims over cells (k0, k1, n), with margins,
 * suppressed at the default threshold of 5. */
static void
suppress(struct report *r, const char *dim0, const char *dim1, const struct cell *cells,
    size_t ncells)
{
	size_t n = ncells;

	memset(r, 0, sizeof *r);
	r->by[0] = report_dim_find(dim0);
	r->by[1] = dim1 ? report_dim_find(dim1) : NULL;
	r->nby = dim1 ? 2 : 1;
	r->q = qy();
	r->min_cell = 5;
	r->groups = xcalloc(n, sizeof *r->groups);
	for (size_t i = 0; i < n; i++)
		row(&r->groups[i], cells[i].k0, cells[i].k1, cells[i].n);
	r->groups = report_group_margins(r->q, r->nby, r->groups, &n);
	r->ngroups = n;
	report_group_suppress(r, r->groups, r->ngroups);
}

static void
test_a_small_group_of_respondents_is_suppressed_with_the_next_smallest(void **state)
{
	static const struct cell cells[] = {
		{ "male", NULL, 40 }, { "female", NULL, 30 }, { "other", NULL, 3 }, { "-", NULL, 12 },
	};
	struct report r;

	suppress(&r, "gender", NULL, cells, 4);
	assert_true(find(r.groups, r.ngroups, "other", NULL)->suppressed);
	/* Else the total less the others would give it away. */
	assert_true(find(r.groups, r.ngroups, "-", NULL)->suppressed);
	assert_false(find(r.groups, r.ngroups, "female", NULL)->suppressed);
	assert_false(find(r.groups, r.ngroups, "male", NULL)->suppressed);
	assert_false(find(r.groups, r.ngroups, NULL, NULL)->suppressed);
	report_groups_free(r.groups, r.ngroups);
}

static void
test_a_small_group_alone_hides_the_total(void **state)
{
	static const struct cell cells[] = {
		{ "female", NULL, 4 },
	};
	struct report r;

	suppress(&r, "gender", NULL, cells, 1);
	assert_true(find(r.groups, r.ngroups, "female", NULL)->suppressed);
	assert_true(find(r.groups, r.ngroups, NULL, NULL)->suppressed);
	report_groups_free(r.groups, r.ngroups);
}

static void
test_a_cross_table_keeps_two_suppressed_in_every_row_and_column(void **state)
{
	/* One small cell of a 2 x 2 table: its row and its column each need a
	 * second, and then so do the other row and column: all four cells go,
	 * the margins stay. */
	static const struct cell cells[] = {
		{ "female", "2026-Q1", 3 }, { "female", "2026-Q2", 20 },
		{ "male", "2026-Q1", 30 }, { "male", "2026-Q2", 40 },
		{ "other", "2026-Q2", 50 },
	};
	struct report r;

	suppress(&r, "gender", "quarter", cells, 5);
	assert_true(find(r.groups, r.ngroups, "female", "2026-Q1")->suppressed);
	assert_true(find(r.groups, r.ngroups, "female", "2026-Q2")->suppressed);
	assert_true(find(r.groups, r.ngroups, "male", "2026-Q1")->suppressed);
	/* Column Q2 has two already (female, male): other stays. */
	assert_true(find(r.groups, r.ngroups, "male", "2026-Q2")->suppressed);
	assert_false(find(r.groups, r.ngroups, "other", "2026-Q2")->suppressed);
	for (size_t i = 0; i < r.ngroups; i++)
		if (r.groups[i].key[0] == NULL || r.groups[i].key[1] == NULL)
			assert_false(r.groups[i].suppressed);
	report_groups_free(r.groups, r.ngroups);
}

static void
test_suppressed_groups_are_not_ranked_and_others_not_suppressed(void **state)
{
	static const struct cell cells[] = {
		{ "a", NULL, 1 }, { "b", NULL, 2 }, { "c", NULL, 40 },
	};
	struct report r;

	/* By center: not about the respondents, nothing hidden. */
	suppress(&r, "center", NULL, cells, 3);
	for (size_t i = 0; i < r.ngroups; i++)
		assert_false(r.groups[i].suppressed);
	report_groups_free(r.groups, r.ngroups);
	suppress(&r, "occupation", NULL, cells, 3);
	for (size_t i = 0; i < r.ngroups; i++) {
		r.groups[i].fig.has_index = true;
		r.groups[i].fig.index = 90 - (double)i;	/* a, b above c */
	}
	report_group_rank(r.groups, r.ngroups);
	assert_int_equal(find(r.groups, r.ngroups, "a", NULL)->rank, 0);
	assert_int_equal(find(r.groups, r.ngroups, "b", NULL)->rank, 0);
	assert_int_equal(find(r.groups, r.ngroups, "c", NULL)->rank, 1);
	report_groups_free(r.groups, r.ngroups);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_adds_up_groups_with_the_same_keys),
		cmocka_unit_test(test_two_dimensions_get_both_margins_and_the_total),
		cmocka_unit_test(test_an_empty_selection_still_has_a_total_of_zero),
		cmocka_unit_test(test_split_by_criterion_gives_each_criterion_then_the_margin),
		cmocka_unit_test(test_ranks_are_competition_ranks_of_the_index_as_shown),
		cmocka_unit_test(test_cells_rank_among_cells_of_the_same_column),
		cmocka_unit_test(test_print_order_is_by_rank_then_margins_then_total),
		cmocka_unit_test(test_time_runs_in_order_whatever_the_index),
		cmocka_unit_test(test_two_dimensions_print_each_row_then_its_margin),
		cmocka_unit_test(test_the_previous_period_is_matched_by_keys),
		cmocka_unit_test(test_weakest_criteria_come_first_ties_in_questionnaire_order),
		cmocka_unit_test(test_the_cross_table_reads_rows_columns_and_cells),
		cmocka_unit_test(test_a_small_group_of_respondents_is_suppressed_with_the_next_smallest),
		cmocka_unit_test(test_a_small_group_alone_hides_the_total),
		cmocka_unit_test(test_a_cross_table_keeps_two_suppressed_in_every_row_and_column),
		cmocka_unit_test(test_suppressed_groups_are_not_ranked_and_others_not_suppressed),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
