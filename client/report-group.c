/* The groups of a report, after report-query.c has fetched them: groups
 * with the same keys added up, the margins and the total, the split by
 * criterion or element, the suppression of small groups of respondents,
 * ranks, the print order, the previous period's index and the weakest
 * criteria. No database here: the unit tests drive
 * it (tests/unit/test_group.c). */
#include <stdlib.h>
#include <string.h>

#include "report-group.h"
#include "xmalloc.h"

/* --- merging and margins -------------------------------------------------- */

static int
by_keys(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;

	for (int d = 0; d < 2; d++) {
		if (x->key[d] == NULL || y->key[d] == NULL) {
			if (x->key[d] != y->key[d])
				return x->key[d] == NULL ? -1 : 1;
			continue;
		}
		int c = strcmp(x->key[d], y->key[d]);
		if (c != 0)
			return c;
	}
	return 0;
}

/* Adds up the groups with the same keys: several centers make a district. */
void
report_group_merge(const struct questionnaire *q, struct report_group *g, size_t *np)
{
	size_t n = *np, m = 0;

	qsort(g, n, sizeof *g, by_keys);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && by_keys(&g[m - 1], &g[i]) == 0) {
			report_counts_add(&g[m - 1].counts, &g[i].counts, q);
			report_groups_clear(&g[i], 1);
		} else {
			g[m++] = g[i];
		}
	}
	*np = m;
}

/* The groups PostgreSQL returned have a key in every SQL dimension; the
 * margins (a key dropped) and the total (all dropped) are their sums. */
struct report_group *
report_group_margins(const struct questionnaire *q, size_t nsql, struct report_group *g,
    size_t *np)
{
	static const bool drops[3][2] = { { true, true }, { true, false }, { false, true } };
	size_t n = *np, m = n;

	if (nsql == 0)
		return g;	/* the one row is the total */
	g = xreallocarray(g, 3 * n + 1, sizeof *g);
	for (size_t k = 0; k < (nsql == 2 ? 3 : 1); k++) {
		for (size_t i = 0; i < n; i++) {
			const char *key[2];
			struct report_group *t = NULL;
			for (int d = 0; d < 2; d++)
				key[d] = drops[k][d] ? NULL : g[i].key[d];
			for (size_t j = n; j < m && t == NULL; j++)
				if (report_same_key(g[j].key[0], key[0]) &&
				    report_same_key(g[j].key[1], key[1]))
					t = &g[j];
			if (t == NULL) {
				t = &g[m++];
				memset(t, 0, sizeof *t);
				for (int d = 0; d < 2; d++)
					if (key[d] != NULL) {
						t->key[d] = xstrdup(key[d]);
						t->label[d] = xstrdup(g[i].label[d]);
					}
				report_counts_init(&t->counts, q);
			}
			report_counts_add(&t->counts, &g[i].counts, q);
		}
		if (m == n) {	/* nothing selected: still a total, of zero */
			memset(&g[m], 0, sizeof g[m]);
			report_counts_init(&g[m++].counts, q);
		}
	}
	*np = m;
	return g;
}

/* A criterion or element dimension: every group also appears once per
 * criterion (element) in that slot, with that part of its counts. */
struct report_group *
report_group_split(const struct questionnaire *q, const struct report_dim *dim, size_t slot,
    struct report_group *in, size_t nin, size_t *nout)
{
	bool crit = strcmp(dim->name, "criterion") == 0;
	size_t parts = crit ? q->ncriteria : q->nelements, n = 0;
	struct report_group *out = xcalloc(nin * (1 + parts), sizeof *out);

	for (size_t i = 0; i < nin; i++) {
		for (size_t p = 0; p < parts; p++) {
			struct report_group *x = &out[n++];
			for (int d = 0; d < 2; d++) {
				x->key[d] = in[i].key[d] ? xstrdup(in[i].key[d]) : NULL;
				x->label[d] = in[i].label[d] ? xstrdup(in[i].label[d]) : NULL;
			}
			/* A part of a hidden group is hidden (its counts are
			 * the zeros the database left in it). */
			x->suppressed = in[i].suppressed;
			x->key[slot] = xstrdup(crit ? q->criteria[p].code : q->elements[p].code);
			x->label[slot] = xstrdup(crit ? q->criteria[p].text_vi :
			    q->elements[p].name_vi);
			if (crit)
				report_counts_criterion(&x->counts, &in[i].counts, q, p);
			else
				report_counts_element(&x->counts, &in[i].counts, q, p);
		}
		out[n++] = in[i];	/* keeps its NULL in the slot: the margin */
	}
	free(in);
	*nout = n;
	return out;
}

