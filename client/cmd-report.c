/* sipas report: satisfaction figures by one or two dimensions. PostgreSQL
 * sums the daily rollup (sql/005_rollup.sql) per group, in parallel; this
 * file adds the groups up into margins and the total, client/report.c turns
 * the sums into figures, this file ranks and compares, and report-text.c
 * and report-html.c print. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "filter.h"
#include "output.h"
#include "report.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas report --by DIM[,DIM] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                    [--center CODE] [--area CODE] [--kiosk CODE]\n"
    "                    [--questionnaire CODE] [--min-n N] [--target PERCENT]\n"
    "                    [--worst N] [--compare previous|FROM:TO]\n"
    "                    [--format table|csv|json|html] [--db CONNINFO]\n"
    "\n"
    "Satisfaction by group: n, the SIPAS index (%) with its 95 % margin of\n"
    "error, points out of 10, the mean score, each element's index and each\n"
    "level's share, ranked by index. DIM is area, center, district, level,\n"
    "criterion, element, month, quarter, year, procedure or kiosk; two give a\n"
    "cross table. Dates are inclusive, in Vietnam time. --center includes\n"
    "every center below it. Without --questionnaire, the one with the most\n"
    "responses in the selection. Groups with fewer than --min-n (default 30)\n"
    "responses are marked low-sample. --compare previous compares with the\n"
    "period of the same length just before (a year, quarter or month with the\n"
    "one before it).\n";

#define CENTER_JOIN "LEFT JOIN centers c# ON c#.id = g.k# " \
	"LEFT JOIN centers cp# ON cp#.id = c#.parent_id"

static const struct report_dim dims[] = {
	{ "area", "Lĩnh vực", "service_area_id", "sa#.code", "sa#.name_vi",
	  "LEFT JOIN service_areas sa# ON sa#.id = g.k#", false, DIM_PLAIN },
	{ "center", "Đơn vị", "center_id", "c#.code", "c#.name_vi", CENTER_JOIN,
	  false, DIM_PLAIN },
	{ "district", "Huyện", "center_id",
	  "CASE WHEN c#.level = 'commune' THEN cp#.code ELSE c#.code END",
	  "CASE WHEN c#.level = 'commune' THEN cp#.name_vi ELSE c#.name_vi END",
	  CENTER_JOIN, false, DIM_PLAIN },
	{ "level", "Cấp", "center_id", "c#.level",
	  "CASE c#.level WHEN 'province' THEN 'Cấp tỉnh' WHEN 'district' THEN 'Cấp huyện' "
	  "ELSE 'Cấp xã' END", CENTER_JOIN, false, DIM_PLAIN },
	{ "kiosk", "Ki-ốt", "kiosk_id", "k#.code", "k#.code || ' - ' || kc#.name_vi",
	  "LEFT JOIN kiosks k# ON k#.id = g.k# LEFT JOIN centers kc# ON kc#.id = k#.center_id",
	  true, DIM_PLAIN },
	{ "procedure", "Thủ tục", "procedure", "coalesce(g.k#, '-')",
	  "coalesce(g.k#, 'Không ghi thủ tục')", "", true, DIM_PLAIN },
	{ "month", "Tháng", "date_trunc('month', day::timestamp)", "to_char(g.k#, 'YYYY-MM')",
	  "'Tháng ' || to_char(g.k#, 'MM/YYYY')", "", false, DIM_TIME },
	{ "quarter", "Quý", "date_trunc('quarter', day::timestamp)", "to_char(g.k#, 'YYYY-\"Q\"Q')",
	  "'Quý ' || to_char(g.k#, 'Q/YYYY')", "", false, DIM_TIME },
	{ "year", "Năm", "date_trunc('year', day::timestamp)", "to_char(g.k#, 'YYYY')",
	  "'Năm ' || to_char(g.k#, 'YYYY')", "", false, DIM_TIME },
	{ "criterion", "Tiêu chí", NULL, NULL, NULL, NULL, false, DIM_SPLIT },
	{ "element", "Yếu tố", NULL, NULL, NULL, NULL, false, DIM_SPLIT },
};

#define DIM(name) (&dims[dim_index(name)])

/* $1 questionnaire id, $2 from, $3 to, $4 center code, $5 area code; $6
 * kiosk code, which only responses rolled up on the fly can honour. */
