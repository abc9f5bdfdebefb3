/* The figures of a group at full precision from its sums, and the one
 * rounding of a figure as it is printed. Nothing here knows of a report's
 * groups (report-model.c) or of the database.
 *
 * Criterion rate r_c = S_c / V_c; element index = weighted mean of its
 * criteria's rates; SIPAS index = weighted mean of the element indices, in
 * percent. A criterion without valid answers, and an element without rated
 * criteria, are left out of the means rather than counted as zero.
 *
 * The margin of error is 1.96 sd(p_i) / sqrt(m) over the m respondents with
 * at least one valid answer (a respondent without one has no share p_i),
 * with the sample standard deviation (m - 1); it needs m >= 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xmalloc.h"

double
report_round2(double x)
{
	/* The small nudge keeps 84.365 from printing as 84.36 because its
	 * binary value is a hair below; adding 0 turns -0 into 0, so that a
	 * change of -0.001 prints as +0.00. */
	return round(x * 100.0 + (x >= 0 ? 1e-9 : -1e-9)) / 100.0 + 0.0;
}

void
report_fmt_pct(char *buf, size_t len, bool has, double percent)
{
	if (has)
		snprintf(buf, len, "%.2f", report_round2(percent));
	else
		snprintf(buf, len, "-");
}

void
report_fmt_change(char *buf, size_t len, bool has, double change)
{
	if (has)
		snprintf(buf, len, "%+.2f", report_round2(change));
	else
		snprintf(buf, len, "-");
}

size_t
report_nlevels(const struct questionnaire *q)
{
	return (size_t)(q->scale_max - q->scale_min + 1);
}

void
report_counts_init(struct report_counts *c, const struct questionnaire *q)
{
	size_t scopes = 1 + q->nelements;

	c->n = 0;
	c->rated = xcalloc(scopes, sizeof *c->rated);
	c->p_sum = xcalloc(scopes, sizeof *c->p_sum);
	c->p_sq = xcalloc(scopes, sizeof *c->p_sq);
	c->cells = xcalloc(q->ncriteria * report_nlevels(q), sizeof *c->cells);
}

void
report_counts_add(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q)
{
	to->n += from->n;
	for (size_t s = 0; s <= q->nelements; s++) {
		to->rated[s] += from->rated[s];
		to->p_sum[s] += from->p_sum[s];
		to->p_sq[s] += from->p_sq[s];
	}
	for (size_t k = 0; k < q->ncriteria * report_nlevels(q); k++)
		to->cells[k] += from->cells[k];
}

void
report_counts_free(struct report_counts *c)
{
	free(c->rated);
	free(c->p_sum);
	free(c->p_sq);
	free(c->cells);
	memset(c, 0, sizeof *c);
}

static void
copy_row(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q, size_t criterion)
{
	size_t L = report_nlevels(q);

	memcpy(&to->cells[criterion * L], &from->cells[criterion * L],
	    L * sizeof *to->cells);
}

void
report_counts_criterion(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q, size_t criterion)
{
	size_t L = report_nlevels(q), e = q->criteria[criterion].element;
	long valid = 0, sat = 0;

	report_counts_init(to, q);
	copy_row(to, from, q, criterion);
	for (size_t l = 0; l < L; l++) {
		valid += to->cells[criterion * L + l];
		if (q->scale_min + (int)l >= q->satisfied_min)
			sat += to->cells[criterion * L + l];
	}
	/* One answer a respondent: each share is 0 or 1. */
	to->n = valid;
	to->rated[0] = to->rated[1 + e] = valid;
	to->p_sum[0] = to->p_sum[1 + e] = (double)sat;
	to->p_sq[0] = to->p_sq[1 + e] = (double)sat;
}

void
report_counts_element(struct report_counts *to, const struct report_counts *from,
    const struct questionnaire *q, size_t element)
{
	report_counts_init(to, q);
	for (size_t c = 0; c < q->ncriteria; c++)
		if (q->criteria[c].element == element)
			copy_row(to, from, q, c);
	to->n = from->rated[1 + element];
	to->rated[0] = to->rated[1 + element] = from->rated[1 + element];
	to->p_sum[0] = to->p_sum[1 + element] = from->p_sum[1 + element];
	to->p_sq[0] = to->p_sq[1 + element] = from->p_sq[1 + element];
}

void
report_compute(const struct questionnaire *q, const struct report_counts *c,
    long min_n, struct report_figures *f)
{
	size_t L = report_nlevels(q);
	double isum = 0, iweight = 0, score = 0;
	long all_valid = 0;

	memset(f, 0, sizeof *f);
	f->n = c->n;
	f->low_sample = c->n < min_n;
	f->valid = xcalloc(q->ncriteria, sizeof *f->valid);
	f->has_rate = xcalloc(q->ncriteria, sizeof *f->has_rate);
	f->rate = xcalloc(q->ncriteria, sizeof *f->rate);
	f->has_element = xcalloc(q->nelements, sizeof *f->has_element);
	f->element = xcalloc(q->nelements, sizeof *f->element);
	f->level_share = xcalloc(L, sizeof *f->level_share);

	for (size_t i = 0; i < q->ncriteria; i++) {
		long sat = 0;
		for (size_t l = 0; l < L; l++) {
			long k = c->cells[i * L + l];
			int value = q->scale_min + (int)l;
			f->valid[i] += k;
			if (value >= q->satisfied_min)
				sat += k;
			f->level_share[l] += (double)k;
			score += (double)value * (double)k;
		}
		all_valid += f->valid[i];
		f->has_rate[i] = f->valid[i] > 0;
		f->rate[i] = f->has_rate[i] ? (double)sat / (double)f->valid[i] : 0;
	}
	for (size_t l = 0; l < L; l++)
		f->level_share[l] = all_valid > 0 ? f->level_share[l] / (double)all_valid : 0;
	f->has_mean = all_valid > 0;
	f->mean = f->has_mean ? score / (double)all_valid : 0;

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
	f->index = f->has_index ? 100.0 * isum / iweight : 0;
	f->points = f->index / 10.0;

	long m = c->rated[0];
	if (m >= 2) {
		double mean = c->p_sum[0] / (double)m;
		double var = (c->p_sq[0] - (double)m * mean * mean) / (double)(m - 1);
		f->has_margin = true;
		f->margin = 100.0 * 1.96 * sqrt(var > 0 ? var : 0) / sqrt((double)m);
	}
}

void
report_figures_free(struct report_figures *f)
{
	free(f->valid);
	free(f->has_rate);
	free(f->rate);
	free(f->has_element);
	free(f->element);
	free(f->level_share);
	memset(f, 0, sizeof *f);
}

bool
report_index_above(const struct report_figures *a, const struct report_figures *b)
{
	return report_round2(a->index) > report_round2(b->index);
}
