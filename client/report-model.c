/* What every format reads from a report (report-model.h): the total, the
 * target, the change since the previous period and a group's label, each
 * decided here once, and the cross table. Also how a report's groups are
 * freed. */
#include <stdlib.h>
#include <string.h>

#include "report-model.h"
#include "xmalloc.h"

void
report_groups_clear(struct report_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int d = 0; d < 2; d++) {
			free(g[i].key[d]);
			free(g[i].label[d]);
		}
		report_counts_free(&g[i].counts);
		report_figures_free(&g[i].fig);
		free(g[i].worst);
	}
}

void
report_groups_free(struct report_group *g, size_t n)
{
	if (g == NULL)
		return;
	report_groups_clear(g, n);
	free(g);
}

bool
report_same_key(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

bool
report_by_respondents(const struct report *r)
{
	for (size_t d = 0; d < r->nby; d++)
		if (r->by[d]->kind == DIM_RESPONDENT)
			return true;
	return false;
}

bool
report_staff_page(const struct report *r)
{
	return r->nby == 1 && r->by[0]->kind == DIM_PERSONNEL;
}

const struct report_group *
report_total(const struct report *r)
{
	return &r->groups[r->ngroups - 1];
}

bool
report_below_target(const struct report *r, const struct report_group *g)
{
	return r->has_target && g->fig.has_index && !g->suppressed &&
	    report_round2(g->fig.index) < r->target;
}

bool
report_has_change(const struct report_group *g)
{
	return g->has_prev && g->fig.has_index;
}

double
report_change(const struct report_group *g)
{
	return g->fig.index - g->prev_index;
}

bool
report_has_rank_change(const struct report_group *g)
{
	return g->has_prev && g->prev_rank && g->rank;
}

long
report_rank_change(const struct report_group *g)
{
	return g->prev_rank - g->rank;
}

const char *
report_label(const struct report_group *g, size_t d)
{
	return g->key[d] ? g->label[d] : "Tổng cộng";
}

const char *
report_name(const struct report_group *g)
{
	return report_label(g, g->key[0] ? 0 : 1);
}

void
report_cross(const struct report *r, struct report_cross *x)
{
	x->rows = xcalloc(r->ngroups, sizeof *x->rows);
	x->cols = xcalloc(r->ngroups, sizeof *x->cols);
	x->nrows = x->ncols = 0;
	/* In print order: first-dimension margins, second-dimension margins,
	 * the total, which ends both lists. */
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct report_group *g = &r->groups[i];
		if (g->key[0] == NULL)
			x->cols[x->ncols++] = g;
		if (g->key[1] == NULL)
			x->rows[x->nrows++] = g;
	}
}

const struct report_group *
report_cell(const struct report *r, const struct report_group *row,
    const struct report_group *col)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (report_same_key(r->groups[i].key[0], row->key[0]) &&
		    report_same_key(r->groups[i].key[1], col->key[1]))
			return &r->groups[i];
	return NULL;
}

void
report_cross_free(struct report_cross *x)
{
	free(x->rows);
	free(x->cols);
}
