/* The figures of docs/sipas.md computed from a group's sums, as the rollup
 * (sql/005_rollup.sql) keeps them: criterion rates, element indices, the
 * SIPAS index and its points, the mean score, each level's share and the
 * margin of error. Pure arithmetic, tested against an independent
 * computation. Every figure is kept at full precision: rounding happens
 * once, for display, in report_fmt_pct, report_fmt_change and what calls
 * report_round2 as it prints. */
#ifndef SIPAS_REPORT_H
#define SIPAS_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"

/* Scope 0 is the whole questionnaire, scope 1 + e its element e. */
struct report_counts {
	long n;			/* responses in the group */
	long *rated;		/* [1 + nelements]: respondents with a valid answer in the scope */
	double *p_sum;		/* sum of their shares of satisfied answers there */
	double *p_sq;		/* sum of the squares of those shares */
	long *cells;		/* [ncriteria * nlevels]: answers by criterion and value */
};

/* Rates and shares are fractions 0..1; "has_" is false where the formula
 * leaves the value out (nothing to compute it from). */
struct report_figures {
	long n;
	bool low_sample;
	long *valid;		/* V_c, [ncriteria] */
	bool *has_rate;
	double *rate;		/* r_c */
	bool *has_element;	/* [nelements] */
	double *element;
	bool has_index;
	double index;		/* percent */
	double points;		/* index / 10: 54.5466 % is 5.45 points, not 5.46 */
	bool has_mean;
	double mean;		/* mean value of all valid answers */
	double *level_share;	/* [nlevels]: share of valid answers at scale_min + i */
	bool has_margin;
	double margin;		/* 95 % margin of error of the index, in points of % */
};

/* scale_max - scale_min + 1: the width of a criterion's row of cells. */
size_t report_nlevels(const struct questionnaire *q);

void report_counts_init(struct report_counts *c, const struct questionnaire *q);
void report_counts_add(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q);
void report_counts_free(struct report_counts *c);
/* The counts of one criterion, or one element, of a group, shaped as a
 * group of their own: n is the criterion's valid answers (the element's
 * respondents), the index is the criterion's rate (the element's index). */
void report_counts_criterion(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q, size_t criterion);
void report_counts_element(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q, size_t element);

void report_compute(const struct questionnaire *q, const struct report_counts *c,
    long min_n, struct report_figures *f);
void report_figures_free(struct report_figures *f);
/* Rounds half away from zero to two decimals: the one rounding of a
 * figure, as it is printed. */
double report_round2(double x);
/* "84.37" or "-" (has false), and "+1.25" or "-" for a change. */
void report_fmt_pct(char *buf, size_t len, bool has, double percent);
void report_fmt_change(char *buf, size_t len, bool has, double change);
/* Ranks and the target compare the index as it is shown, to two decimals:
 * a reader can check them against the figures, and groups that show the
 * same index share a rank. */
bool report_index_above(const struct report_figures *a, const struct report_figures *b);

#endif