/* --- suppression ---------------------------------------------------------- */

/* The line along dimension d of margin m: m and the groups with a key in
 * slot d and m's key in the other. If exactly one is suppressed, the
 * smallest other group of the line is too, else m; returns whether it
 * suppressed one. */
static bool
protect_line(struct report_group *g, size_t n, size_t d, struct report_group *m)
{
	struct report_group *smallest = NULL;
	size_t hidden = m->suppressed;

	for (size_t j = 0; j < n; j++) {
		if (g[j].key[d] == NULL || !report_same_key(g[j].key[1 - d], m->key[1 - d]))
			continue;
		if (g[j].suppressed)
			hidden++;
		else if (smallest == NULL || g[j].counts.n < smallest->counts.n)
			smallest = &g[j];
	}
	if (hidden != 1)
		return false;
	if (smallest == NULL)
		smallest = m;
	smallest->suppressed = true;
	return true;
}

void
report_group_suppress(const struct report *r, struct report_group *g, size_t n)
{
	bool changed;

	if (!report_by_respondents(r))
		return;
	/* A group of no one hides no one (an empty selection's total); one
	 * the database suppressed comes with no respondents and stays so. */
	for (size_t i = 0; i < n; i++)
		g[i].suppressed = g[i].suppressed ||
		    (g[i].counts.n > 0 && g[i].counts.n < r->min_cell);
	/* Each pass suppresses at least one more group, or ends. */
	do {
		changed = false;
		for (size_t d = 0; d < r->nby; d++) {
			if (r->by[d]->kind == DIM_SPLIT)
				continue;
			for (size_t i = 0; i < n; i++)
				if (g[i].key[d] == NULL)
					changed |= protect_line(g, n, d, &g[i]);
		}
	} while (changed);
}

/* The peers a group is ranked among: the margins of the second
 * dimension together; otherwise those with the same key in its slot. */
static int
by_peers(const struct report_group *a, const struct report_group *b)
{
	if ((a->key[0] == NULL) != (b->key[0] == NULL))
		return a->key[0] == NULL ? -1 : 1;
	if (a->key[0] == NULL || report_same_key(a->key[1], b->key[1]))
		return 0;
	if (a->key[1] == NULL || b->key[1] == NULL)
		return a->key[1] == NULL ? -1 : 1;
	return strcmp(a->key[1], b->key[1]);
}

static int
by_peers_then_index(const void *pa, const void *pb)
{
	const struct report_group *a = *(const struct report_group *const *)pa;
	const struct report_group *b = *(const struct report_group *const *)pb;
	int c = by_peers(a, b);

	if (c != 0)
		return c;
	return report_index_above(&a->fig, &b->fig) ? -1 :
	    report_index_above(&b->fig, &a->fig) ? 1 : 0;
}

/* Competition ranking ("1, 2, 2, 4") by index among groups with the same
 * margins and the same key in the second slot. Sorted, not compared pair
 * by pair: a report by procedure has thousands of groups. */
void
report_group_rank(struct report_group *g, size_t n)
{
	struct report_group **p = xcalloc(n + 1, sizeof *p);
	size_t m = 0, first = 0;

	for (size_t i = 0; i < n; i++) {
		g[i].rank = 0;
		if (g[i].fig.has_index && !g[i].suppressed &&
		    (g[i].key[0] != NULL || g[i].key[1] != NULL))
			p[m++] = &g[i];
	}
	qsort(p, m, sizeof *p, by_peers_then_index);
	for (size_t k = 0; k < m; k++) {
		if (k == 0 || by_peers(p[k - 1], p[k]) != 0)
			first = k;
		p[k]->rank = k > first && by_peers_then_index(&p[k - 1], &p[k]) == 0 ?
		    p[k - 1]->rank : (long)(k - first + 1);
	}
	free(p);
}