static const char filter_sql[] =
    " WHERE x.questionnaire_id = $1 AND $6::text IS NULL"
    " AND ($2::date IS NULL OR x.day >= $2::date)"
    " AND ($3::date IS NULL OR x.day <= $3::date)"
    " AND ($4::text IS NULL OR x.center_id IN (" FILTER_CENTER_SCOPE("$4") "))"
    " AND ($5::text IS NULL OR x.service_area_id = "
    "      (SELECT id FROM service_areas WHERE code = $5))";

static int
dim_index(const char *name)
{
	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
		if (strcmp(name, dims[i].name) == 0)
			return (int)i;
	return -1;
}

/* --- the comparison period ------------------------------------------------ */

static time_t
day_of(const char *s)
{
	struct tm tm = { 0 };

	sscanf(s, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static char *
date_of(time_t t)
{
	struct tm tm;
	char *s;

	gmtime_r(&t, &tm);
	xasprintf(&s, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return s;
}

/* Whole calendar months shift by their count of months (2025 -> 2024,
 * Q2 -> Q1), other periods by their count of days. */
static void
previous_period(const char *from, const char *to, char **pfrom, char **pto)
{
	time_t f = day_of(from), t = day_of(to);
	struct tm a, b, next;

	gmtime_r(&f, &a);
	gmtime_r(&t, &b);
	time_t after = t + 86400;
	gmtime_r(&after, &next);
	if (a.tm_mday == 1 && next.tm_mday == 1) {
		int months = (b.tm_year - a.tm_year) * 12 + b.tm_mon - a.tm_mon + 1;
		a.tm_mon -= months;
		*pfrom = date_of(timegm(&a));
		*pto = date_of(f - 86400);
	} else {
		long days = (long)((t - f) / 86400) + 1;
		*pfrom = date_of(f - days * 86400);
		*pto = date_of(f - 86400);
	}
}

/* --- the query ------------------------------------------------------------ */

struct query {
	const struct report_dim *sql[2];	/* the dimensions PostgreSQL groups by */
	size_t nsql;
	const char *params[6];
	bool raw;		/* responses rolled up on the fly, not the rollup */
	char *source;
};

/* Writes tmpl with '#' replaced by the slot. */
static void
put_slot(FILE *f, const char *tmpl, size_t slot)
{
	for (; *tmpl != '\0'; tmpl++)
		if (*tmpl == '#')
			fprintf(f, "%zu", slot);
		else
			fputc(*tmpl, f);
}

/* SELECT key0, label0, [key1, label1,] g.* FROM (the rollup rows grouped
 * and summed, k0 [k1] first) g JOIN what the labels need. Grouping on ids
 * and dates, labelling only the groups, keeps the hashing cheap. */
static char *
build_sql(const struct questionnaire *q, const struct query *qu)
{
	size_t S = 1 + q->nelements, K = q->ncriteria * report_nlevels(q);
	char *sql;
	size_t len;
	FILE *f = open_memstream(&sql, &len);

	fputs("SELECT ", f);
	for (size_t d = 0; d < qu->nsql; d++) {
		put_slot(f, qu->sql[d]->key, d);
		fputs(", ", f);
		put_slot(f, qu->sql[d]->label, d);
		fputs(", ", f);
	}
	fputs("g.* FROM (SELECT ", f);
	for (size_t d = 0; d < qu->nsql; d++)
		if (qu->raw)	/* grouped already */
			fprintf(f, "x.k%zu AS k%zu, ", d, d);
		else
			fprintf(f, "%s AS k%zu, ", qu->sql[d]->group, d);
	fputs("sum(x.n)", f);
	for (const char *const *col = (const char *const[]){ "rated", "p_sum", "p_sq", NULL };
	    *col != NULL; col++)
		for (size_t s = 1; s <= S; s++)
			fprintf(f, ", sum(x.%s[%zu])", *col, s);
	for (size_t k = 1; k <= K; k++)
		fprintf(f, ", sum(x.cells[%zu])", k);
	fprintf(f, " FROM %s x", qu->source);
	/* The raw source has applied FILTER_RESPONSES already. */
	fputs(qu->raw ? " WHERE x.questionnaire_id = $1" : filter_sql, f);
	if (qu->nsql > 0)
		fputs(qu->nsql == 1 ? " GROUP BY 1" : " GROUP BY 1, 2", f);
	fputs(") g", f);
	for (size_t d = 0; d < qu->nsql; d++) {
		fputc(' ', f);
		put_slot(f, qu->sql[d]->join, d);
	}
	fclose(f);
	return sql;
}

static long
getlong(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : atol(PQgetvalue(res, row, col));
}

static double
getdouble(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtod(PQgetvalue(res, row, col), NULL);
}

/* Runs the query; each row is a group with its keys in the SQL dimensions'
 * slots (slot[d] for qu->sql[d]). */
static struct report_group *
fetch(PGconn *conn, const struct questionnaire *q, const struct query *qu,
    const size_t *slot, size_t *ngroups)
{
	size_t S = 1 + q->nelements, K = q->ncriteria * report_nlevels(q);
	char *sql = build_sql(q, qu);
	PGresult *res = cli_exec(conn, "summing the rollup", sql, 6, qu->params);
	struct report_group *g = xcalloc((size_t)PQntuples(res) + 1, sizeof *g);
	size_t n = 0;

	for (int i = 0; i < PQntuples(res); i++) {
		struct report_group *x = &g[n];
		int col = 0;
		for (size_t d = 0; d < qu->nsql; d++, col += 2) {
			x->key[slot[d]] = xstrdup(PQgetvalue(res, i, col));
			x->label[slot[d]] = xstrdup(PQgetvalue(res, i, col + 1));
		}
		col += (int)qu->nsql;	/* g.k0, g.k1 */
		report_counts_init(&x->counts, q);
		x->counts.n = getlong(res, i, col++);
		for (size_t s = 0; s < S; s++)
			x->counts.rated[s] = getlong(res, i, col++);
		for (size_t s = 0; s < S; s++)
			x->counts.p_sum[s] = getdouble(res, i, col++);
		for (size_t s = 0; s < S; s++)
			x->counts.p_sq[s] = getdouble(res, i, col++);
		for (size_t k = 0; k < K; k++)
			x->counts.cells[k] = getlong(res, i, col++);
		n++;
	}
	PQclear(res);
	free(sql);
	*ngroups = n;
	return g;
}

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

static void group_free(struct report_group *g);

/* Adds up the groups with the same keys: several centers make a district. */
static void
merge_same_keys(const struct questionnaire *q, struct report_group *g, size_t *np)
{
	size_t n = *np, m = 0;

	qsort(g, n, sizeof *g, by_keys);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && by_keys(&g[m - 1], &g[i]) == 0) {
			report_counts_add(&g[m - 1].counts, &g[i].counts, q);
			group_free(&g[i]);
		} else {
			g[m++] = g[i];
		}
	}
	*np = m;
}

/* The groups PostgreSQL returned have a key in every SQL dimension; the
 * margins (a key dropped) and the total (all dropped) are their sums. */
static struct report_group *
add_margins(const struct questionnaire *q, size_t nsql, struct report_group *g,
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

static void
group_free(struct report_group *g)
{
	for (int d = 0; d < 2; d++) {
		free(g->key[d]);
		free(g->label[d]);
	}
	report_counts_free(&g->counts);
	report_figures_free(&g->fig);
	free(g->worst);
}

static void
groups_free(struct report_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		group_free(&g[i]);
	free(g);
}

/* A criterion or element dimension: every group also appears once per
 * criterion (element) in that slot, with that part of its counts. */
static struct report_group *
split(const struct questionnaire *q, const struct report_dim *dim, size_t slot,
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

/* The responses still queued for the rollup (sql/005_rollup.sql), or, for
 * kiosk and procedure, which the rollup does not have, the selected
 * responses, rolled up on the fly into rows shaped like the rollup's. The
 * latter are grouped by the report's own dimensions already (as k0, k1). */
static char *
rolled_up_on_the_fly(PGconn *conn, const struct questionnaire *q, const struct query *qu)
{
	char qid[16], *keys[2] = { NULL, NULL }, *src;
	const char *p[5] = { qid, FILTER_RESPONSES, "questionnaire_id" };
	PGresult *res;

	snprintf(qid, sizeof qid, "%d", q->id);
	if (!qu->raw) {
		res = cli_exec(conn, "preparing the query",
		    "SELECT sipas_rollup_query('rollup_pending', $1::smallint, ARRAY['day', "
		    "'center_id', 'service_area_id', 'questionnaire_id'], 'true')", 1, p);
	} else {
		for (size_t d = 0; d < qu->nsql; d++) {
			xasprintf(&keys[d], "%s AS k%zu", qu->sql[d]->group, d);
			p[3 + d] = keys[d];
		}
		res = cli_exec(conn, "preparing the query", qu->nsql == 0 ?
		    "SELECT sipas_rollup_query('responses', $1::smallint, ARRAY[$3], $2)" :
		    qu->nsql == 1 ?
		    "SELECT sipas_rollup_query('responses', $1::smallint, ARRAY[$3, $4], $2)" :
		    "SELECT sipas_rollup_query('responses', $1::smallint, ARRAY[$3, $4, $5], $2)",
		    3 + (int)qu->nsql, p);
	}
	xasprintf(&src, "(%s)", PQgetvalue(res, 0, 0));
	PQclear(res);
	free(keys[0]);
	free(keys[1]);
	return src;
}

/* Competition ranking ("1, 2, 2, 4") by index among groups with the same
 * margins and the same key in the second slot. */
static void
rank(struct report_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g[i].rank = 0;
		if (!g[i].fig.has_index || (g[i].key[0] == NULL && g[i].key[1] == NULL))
			continue;
		g[i].rank = 1;
		for (size_t j = 0; j < n; j++) {
			bool peer = g[i].key[0] == NULL ?
			    g[j].key[0] == NULL && g[j].key[1] != NULL :
			    g[j].key[0] != NULL && report_same_key(g[j].key[1], g[i].key[1]);
			if (peer && g[j].fig.has_index && report_index_above(&g[j].fig, &g[i].fig))
				g[i].rank++;
		}
	}
}

/* The groups of r for the period from..to, with figures and ranks. */
static struct report_group *
compute(PGconn *conn, const struct report *r, const char *from, const char *to,
    size_t *ngroups)
{
	struct query qu;
	size_t slot[2], n;
	char qid[16];
	struct report_group *g;

	memset(&qu, 0, sizeof qu);
	for (size_t d = 0; d < r->nby; d++)
		if (r->by[d]->kind != DIM_SPLIT) {
			slot[qu.nsql] = d;
			qu.sql[qu.nsql++] = r->by[d];
		}
	snprintf(qid, sizeof qid, "%d", r->q->id);
	filter_params(&r->f, qid, qu.params);
	qu.params[1] = from;	/* the report's period or the comparison's */
	qu.params[2] = to;
	qu.raw = r->f.kiosk != NULL;
	for (size_t d = 0; d < r->nby; d++)
		qu.raw |= r->by[d]->raw;
	/* The rollup plus the responses queued for it, in the snapshot of the
	 * report's transaction: each response counted once. */
	qu.source = rolled_up_on_the_fly(conn, r->q, &qu);
	g = fetch(conn, r->q, &qu, slot, &n);
	free(qu.source);
	if (!qu.raw) {
		size_t more;
		struct report_group *h;
		qu.source = xstrdup("response_rollup");
		h = fetch(conn, r->q, &qu, slot, &more);
		free(qu.source);
		g = xreallocarray(g, n + more + 1, sizeof *g);
		memcpy(&g[n], h, more * sizeof *h);
		n += more;
		free(h);
	}
	merge_same_keys(r->q, g, &n);
	g = add_margins(r->q, qu.nsql, g, &n);
	for (size_t d = 0; d < r->nby; d++)
		if (r->by[d]->kind == DIM_SPLIT)
			g = split(r->q, r->by[d], d, g, n, &n);
	for (size_t i = 0; i < n; i++)
		report_compute(r->q, &g[i].counts, r->min_n, &g[i].fig);
	rank(g, n);
	*ngroups = n;
	return g;
}

/* --- order, comparison, weakest criteria ---------------------------------- */

/* The position of a key along a dimension: time in order, criteria and
 * elements in questionnaire order, the rest by rank of their margin. */
static long
position(const struct report *r, size_t d, const char *key)
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
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct report_group *m = &r->groups[i];
		if (m->key[1 - d] == NULL && (r->nby == 1 || m->key[d] != NULL) &&
		    report_same_key(m->key[d], key))
			return m->rank > 0 ? m->rank : 1L << 29;
	}
	return 1L << 29;
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

static void
sort_groups(struct report *r)
{
	for (size_t i = 0; i < r->ngroups; i++)
		for (size_t d = 0; d < r->nby; d++)
			r->groups[i].order[d] = position(r, d, r->groups[i].key[d]);
	qsort(r->groups, r->ngroups, sizeof *r->groups, in_print_order);
}

static void
attach_previous(struct report *r, const struct report_group *prev, size_t nprev)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		struct report_group *g = &r->groups[i];
		for (size_t j = 0; j < nprev; j++) {
			if (!report_same_key(g->key[0], prev[j].key[0]) ||
			    !report_same_key(g->key[1], prev[j].key[1]) || !prev[j].fig.has_index)
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

static void
find_worst(const struct report *r, struct report_group *g)
{
	size_t n = 0;

	g->worst = xcalloc(r->q->ncriteria, sizeof *g->worst);
	for (size_t c = 0; c < r->q->ncriteria; c++)
		if (g->fig.has_rate[c])
			g->worst[n++] = c;
	weakest_of = &g->fig;
	qsort(g->worst, n, sizeof *g->worst, by_rate);
	g->nworst = n < (size_t)r->worst ? n : (size_t)r->worst;
}


/* --- the command ---------------------------------------------------------- */

static void
parse_by(struct report *r, const char *arg)
{
	char *copy = xstrdup(arg), *save, *tok;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		int i = dim_index(tok);
		if (i < 0)
			cli_usage_error(usage, "--by: '%s' is not one of area, center, district, "
			    "level, criterion, element, month, quarter, year, procedure, kiosk",
			    tok);
		if (r->nby == 2)
			cli_usage_error(usage, "--by: at most two dimensions");
		r->by[r->nby++] = &dims[i];
	}
	free(copy);
	if (r->nby == 0)
		cli_usage_error(usage, "--by: no dimension");
	if (r->nby == 2 && (r->by[0] == r->by[1] ||
	    (r->by[0]->kind == DIM_SPLIT && r->by[1]->kind == DIM_SPLIT)))
		cli_usage_error(usage, "--by %s: two different dimensions, at most one of "
		    "criterion and element", arg);
}

static long
parse_count(const char *opt, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 0 || v > 1000000000)
		cli_usage_error(usage, "%s: '%s' is not a count", opt, arg);
	return v;
}

