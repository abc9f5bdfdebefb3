/* Criterion rate r_c = S_c / V_c; element index = weighted mean of its
 * criteria's rates; SIPAS index = weighted mean of the element indices, in
 * percent. A criterion without valid answers, and an element without rated
 * criteria, are left out of the means rather than counted as zero. */
#include <math.h>
#include <stdlib.h>

#include "report.h"
#include "xmalloc.h"

double
report_round2(double x)
{
	/* The small nudge keeps 84.365 from printing as 84.36 because its
	 * binary value is a hair below. */
	return round(x * 100.0 + (x >= 0 ? 1e-9 : -1e-9)) / 100.0;
}

void
report_compute(const struct questionnaire *q, const struct report_counts *c,
    long min_n, struct report_figures *f)
{
	double isum = 0, iweight = 0;

	f->n = c->n;
	f->low_sample = c->n < min_n;
	f->has_element = xcalloc(q->nelements, sizeof *f->has_element);
	f->element = xcalloc(q->nelements, sizeof *f->element);
	for (size_t i = 0; i < q->ncriteria; i++) {
		f->has_rate[i] = c->valid[i] > 0;
		f->rate[i] = f->has_rate[i] ?
		    (double)c->satisfied[i] / (double)c->valid[i] : 0;
	}
	for (size_t e = 0; e < q->nelements; e++) {
		double sum = 0, weight = 0;
		for (size_t i = 0; i < q->ncriteria; i++) {
			if (q->criteria[i].element != e || !f->has_rate[i])
				continue;
			sum += q->criteria[i].weight * f->rate[i];
			weight += q->criteria[i].weight;
		}
		if (weight > 0) {
			f->has_element[e] = true;
			f->element[e] = sum / weight;
			isum += q->elements[e].weight * f->element[e];
			iweight += q->elements[e].weight;
		}
	}
	f->has_index = iweight > 0;
	f->index = f->has_index ? report_round2(100.0 * isum / iweight) : 0;
	f->points = f->has_index ? report_round2(f->index / 10.0) : 0;
}

void
report_figures_free(struct report_figures *f)
{
	free(f->has_element);
	free(f->element);
	f->has_element = NULL;
	f->element = NULL;
}
