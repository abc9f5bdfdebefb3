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
#include "filter.h"
#include "output.h"

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


/* A report as sipas report prints it: groups by one or two dimensions. */
struct report_dim {
	const char *name;	/* as given to --by */
	const char *title_vi;	/* column heading */
	/* SQL: what rows are grouped by (over the columns of the rollup, or
	 * of the responses rolled up on the fly), then, over the group g.k#
	 * and the tables join brings in, its key and label; '#' stands for the
	 * dimension's slot. Groups with the same key are added up, so that
	 * district and level can group by center. */
	const char *group, *key, *label, *join;
	bool raw;		/* not in the rollup: responses rolled up on the fly */
	enum { DIM_PLAIN, DIM_TIME, DIM_SPLIT } kind;
};

struct report_group {
	char *key[2];		/* NULL: all of that dimension (a margin, or the total) */
	char *label[2];
	struct report_counts counts;
	struct report_figures fig;
	long rank;		/* by index among its peers; 0 when not ranked */
	bool has_prev;		/* --compare: the same group in the other period */
	double prev_index;	/* full precision, like fig.index */
	long prev_rank;
	size_t *worst;		/* --worst: criteria, weakest first */
	size_t nworst;
	long order[2];		/* position along each dimension, for printing */
};

struct report {
	const struct report_dim *by[2];
	size_t nby;
	const struct questionnaire *q;
	struct filter f;
	char *cmp_from, *cmp_to;	/* --compare period, or NULL */
	long min_n;
	bool has_target;
	double target;
	long worst;
	struct report_group *groups;	/* in print order, margins and total last */
	size_t ngroups;
	const struct report_dim *trend_by;	/* HTML: the index over time */
	struct report_group *trend;
	size_t ntrend;
};

/* A two-dimension report as a cross table: rows are the first dimension's
 * margins, columns the second's, each list ending with the total; the cell
 * of a row and a column is NULL when no response falls in it. */
struct report_cross {
	const struct report_group **rows, **cols;
	size_t nrows, ncols;
};
void report_cross(const struct report *r, struct report_cross *x);
const struct report_group *report_cell(const struct report *r,
    const struct report_group *row, const struct report_group *col);
void report_cross_free(struct report_cross *x);

/* Writes the report in the format (report-text.c). */
void report_print(const struct report *r, enum output_format fmt, FILE *f);
/* Writes the report as one self-contained HTML page (report-html.c). */
void report_html(const struct report *r, FILE *f);

bool report_same_key(const char *a, const char *b);
const struct report_group *report_total(const struct report *r);
/* Ranks and the target compare the index as it is shown, to two decimals:
 * a reader can check them against the figures, and groups that show the
 * same index share a rank. */
bool report_index_above(const struct report_figures *a, const struct report_figures *b);
bool report_below_target(const struct report *r, const struct report_group *g);
/* --compare: the change of the index, of the unrounded indices. */
bool report_has_change(const struct report_group *g);
double report_change(const struct report_group *g);

#endif
