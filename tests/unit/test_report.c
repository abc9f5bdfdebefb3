/* The report arithmetic of docs/sipas.md, against figures worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "report.h"


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
	assert_near(f.index, 98.33, EPS);	/* (4 + 2.75/3) / 5 = 98.333 */
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
	assert_near(f.index, 83.33, EPS);
	assert_near(f.points, 8.33, EPS);
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
	assert_near(f.index, 77.31, EPS);
	assert_near(f.points, 7.73, EPS);
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
	assert_near(f.margin, 56.58, EPS);
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
	assert_near(f.margin, report_round2(100 * 1.96 * sqrt(8.0 / 7 * .1875) / sqrt(8)), EPS);
	report_figures_free(&f);
	report_counts_free(&part);

	report_counts_element(&part, &c, dv(), 1);
	report_compute(dv(), &part, 5, &f);
	assert_int_equal(f.n, 9);
	/* TT = (.8 + .25 + .8 + .8) / 4 */
	assert_near(f.index, report_round2(100 * 2.65 / 4), EPS);
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
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
