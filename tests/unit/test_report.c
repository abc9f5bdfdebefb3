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

/* Gives every criterion of q the same counts. */
static void
fill(const struct questionnaire *q, struct report_counts *c, long n, long valid,
    long satisfied)
{
	memset(c, 0, sizeof *c);
	c->n = n;
	for (size_t i = 0; i < q->ncriteria; i++) {
		c->valid[i] = valid;
		c->satisfied[i] = satisfied;
	}
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
		c.satisfied[i] = 10;
	report_compute(dv(), &c, 30, &f);
	assert_near(f.element[0], 1.0, EPS);
	assert_near(f.element[1], 0.5, EPS);
	assert_near(f.index, 60.0, EPS);
	assert_near(f.points, 6.0, EPS);
	assert_true(f.low_sample);
	report_figures_free(&f);
}

static void
test_rates_use_valid_answers_only(void **state)
{
	struct report_counts c;
	struct report_figures f;

	/* 10 responses, PA2 answered by 4 of them, 3 satisfied: 75 %, not 30 %. */
	fill(dv(), &c, 10, 10, 10);
	c.valid[17] = 4;
	c.satisfied[17] = 3;
	report_compute(dv(), &c, 30, &f);
	assert_near(f.rate[17], 0.75, EPS);
	/* PA = (1 + .75 + 1) / 3 */
	assert_near(f.element[4], 2.75 / 3, EPS);
	assert_near(f.index, 98.33, EPS);	/* (4 + 2.75/3) / 5 = 98.333 */
	report_figures_free(&f);
}

static void
test_criterion_nobody_answered_is_left_out(void **state)
{
	struct report_counts c;
	struct report_figures f;

	fill(dv(), &c, 10, 10, 10);
	c.valid[17] = 0;	/* PA2: every answer was null */
	c.satisfied[17] = 0;
	c.satisfied[18] = 5;	/* PA3: half */
	report_compute(dv(), &c, 30, &f);
	assert_false(f.has_rate[17]);
	/* PA = (1 + .5) / 2, not (1 + 0 + .5) / 3 */
	assert_near(f.element[4], 0.75, EPS);
	assert_near(f.index, 95.0, EPS);
	report_figures_free(&f);
}

static void
test_element_without_answers_is_left_out(void **state)
{
	struct report_counts c;
	struct report_figures f;

	fill(dv(), &c, 10, 10, 6);
	for (size_t i = 16; i < 19; i++)
		c.valid[i] = c.satisfied[i] = 0;	/* PA never answered */
	report_compute(dv(), &c, 30, &f);
	assert_false(f.has_element[4]);
	assert_near(f.index, 60.0, EPS);
	report_figures_free(&f);
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
	c.satisfied[0] = 0;
	/* TC weighs 2: index = (2 * .5 + 4 * 1) / 6 = 83.33 */
	el[0].weight = 2;
	report_compute(&q, &c, 30, &f);
	assert_near(f.element[0], 0.5, EPS);
	assert_near(f.index, 83.33, EPS);
	assert_near(f.points, 8.33, EPS);
	report_figures_free(&f);
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
}

static void
test_single_response(void **state)
{
	struct report_counts c;
	struct report_figures f;

	/* The example response: TC 4,5,4,3  TT 5,4,4,2  CC all >= 4  KQ all
	 * >= 4  PA 4,null,3 -> .75 .75 1 1 .5 -> 80 %. */
	fill(dv(), &c, 1, 1, 1);
	c.satisfied[3] = 0;
	c.satisfied[7] = 0;
	c.valid[17] = 0;
	c.satisfied[17] = 0;
	c.satisfied[18] = 0;
	report_compute(dv(), &c, 1, &f);
	assert_near(f.index, 80.0, EPS);
	assert_near(f.points, 8.0, EPS);
	assert_false(f.low_sample);
	report_figures_free(&f);
}

static void
test_three_level_scale(void **state)
{
	const struct questionnaire *q = catalog_questionnaire(cat, "quay-2023");
	struct report_counts c;
	struct report_figures f;

	memset(&c, 0, sizeof c);
	c.n = 40;
	c.valid[0] = 40, c.satisfied[0] = 37;
	c.valid[1] = 39, c.satisfied[1] = 30;
	c.valid[2] = 40, c.satisfied[2] = 25;
	report_compute(q, &c, 30, &f);
	/* (.925 + .769231 + .625) / 3 = .773077 */
	assert_near(f.index, 77.31, EPS);
	assert_near(f.points, 7.73, EPS);
	report_figures_free(&f);
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
		cmocka_unit_test(test_points_are_the_index_over_ten_rounded),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
