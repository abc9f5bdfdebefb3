/* The figures of docs/sipas.md computed from a group's counts: criterion
 * rates, element indices, the SIPAS index and its points. Pure arithmetic,
 * tested against an independent computation. */
#ifndef SIPAS_REPORT_H
#define SIPAS_REPORT_H

#include <stdbool.h>

#include "catalog.h"

struct report_counts {
	long n;					/* responses in the group */
	long valid[CATALOG_MAX_CRITERIA];	/* V_c: non-null answers */
	long satisfied[CATALOG_MAX_CRITERIA];	/* S_c: answers >= satisfied_min */
};

/* Rates are fractions 0..1; "has_" is false where the formula leaves the
 * value out (no valid answer). */
struct report_figures {
	long n;
	bool low_sample;
	bool has_rate[CATALOG_MAX_CRITERIA];
	double rate[CATALOG_MAX_CRITERIA];
	bool *has_element;		/* q->nelements of each */
	double *element;
	bool has_index;
	double index;			/* percent, rounded to two decimals */
	double points;			/* index / 10, rounded to two decimals */
};

void report_compute(const struct questionnaire *q, const struct report_counts *c,
    long min_n, struct report_figures *f);
void report_figures_free(struct report_figures *f);
/* Rounds half away from zero to two decimals. */
double report_round2(double x);

#endif
