/* The report arithmetic of docs/sipas.md, against figures worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <cmocka.h>

#include "fixture.h"
#include "report-model.h"


#define EPS 1e-9

/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(a, b, eps) do {					\
	double a_ = (a), b_ = (b);					\
	if (fabs(a_ - b_) > (eps))					\
		fail_msg("%s is %.12g, expected %.12g", #a, a_, b_);	\
} while (0)

static const struct questionnaire *
dv(void)
{
	return catalog_questionnaire(cat, "sipas-dv-2023");
}

/* Criterion i gets valid answers, satisfied of them at the lowest
 * satisfied level and the rest at the lowest level. */
static void
answer(const struct questionnaire *q, struct report_counts *c, size_t i, long valid,
    long satisfied)
{
	size_t L = report_nlevels(q);

	memset(&c->cells[i * L], 0, L * sizeof *c->cells);
	c->cells[i * L + (size_t)(q->satisfied_min - q->scale_min)] = satisfied;
	c->cells[i * L] += valid - satisfied;
}

/* Gives every criterion of q the same counts. */
static void
fill(const struct questionnaire *q, struct report_counts *c, long n, long valid,
    long satisfied)
{
	report_counts_init(c, q);
	c->n = n;
	for (size_t i = 0; i < q->ncriteria; i++)
		answer(q, c, i, valid, satisfied);
}