/* HTML: the total by quarter, or by month when the period holds fewer than
 * three quarters; nothing when it holds a single month. */
static void
compute_trend(PGconn *conn, struct report *r)
{
	struct report t = *r;
	const char *names[] = { "quarter", "month" };

	for (size_t i = 0; i < 2; i++) {
		t.by[0] = DIM(names[i]);
		t.nby = 1;
		size_t n;
		struct report_group *g = compute(conn, &t, r->f.from, r->f.to, &n);
		if (n >= 4 || (i == 1 && n >= 3)) {	/* the total is one of them */
			t.groups = g;
			t.ngroups = n;
			sort_groups(&t);
			r->trend_by = t.by[0];
			r->trend = g;
			r->ntrend = n - 1;	/* without the total */
			return;
		}
		groups_free(g, n);
	}
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, FILTER_LONGOPTS,
		{ "by", required_argument, NULL, 'b' },
		{ "min-n", required_argument, NULL, 'n' },
		{ "target", required_argument, NULL, 'T' },
		{ "worst", required_argument, NULL, 'w' },
		{ "compare", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 } };
	struct report r;
	enum output_format fmt = OUTPUT_TABLE;
	const char *compare = NULL;
	struct catalog *cat;
	char err[512], *end;
	PGconn *conn;
	int ch;

	memset(&r, 0, sizeof r);
	r.min_n = 30;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': parse_by(&r, optarg); break;
		case 'n': r.min_n = parse_count("--min-n", optarg); break;
		case 'w': r.worst = parse_count("--worst", optarg); break;
		case 'C': compare = optarg; break;
		case 'T':
			r.target = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(r.target >= 0 && r.target <= 100))
				cli_usage_error(usage, "--target: '%s' is not a percentage 0..100",
				    optarg);
			r.has_target = true;
			break;
		case 'F':
			if (!output_format_parse(optarg, &fmt))
				cli_usage_error(usage, "--format: '%s' is not table, csv, json "
				    "or html", optarg);
			break;
		default:
			if (!filter_option(&r.f, ch, optarg))
				cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (r.nby == 0)
		cli_usage_error(usage, "report: --by is required");
	filter_check(NULL, &r.f, usage);
	if (compare != NULL && strcmp(compare, "previous") == 0) {
		if (r.f.from == NULL || r.f.to == NULL)
			cli_usage_error(usage, "--compare previous needs --from and --to");
		previous_period(r.f.from, r.f.to, &r.cmp_from, &r.cmp_to);
	} else if (compare != NULL) {
		const char *colon = strchr(compare, ':');
		if (colon == NULL)
			cli_usage_error(usage, "--compare: 'previous' or FROM:TO");
		r.cmp_from = xstrndup(compare, (size_t)(colon - compare));
		r.cmp_to = xstrdup(colon + 1);
		if (!filter_valid_date(r.cmp_from) || !filter_valid_date(r.cmp_to) ||
		    strcmp(r.cmp_from, r.cmp_to) > 0)
			cli_usage_error(usage, "--compare: '%s' is not FROM:TO, two dates "
			    "YYYY-MM-DD in order", compare);
	}

	conn = cli_connect();
	/* Every query of the report sees the same snapshot. */
	PQclear(cli_exec(conn, "starting a transaction",
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL));
	filter_check(conn, &r.f, usage);
	if (!catalog_load(conn, &cat, err, sizeof err))
		cli_die("%s", err);
	r.q = filter_questionnaire(conn, cat, &r.f);

	r.groups = compute(conn, &r, r.f.from, r.f.to, &r.ngroups);
	if (r.cmp_from != NULL) {
		size_t nprev;
		struct report_group *prev = compute(conn, &r, r.cmp_from, r.cmp_to, &nprev);
		attach_previous(&r, prev, nprev);
		groups_free(prev, nprev);
	}
	/* A criterion's group has one criterion: nothing to choose from. */
	bool by_criterion = false;
	for (size_t d = 0; d < r.nby; d++)
		by_criterion |= strcmp(r.by[d]->name, "criterion") == 0;
	if (r.worst > 0 && !by_criterion)
		for (size_t i = 0; i < r.ngroups; i++)
			find_worst(&r, &r.groups[i]);
	sort_groups(&r);

	if (fmt == OUTPUT_HTML)
		compute_trend(conn, &r);
	report_print(&r, fmt, stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_die("writing the report failed");

	groups_free(r.groups, r.ngroups);
	groups_free(r.trend, r.ntrend + (r.trend != NULL));
	free(r.cmp_from);
	free(r.cmp_to);
	catalog_free(cat);
	PQclear(cli_exec(conn, "ending the transaction", "COMMIT", 0, NULL));
	PQfinish(conn);
	return 0;
}