/* --- order, comparison, weakest criteria ---------------------------------- */

/* A margin along a dimension (its key, no key in the other) and its rank,
 * looked up by key. */
struct margin {
	const char *key;
	long rank;
};

static int
by_margin_key(const void *a, const void *b)
{
	return strcmp(((const struct margin *)a)->key, ((const struct margin *)b)->key);
}

/* The position of a key along dimension d: time in order, criteria and
 * elements in questionnaire order, the rest by rank of their margin (of
 * the nm in m, sorted by key). */
static long
position(const struct report *r, size_t d, const char *key, const struct margin *m, size_t nm)
{
	if (key == NULL)
		return 1L << 30;	/* the margin comes last */
	if (r->by[d]->kind == DIM_SPLIT) {
		if (strcmp(r->by[d]->name, "criterion") == 0)
			return questionnaire_criterion(r->q, key);
		for (size_t e = 0; e < r->q->nelements; e++)
			if (strcmp(r->q->elements[e].code, key) == 0)
				return (long)e;
		return 0;
	}
	if (r->by[d]->kind == DIM_TIME)
		return 0;	/* ties broken by key below, which sorts by time */
	const struct margin *found = bsearch(&(struct margin){ key, 0 }, m, nm, sizeof *m,
	    by_margin_key);
	return found != NULL && found->rank > 0 ? found->rank : 1L << 29;
}

static int
by_position(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;

	for (size_t d = 0; d < 2; d++) {
		if (x->order[d] != y->order[d])
			return x->order[d] < y->order[d] ? -1 : 1;
		if (x->key[d] != NULL && y->key[d] != NULL) {
			int c = strcmp(x->key[d], y->key[d]);
			if (c != 0)
				return c;
		}
	}
	return 0;
}

/* Margins of the first dimension after the cells, then those of the
 * second, then the total. */
static int
margin_class(const struct report_group *g)
{
	return (g->key[0] == NULL) * 2 + (g->key[1] == NULL && g->key[0] == NULL);
}

static int
in_print_order(const void *a, const void *b)
{
	int ca = margin_class(a), cb = margin_class(b);

	return ca != cb ? ca - cb : by_position(a, b);
}

void
report_group_sort(struct report *r)
{
	for (size_t d = 0; d < r->nby; d++) {
		struct margin *m = xcalloc(r->ngroups + 1, sizeof *m);
		size_t nm = 0;
		for (size_t i = 0; i < r->ngroups; i++) {
			const struct report_group *g = &r->groups[i];
			if (g->key[1 - d] == NULL && g->key[d] != NULL)
				m[nm++] = (struct margin){ g->key[d], g->rank };
		}
		qsort(m, nm, sizeof *m, by_margin_key);
		for (size_t i = 0; i < r->ngroups; i++)
			r->groups[i].order[d] = position(r, d, r->groups[i].key[d], m, nm);
		free(m);
	}
	qsort(r->groups, r->ngroups, sizeof *r->groups, in_print_order);
}

void
report_group_attach_previous(struct report *r, const struct report_group *prev, size_t nprev)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		struct report_group *g = &r->groups[i];
		for (size_t j = 0; j < nprev; j++) {
			if (!report_same_key(g->key[0], prev[j].key[0]) ||
			    !report_same_key(g->key[1], prev[j].key[1]) || !prev[j].fig.has_index ||
			    g->suppressed || prev[j].suppressed)
				continue;
			g->has_prev = true;
			g->prev_index = prev[j].fig.index;
			g->prev_rank = prev[j].rank;
		}
	}
}

static const struct report_figures *weakest_of;

static int
by_rate(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	double rx = weakest_of->rate[x], ry = weakest_of->rate[y];

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x < y ? -1 : x > y;
}

void
report_group_find_worst(const struct report *r, struct report_group *g)
{
	size_t n = 0;

	g->worst = xcalloc(r->q->ncriteria, sizeof *g->worst);
	for (size_t c = 0; c < r->q->ncriteria && !g->suppressed; c++)
		if (g->fig.has_rate[c])
			g->worst[n++] = c;
	weakest_of = &g->fig;
	qsort(g->worst, n, sizeof *g->worst, by_rate);
	g->nworst = n < (size_t)r->worst ? n : (size_t)r->worst;
}