static void
test_uniform_rates_give_that_rate_everywhere(void **state)
{
	struct report_counts c;
	struct report_figures f;

	fill(dv(), &c, 100, 100, 80);
	report_compute(dv(), &c, 30, &f);
	assert_true(f.has_index);
	assert_near(f.index, 80.0, EPS);
	assert_near(f.points, 8.0, EPS);
	for (size_t e = 0; e < dv()->nelements; e++)
		assert_near(f.element[e], 0.8, EPS);
	assert_false(f.low_sample);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_index_is_the_mean_of_element_means_not_of_criteria(void **state)
{
	struct report_counts c;
	struct report_figures f;

	/* TC (4 criteria) all satisfied, every other criterion half:
	 * elements 1, .5, .5, .5, .5 -> index 60; a mean over the 19
	 * criteria would give 15.5/19 = 57.89. */
	fill(dv(), &c, 10, 10, 5);
	for (size_t i = 0; i < 4; i++)
		answer(dv(), &c, i, 10, 10);
	report_compute(dv(), &c, 30, &f);
	assert_near(f.element[0], 1.0, EPS);
	assert_near(f.element[1], 0.5, EPS);
	assert_near(f.index, 60.0, EPS);
	assert_near(f.points, 6.0, EPS);
	assert_true(f.low_sample);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_rates_use_valid_answers_only(void **state)
{
	struct report_counts c;
	struct report_figures f;

	/* 10 responses, PA2 answered by 4 of them, 3 satisfied: 75 %, not 30 %. */
	fill(dv(), &c, 10, 10, 10);
	answer(dv(), &c, 17, 4, 3);
	report_compute(dv(), &c, 30, &f);
	assert_near(f.rate[17], 0.75, EPS);
	/* PA = (1 + .75 + 1) / 3 */
	assert_near(f.element[4], 2.75 / 3, EPS);
	assert_near(f.index, 100 * (4 + 2.75 / 3) / 5, EPS);	/* 98.333 */
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_criterion_nobody_answered_is_left_out(void **state)
{
	struct report_counts c;
	struct report_figures f;

	fill(dv(), &c, 10, 10, 10);
	answer(dv(), &c, 17, 0, 0);	/* PA2: every answer was null */
	answer(dv(), &c, 18, 10, 5);	/* PA3: half */
	report_compute(dv(), &c, 30, &f);
	assert_false(f.has_rate[17]);
	/* PA = (1 + .5) / 2, not (1 + 0 + .5) / 3 */
	assert_near(f.element[4], 0.75, EPS);
	assert_near(f.index, 95.0, EPS);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_element_without_answers_is_left_out(void **state)
{
	struct report_counts c;
	struct report_figures f;

	fill(dv(), &c, 10, 10, 6);
	for (size_t i = 16; i < 19; i++)
		answer(dv(), &c, i, 0, 0);	/* PA never answered */
	report_compute(dv(), &c, 30, &f);
	assert_false(f.has_element[4]);
	assert_near(f.index, 60.0, EPS);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_weights_other_than_one_are_honoured(void **state)
{
	struct questionnaire q = *dv();
	struct criterion crit[CATALOG_MAX_CRITERIA];
	struct element el[8];
	struct report_counts c;
	struct report_figures f;

	memcpy(crit, q.criteria, q.ncriteria * sizeof *crit);
	memcpy(el, q.elements, q.nelements * sizeof *el);
	q.criteria = crit;
	q.elements = el;
	fill(&q, &c, 50, 50, 50);
	/* TC1 weight 3 with rate 0, TC2..TC4 rate 1: TC = 3/6 = .5 */
	crit[0].weight = 3;
	answer(&q, &c, 0, 50, 0);
	/* TC weighs 2: index = (2 * .5 + 4 * 1) / 6 = 83.33 */
	el[0].weight = 2;
	report_compute(&q, &c, 30, &f);
	assert_near(f.element[0], 0.5, EPS);
	assert_near(f.index, 500.0 / 6, EPS);
	assert_near(f.points, 50.0 / 6, EPS);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_empty_group_has_no_index(void **state)
{
	struct report_counts c;
	struct report_figures f;

	fill(dv(), &c, 0, 0, 0);
	report_compute(dv(), &c, 30, &f);
	assert_false(f.has_index);
	assert_int_equal(f.n, 0);
	assert_true(f.low_sample);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_single_response(void **state)
{
	struct report_counts c;
	struct report_figures f;

	/* The example response: TC 4,5,4,3  TT 5,4,4,2  CC all >= 4  KQ all
	 * >= 4  PA 4,null,3 -> .75 .75 1 1 .5 -> 80 %. */
	fill(dv(), &c, 1, 1, 1);
	answer(dv(), &c, 3, 1, 0);
	answer(dv(), &c, 7, 1, 0);
	answer(dv(), &c, 17, 0, 0);
	answer(dv(), &c, 18, 1, 0);
	report_compute(dv(), &c, 1, &f);
	assert_near(f.index, 80.0, EPS);
	assert_near(f.points, 8.0, EPS);
	assert_false(f.low_sample);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_three_level_scale(void **state)
{
	const struct questionnaire *q = catalog_questionnaire(cat, "quay-2023");
	struct report_counts c;
	struct report_figures f;

	report_counts_init(&c, q);
	c.n = 40;
	answer(q, &c, 0, 40, 37);
	answer(q, &c, 1, 39, 30);
	answer(q, &c, 2, 40, 25);
	report_compute(q, &c, 30, &f);
	/* (.925 + .769231 + .625) / 3 = .773077 */
	assert_near(f.index, 100 * (37.0 / 40 + 30.0 / 39 + 25.0 / 40) / 3, EPS);
	assert_near(report_round2(f.index), 77.31, EPS);
	assert_near(report_round2(f.points), 7.73, EPS);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_mean_score_and_level_shares(void **state)
{
	const struct questionnaire *q = catalog_questionnaire(cat, "quay-2023");
	struct report_counts c;
	struct report_figures f;

	/* Answers 1, 2, 3, 3 to TD, nothing else: mean 2.25, shares .25 .25 .5. */
	report_counts_init(&c, q);
	c.n = 4;
	c.cells[0] = 1, c.cells[1] = 1, c.cells[2] = 2;
	report_compute(q, &c, 30, &f);
	assert_true(f.has_mean);
	assert_near(f.mean, 2.25, EPS);
	assert_near(f.level_share[0], 0.25, EPS);
	assert_near(f.level_share[1], 0.25, EPS);
	assert_near(f.level_share[2], 0.5, EPS);
	assert_int_equal(f.valid[0], 4);
	assert_near(f.rate[0], 0.75, EPS);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_margin_of_error_uses_the_respondents_shares(void **state)
{
	struct report_counts c;
	struct report_figures f;

	/* Three respondents with shares 1, .5, 0: sample sd .5, so
	 * 1.96 * .5 / sqrt(3) = 56.58 points. */
	fill(dv(), &c, 3, 3, 2);
	c.rated[0] = 3;
	c.p_sum[0] = 1.5;
	c.p_sq[0] = 1.25;
	report_compute(dv(), &c, 30, &f);
	assert_true(f.has_margin);
	assert_near(f.margin, 196 * 0.5 / sqrt(3), EPS);
	assert_near(report_round2(f.margin), 56.58, EPS);
	report_figures_free(&f);
	report_counts_free(&c);

	/* One respondent: no spread to measure. */
	fill(dv(), &c, 1, 1, 1);
	c.rated[0] = 1;
	c.p_sum[0] = c.p_sq[0] = 1;
	report_compute(dv(), &c, 30, &f);
	assert_false(f.has_margin);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_criterion_and_element_groups(void **state)
{
	struct report_counts c, part;
	struct report_figures f;

	fill(dv(), &c, 10, 10, 8);
	answer(dv(), &c, 5, 8, 2);	/* TT2: 2 of 8 */
	c.rated[2] = 9;			/* TT: 9 respondents */
	c.p_sum[2] = 6;
	c.p_sq[2] = 5;

	report_counts_criterion(&part, &c, dv(), 5);
	report_compute(dv(), &part, 5, &f);
	assert_int_equal(f.n, 8);
	assert_near(f.index, 25.0, EPS);
	assert_false(f.has_element[0]);
	assert_near(f.element[1], 0.25, EPS);
	/* 0/1 shares: sd = sqrt(8/7 * .25 * .75) */
	assert_near(f.margin, 100 * 1.96 * sqrt(8.0 / 7 * .1875) / sqrt(8), EPS);
	report_figures_free(&f);
	report_counts_free(&part);

	report_counts_element(&part, &c, dv(), 1);
	report_compute(dv(), &part, 5, &f);
	assert_int_equal(f.n, 9);
	/* TT = (.8 + .25 + .8 + .8) / 4 */
	assert_near(f.index, 100 * 2.65 / 4, EPS);
	assert_true(f.has_margin);
	report_figures_free(&f);
	report_counts_free(&part);
	report_counts_free(&c);
}

static void
test_counts_add_up(void **state)
{
	struct report_counts a, b;

	fill(dv(), &a, 3, 3, 2);
	fill(dv(), &b, 4, 4, 1);
	a.rated[1] = 2, b.rated[1] = 5;
	report_counts_add(&a, &b, dv());
	assert_int_equal(a.n, 7);
	assert_int_equal(a.rated[1], 7);
	assert_int_equal(a.cells[3], 3);	/* TC1 at level 4: 2 + 1 */
	report_counts_free(&a);
	report_counts_free(&b);
}

static void
test_points_are_the_index_over_ten_rounded(void **state)
{
	assert_near(report_round2(84.37 / 10), 8.44, EPS);
	assert_near(report_round2(84.365), 84.37, EPS);
	assert_near(report_round2(82.66), 82.66, EPS);
}

/* --- rounding once, from full precision, in every format ----------------- */

/* 6 of 11 satisfied everywhere: 54.5454... %, shown 54.55 %, and 5.45
 * points; the shown index / 10 would round to 5.46. */
static void
six_of_eleven(struct report_counts *c)
{
	fill(dv(), c, 11, 11, 6);
	c->rated[0] = 11;
	c->p_sum[0] = c->p_sq[0] = 6;	/* shares 0 or 1 */
}

static void
test_points_are_the_unrounded_index_over_ten(void **state)
{
	struct report_counts c;
	struct report_figures f;
	char buf[32];

	six_of_eleven(&c);
	report_compute(dv(), &c, 30, &f);
	assert_near(f.index, 600.0 / 11, EPS);
	assert_near(f.points, 60.0 / 11, EPS);
	report_fmt_pct(buf, sizeof buf, f.has_index, f.index);
	assert_string_equal(buf, "54.55");
	report_fmt_pct(buf, sizeof buf, f.has_index, f.points);
	assert_string_equal(buf, "5.45");
	/* The case is one where the two roundings differ. */
	assert_near(report_round2(report_round2(f.index) / 10), 5.46, EPS);
	report_figures_free(&f);
	report_counts_free(&c);
}

static void
test_a_change_is_rounded_once(void **state)
{
	char buf[32];

	/* 600/11 - 100/3 = 21.2121; 54.55 - 33.33 would be 21.22. */
	report_fmt_change(buf, sizeof buf, true, 600.0 / 11 - 100.0 / 3);
	assert_string_equal(buf, "+21.21");
	report_fmt_change(buf, sizeof buf, true, 100.0 / 3 - 600.0 / 11);
	assert_string_equal(buf, "-21.21");
	report_fmt_change(buf, sizeof buf, true, -0.001);
	assert_string_equal(buf, "+0.00");
	report_fmt_change(buf, sizeof buf, false, 1);
	assert_string_equal(buf, "-");
}

static const struct report_dim dim_center = { "center", "Đơn vị", "", "", "", "",
	false, DIM_PLAIN, NULL };
static const struct report_dim dim_month = { "month", "Tháng", "", "", "", "",
	false, DIM_TIME, NULL };

/* A report by center (and by month when two) whose every group, margins
 * and total included, holds c, compared with a period at prev_index. */
static void
report_of(struct report *r, const struct report_counts *c, size_t nby, double prev_index)
{
	static char *keys[2] = { "ht-huong-son", "2026-03" };
	size_t n = nby == 1 ? 2 : 4;

	memset(r, 0, sizeof *r);
	r->by[0] = &dim_center;
	r->by[1] = &dim_month;
	r->nby = nby;
	r->q = dv();
	r->min_n = 30;
	r->cmp_from = "2026-01-01";
	r->cmp_to = "2026-01-31";
	r->groups = calloc(n, sizeof *r->groups);
	r->ngroups = n;
	for (size_t i = 0; i < n; i++) {
		struct report_group *g = &r->groups[i];
		/* In print order: the cell, the margins, the total last. */
		for (size_t d = 0; d < nby; d++)
			if (n == 2 ? i == 0 : (i == 0 || i == d + 1)) {
				g->key[d] = keys[d];
				g->label[d] = keys[d];
			}
		report_compute(dv(), c, r->min_n, &g->fig);
		g->has_prev = true;
		g->prev_index = prev_index;
		g->rank = g->key[0] != NULL;
	}
}

static void
report_done(struct report *r)
{
	for (size_t i = 0; i < r->ngroups; i++)
		report_figures_free(&r->groups[i].fig);
	free(r->groups);
}

static char *
printed(const struct report *r, enum output_format fmt)
{
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	report_print(r, fmt, f);
	fclose(f);
	return out;
}

static void
assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("\"%s\" is not in:\n%s", part, text);
}

/* The text with each run of spaces made one: columns without their padding. */
static char *
squeezed(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	for (; *text != '\0'; text++)
		if (*text != ' ' || o == out || o[-1] != ' ')
			*o++ = *text;
	*o = '\0';
	return out;
}

static void
assert_lacks(const char *text, const char *part)
{
	if (strstr(text, part) != NULL)
		fail_msg("\"%s\" is in:\n%s", part, text);
}

static void
test_every_format_prints_figures_rounded_once(void **state)
{
	struct report_counts c;
	struct report r;
	json_t *doc, *g;
	char *out, *table;

	six_of_eleven(&c);
	report_of(&r, &c, 1, 100.0 / 3);

	out = printed(&r, OUTPUT_JSON);
	doc = json_loads(out, 0, NULL);
	assert_non_null(doc);
	g = json_array_get(json_object_get(doc, "groups"), 0);
	for (int i = 0; i < 2; i++, g = json_object_get(doc, "total")) {
		assert_near(json_real_value(json_object_get(g, "index")), 54.55, EPS);
		assert_near(json_real_value(json_object_get(g, "points")), 5.45, EPS);
		assert_near(json_real_value(json_object_get(g, "margin")), 30.86, EPS);
		assert_near(json_real_value(json_object_get(g, "previous_index")), 33.33, EPS);
		assert_near(json_real_value(json_object_get(g, "change")), 21.21, EPS);
	}
	json_decref(doc);
	free(out);

	out = printed(&r, OUTPUT_CSV);
	assert_contains(out, "\r\n1,ht-huong-son,ht-huong-son,11,54.55,30.86,5.45,");
	assert_contains(out, ",33.33,+21.21,");
	assert_lacks(out, "5.46");
	free(out);

	out = printed(&r, OUTPUT_TABLE);
	assert_contains(out, "54.55 % (± 30.86), 5.45 điểm");
	table = squeezed(out);
	assert_contains(table, "\n1 ht-huong-son ht-huong-son 11 54.55 30.86 5.45 ");
	assert_contains(table, " 33.33 +21.21 ");
	assert_lacks(out, "5.46");
	free(table);
	free(out);

	out = printed(&r, OUTPUT_HTML);
	assert_contains(out, ">54.55 %</div><div>5.45 điểm / 10<br>sai số ± 30.86 (95 %)");
	assert_contains(out, "\">54.55</td><td>30.86</td><td>5.45</td>");
	assert_contains(out, "<td>33.33</td><td>+21.21</td>");
	assert_contains(out, "33.33 %, thay đổi +21.21");
	assert_lacks(out, "5.46");
	assert_lacks(out, "21.22");
	free(out);

	report_done(&r);
	report_counts_free(&c);
}

static void
test_cross_tables_and_margins_round_half_away_from_zero(void **state)
{
	struct report_counts c;
	struct report r;
	char *out, *table;

	/* 17 of 32: 53.125 % exactly, which printf would print as 53.12. */
	fill(dv(), &c, 32, 32, 17);
	report_of(&r, &c, 2, 0);

	out = printed(&r, OUTPUT_TABLE);
	assert_contains(out, "chỉ số 53.13 %");
	/* The cell and the margin at the right, then the bottom row. */
	table = squeezed(out);
	assert_contains(table, "ht-huong-son ht-huong-son 53.13 53.13\n");
	assert_contains(table, "Tổng cộng 53.13 53.13\n");
	assert_lacks(out, "53.12");
	free(table);
	free(out);
	out = printed(&r, OUTPUT_HTML);
	assert_contains(out, ">53.13</td>");
	assert_lacks(out, "53.12");
	free(out);
	out = printed(&r, OUTPUT_CSV);
	assert_contains(out, ",53.13,");
	assert_lacks(out, "53.12");
	free(out);

	report_done(&r);
	report_counts_free(&c);
}

static void
test_the_target_and_ranks_compare_the_index_as_shown(void **state)
{
	struct report_counts c;
	struct report r;
	struct report_figures other;

	six_of_eleven(&c);
	report_of(&r, &c, 1, 0);
	r.has_target = true;
	r.target = 54.55;	/* the index shows 54.55: not below */
	assert_false(report_below_target(&r, &r.groups[0]));
	r.target = 54.56;
	assert_true(report_below_target(&r, &r.groups[0]));
	/* 54.5454 and 54.55 show alike: neither ranks above the other. */
	other = r.groups[0].fig;
	other.index = 54.55;
	assert_false(report_index_above(&other, &r.groups[0].fig));
	other.index = 54.56;
	assert_true(report_index_above(&other, &r.groups[0].fig));
	report_done(&r);
	report_counts_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_rates_give_that_rate_everywhere),
		cmocka_unit_test(test_index_is_the_mean_of_element_means_not_of_criteria),
		cmocka_unit_test(test_rates_use_valid_answers_only),
		cmocka_unit_test(test_criterion_nobody_answered_is_left_out),
		cmocka_unit_test(test_element_without_answers_is_left_out),
		cmocka_unit_test(test_weights_other_than_one_are_honoured),
		cmocka_unit_test(test_empty_group_has_no_index),
		cmocka_unit_test(test_single_response),
		cmocka_unit_test(test_three_level_scale),
		cmocka_unit_test(test_mean_score_and_level_shares),
		cmocka_unit_test(test_margin_of_error_uses_the_respondents_shares),
		cmocka_unit_test(test_criterion_and_element_groups),
		cmocka_unit_test(test_counts_add_up),
		cmocka_unit_test(test_points_are_the_index_over_ten_rounded),
		cmocka_unit_test(test_points_are_the_unrounded_index_over_ten),
		cmocka_unit_test(test_a_change_is_rounded_once),
		cmocka_unit_test(test_every_format_prints_figures_rounded_once),
		cmocka_unit_test(test_cross_tables_and_margins_round_half_away_from_zero),
		cmocka_unit_test(test_the_target_and_ranks_compare_the_index_as_shown),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
