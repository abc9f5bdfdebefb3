/* The query of sipas report: the SQL that sums the rollup (and the
 * responses still queued for it, or rolled up on the fly) per group, built
 * from the dimensions' fragments (report-dim.c), and the fetching of its
 * rows into groups. Every query runs in the caller's transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-query.h"
#include "sipas.h"
#include "xmalloc.h"

/* $1 questionnaire id, $2 from, $3 to, $4 center code, $5 area code; $6
 * kiosk, $7 counter and $8 officer codes, which only responses rolled up on
 * the fly can honour. */
static const char filter_sql[] =
    " WHERE x.questionnaire_id = $1 AND $6::text IS NULL"
    " AND $7::text IS NULL AND $8::text IS NULL"
    " AND ($2::date IS NULL OR x.day >= $2::date)"
    " AND ($3::date IS NULL OR x.day <= $3::date)"
    " AND ($4::text IS NULL OR x.center_id IN (" FILTER_CENTER_SCOPE("$4") "))"
    " AND ($5::text IS NULL OR x.service_area_id = "
    "      (SELECT id FROM service_areas WHERE code = $5))";

struct query {
	const struct report_dim *sql[2];	/* the dimensions PostgreSQL groups by */
	size_t nsql;
	const char *params[FILTER_NPARAMS];
	const char *cond;	/* filter_responses of the selection */
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
	PGresult *res = cli_exec(conn, "summing the rollup", sql, FILTER_NPARAMS, qu->params);
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

/* The responses still queued for the rollup (sql/005_rollup.sql), or, for
 * kiosk and procedure, which the rollup does not have, the selected
 * responses, rolled up on the fly into rows shaped like the rollup's. The
 * latter are grouped by the report's own dimensions already (as k0, k1). */
static char *
rolled_up_on_the_fly(PGconn *conn, const struct questionnaire *q, const struct query *qu)
{
	char qid[16], *keys[2] = { NULL, NULL }, *src;
	const char *p[5] = { qid, qu->cond, "questionnaire_id" };
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

/* The query for r over from..to: the dimensions PostgreSQL groups by, in
 * the order of their slots, and its parameters. */
static void
query_of(const struct report *r, const char *from, const char *to, char *qid, size_t len,
    struct query *qu, size_t *slot)
{
	memset(qu, 0, sizeof *qu);
	for (size_t d = 0; d < r->nby; d++)
		if (report_dim_in_sql(r->by[d])) {
			slot[qu->nsql] = d;
			qu->sql[qu->nsql++] = r->by[d];
		}
	snprintf(qid, len, "%d", r->q->id);
	filter_params(&r->f, qid, qu->params);
	qu->cond = filter_responses(&r->f);
	qu->params[1] = from;	/* the report's period or the comparison's */
	qu->params[2] = to;
	qu->raw = r->f.kiosk != NULL || r->f.counter != NULL || r->f.officer != NULL;
	for (size_t d = 0; d < r->nby; d++)
		qu->raw |= r->by[d]->raw;
}

/* --- by respondent attributes (sql/010_privacy.sql) ------------------------ */

/* The SQL type of a dimension's group, which the function returns as text. */
static const char *
respondent_cast(const struct report_dim *dim)
{
	size_t len = strlen(dim->group);

	if (strncmp(dim->group, "date_trunc", 10) == 0)
		return "::timestamp";
	return len > 3 && strcmp(dim->group + len - 3, "_id") == 0 ? "::int" : "";
}

/* The groups of a report by respondent attributes: the cells, margins and
 * total that sipas_respondent_rollup returns, suppressed in the database,
 * which is the only way the report roles reach those attributes. Margins
 * come with it (m0, m1: that key dropped), so report_group_margins must not
 * add them again. */
static struct report_group *
respondent_fetch(PGconn *conn, const struct report *r, const struct query *qu,
    const size_t *slot, size_t *ngroups)
{
	size_t S = 1 + r->q->nelements, K = r->q->ncriteria * report_nlevels(r->q);
	struct report_group *g;
	PGresult *res;
	char *sql;
	size_t len;
	FILE *f = open_memstream(&sql, &len);

	fputs("SELECT g.m0, g.m1", f);
	for (size_t d = 0; d < qu->nsql; d++) {
		fputs(", ", f);
		put_slot(f, qu->sql[d]->key, d);
		fputs(", ", f);
		put_slot(f, qu->sql[d]->label, d);
	}
	fputs(", g.n", f);
	for (const char *const *col = (const char *const[]){ "rated", "p_sum", "p_sq", NULL };
	    *col != NULL; col++)
		for (size_t s = 1; s <= S; s++)
			fprintf(f, ", g.%s[%zu]", *col, s);
	for (size_t k = 1; k <= K; k++)
		fprintf(f, ", g.cells[%zu]", k);
	fputs(" FROM (SELECT m0, m1", f);
	for (size_t d = 0; d < 2; d++)
		fprintf(f, ", k%zu%s AS k%zu", d, d < qu->nsql ? respondent_cast(qu->sql[d]) : "", d);
	fprintf(f, ", n, rated, p_sum, p_sq, cells FROM sipas_respondent_rollup($1::smallint, "
	    "ARRAY['%s'%s%s%s], $2::date, $3::date, $4, $5, $6, $7, $8, %ld)) g",
	    qu->sql[0]->name, qu->nsql > 1 ? ", '" : "", qu->nsql > 1 ? qu->sql[1]->name : "",
	    qu->nsql > 1 ? "'" : "", r->min_cell);
	for (size_t d = 0; d < qu->nsql; d++) {
		fputc(' ', f);
		put_slot(f, qu->sql[d]->join, d);
	}
	fclose(f);
	res = cli_exec(conn, "summing by respondent", sql, FILTER_NPARAMS, qu->params);
	g = xcalloc((size_t)PQntuples(res) + 1, sizeof *g);
	for (int i = 0; i < PQntuples(res); i++) {
		struct report_group *x = &g[i];
		int col = 2;
		for (size_t d = 0; d < qu->nsql; d++, col += 2) {
			if (PQgetvalue(res, i, (int)d)[0] == 't')
				continue;	/* a margin: no key in this slot */
			x->key[slot[d]] = xstrdup(PQgetvalue(res, i, col));
			x->label[slot[d]] = xstrdup(PQgetvalue(res, i, col + 1));
		}
		report_counts_init(&x->counts, r->q);
		x->counts.n = getlong(res, i, col++);
		for (size_t s = 0; s < S; s++)
			x->counts.rated[s] = getlong(res, i, col++);
		for (size_t s = 0; s < S; s++)
			x->counts.p_sum[s] = getdouble(res, i, col++);
		for (size_t s = 0; s < S; s++)
			x->counts.p_sq[s] = getdouble(res, i, col++);
		for (size_t k = 0; k < K; k++)
			x->counts.cells[k] = getlong(res, i, col++);
	}
	*ngroups = (size_t)PQntuples(res);
	PQclear(res);
	free(sql);
	return g;
}

struct report_group *
report_query_fetch(PGconn *conn, const struct report *r, const char *from, const char *to,
    size_t *ngroups)
{
	struct query qu;
	size_t slot[2], n;
	char qid[16];
	struct report_group *g;

	query_of(r, from, to, qid, sizeof qid, &qu, slot);
	if (report_by_respondents(r))
		return respondent_fetch(conn, r, &qu, slot, ngroups);
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
	*ngroups = n;
	return g;
}
