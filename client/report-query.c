/* The query of sipas report: the SQL that sums the rollup (and the
 * responses still queued for it, or rolled up on the fly) per group, built
 * from the dimensions' fragments (report-dim.c), and the fetching of its
 * rows into groups. Every query runs in the caller's transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report-query.h"
#include "sipas.h"
#include "xmalloc.h"

/* The tree the figures count under ($1 --center, $2 --as-of), as the
 * rows of a VALUES list: for each center and span of days,
 * the center its responses count under (tree_center) and that center's
 * district (tree_district: its parent if it is a commune). Without
 * --as-of a center counts as itself, under its parent of each day
 * (center_parent_spans; a center without rows there, under its parent of
 * now); with it, under the successor it was closed into by $2 if that one
 * is open on $2, transitively, and under that center's parent of $2.
 * With --center ($1), only the centers under it on each day, their spans
 * cut to those days. The rollups are keyed by day: a row joins its span.
 * Read apart and written into the report's queries as a list, because a
 * recursive query cannot be scanned in parallel, and the first rollup's
 * is (0.24 s against 0.39 s for a year by month at 300,000 responses). */
static const char tree_query[] =
    "WITH RECURSIVE spans AS ("
    " SELECT c.id AS center_id, coalesce(s.valid_from, '-infinity') AS valid_from,"
    "  coalesce(s.valid_until, 'infinity') AS valid_until,"
    "  CASE WHEN s.center_id IS NULL THEN c.parent_id ELSE s.parent_id END AS parent_id"
    " FROM centers c LEFT JOIN center_parent_spans s ON s.center_id = c.id"
    "), succ (center_id, to_id, depth) AS ("
    " SELECT id, id, 0 FROM centers WHERE $2::date IS NOT NULL"
    " UNION ALL SELECT s.center_id, c.successor_id, s.depth + 1 FROM succ s"
    "  JOIN centers c ON c.id = s.to_id JOIN centers n ON n.id = c.successor_id"
    "  WHERE c.closed_on < $2::date AND coalesce(n.opened_on <= $2::date, true)"
    "  AND s.depth < 64"
    "), under AS ("
    " SELECT center_id, valid_from, valid_until, center_id AS tree_center,"
    "  parent_id AS tree_parent FROM spans WHERE $2::date IS NULL"
    " UNION ALL SELECT m.center_id, '-infinity', 'infinity', m.to_id, s.parent_id"
    " FROM (SELECT DISTINCT ON (center_id) center_id, to_id FROM succ"
    "       ORDER BY center_id, depth DESC) m"
    " JOIN spans s ON s.center_id = m.to_id"
    "  AND $2::date >= s.valid_from AND $2::date < s.valid_until"
    "), scope (center_id, valid_from, valid_until) AS ("
    " SELECT id, '-infinity'::date, 'infinity'::date FROM centers WHERE code = $1"
    " UNION SELECT u.center_id, greatest(u.valid_from, s.valid_from),"
    "  least(u.valid_until, s.valid_until)"
    " FROM under u JOIN scope s ON u.tree_parent = s.center_id"
    " WHERE greatest(u.valid_from, s.valid_from) < least(u.valid_until, s.valid_until)"
    "), tree AS ("
    " SELECT u.center_id, u.valid_from, u.valid_until, u.tree_center,"
    "  CASE WHEN c.level = 'commune' THEN u.tree_parent ELSE u.tree_center END"
    "  AS tree_district"
    " FROM (SELECT u.center_id, greatest(u.valid_from, s.valid_from) AS valid_from,"
    "        least(u.valid_until, s.valid_until) AS valid_until, u.tree_center,"
    "        u.tree_parent"
    "       FROM under u JOIN scope s ON s.center_id = u.tree_center"
    "       WHERE greatest(u.valid_from, s.valid_from) < least(u.valid_until, s.valid_until)"
    "       UNION ALL SELECT * FROM under WHERE $1::text IS NULL) u"
    " JOIN centers c ON c.id = u.tree_center"
    ") SELECT coalesce(string_agg(format('(%s, %L::date, %L::date, %s, %s)', center_id,"
    " valid_from, valid_until, tree_center, coalesce(tree_district::text, 'NULL')), ', '),"
    " '(NULL::int, NULL::date, NULL::date, NULL::int, NULL::int)') FROM tree";

/* The rows of relation rel (with columns center_id and day) with their
 * place in the tree. */
#define TREE_ROWS(rel, day) \
	"(SELECT x.*, t.tree_center, t.tree_district FROM " rel " x" \
	" JOIN tree t ON t.center_id = x.center_id" \
	" AND " day " >= t.valid_from AND " day " < t.valid_until)"

/* Over a rollup: $1 questionnaire id, $2 from, $3 to, $5 area code (only
 * the first rollup has areas); $6 kiosk, $7 counter and $8 officer codes,
 * which only responses rolled up on the fly can honour. */
static const char filter_sql[] =
    " WHERE x.questionnaire_id = $1 AND $6::text IS NULL"
    " AND $7::text IS NULL AND $8::text IS NULL"
    " AND ($2::date IS NULL OR x.day >= $2::date)"
    " AND ($3::date IS NULL OR x.day <= $3::date)";
/* The center ($4) and --as-of ($9) are in the tree: named, always true,
 * so that every parameter has a type. */
static const char tree_params_sql[] = " AND coalesce($4::text, $9::date::text, '') IS NOT NULL";

/* The parameters of the report's queries: filter_params', then --as-of. */
#define QUERY_NPARAMS (FILTER_NPARAMS + 1)
static const char filter_area_sql[] =
    " AND ($5::text IS NULL OR x.service_area_id = "
    "      (SELECT id FROM service_areas WHERE code = $5))";

/* Where the groups come from: the first rollup (sql/005), the second
 * (sql/007) for one of its dimensions, or the responses rolled up on the
 * fly. Each rollup comes with the responses still queued for it. */
enum query_source { QUERY_ROLLUP, QUERY_ROLLUP_BY, QUERY_RAW };

struct query {
	const struct report_dim *sql[2];	/* the dimensions PostgreSQL groups by */
	size_t nsql;
	const char *params[QUERY_NPARAMS];
	const char *cond;	/* filter_responses of the selection, but the center */
	bool officer;		/* whether the report names responses.officer_id */
	enum query_source from;
	const char *by;		/* QUERY_ROLLUP_BY: the dimension's column */
	char *tree;		/* the rows of tree_query */
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

	fprintf(f, "WITH tree (center_id, valid_from, valid_until, tree_center, tree_district)"
	    " AS (VALUES %s) SELECT ", qu->tree);
	for (size_t d = 0; d < qu->nsql; d++) {
		put_slot(f, qu->sql[d]->key, d);
		fputs(", ", f);
		put_slot(f, qu->sql[d]->label, d);
		fputs(", ", f);
	}
	fputs("g.* FROM (SELECT ", f);
	for (size_t d = 0; d < qu->nsql; d++)
		if (qu->from == QUERY_RAW)	/* grouped already */
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
	if (qu->from == QUERY_RAW)	/* the selection applied already */
		fprintf(f, " FROM %s x WHERE x.questionnaire_id = $1%s", qu->source,
		    tree_params_sql);
	else
		fprintf(f, " FROM " TREE_ROWS("%s", "x.day") " x%s%s%s", qu->source, filter_sql,
		    tree_params_sql,
		    qu->from == QUERY_ROLLUP ? filter_area_sql : " AND $5::text IS NULL");
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
	PGresult *res = cli_exec(conn, "summing the rollup", sql, QUERY_NPARAMS, qu->params);
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

/* The columns of responses a report rolls up on the fly: not the comment
 * nor the respondent's profile, which the report roles may not read row by
 * row (sql/010_privacy.sql), and officer_id only for a report that names
 * it, which is sipas_report_personnel's (sql/008_personnel.sql). */
#define RESPONSE_COLUMNS "x.submitted_at, x.center_id, x.service_area_id, " \
	"x.questionnaire_id, x.answers, x.kiosk_id, x.procedure, x.counter_id"

/* The responses with their place in the tree, for the report. */
#define TREE_RESPONSES(cols) \
	"(SELECT " cols ", t.tree_center, t.tree_district FROM responses x" \
	" JOIN tree t ON t.center_id = x.center_id" \
	" AND (x.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= t.valid_from" \
	" AND (x.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date < t.valid_until)"

/* The responses still queued for the rollup of qu (the columns it needs
 * only: a plain reporter may not read the queue's officers), or the
 * selected responses with their place in the tree, rolled up on the fly
 * into rows shaped like the rollup's. The latter are grouped by the
 * report's own dimensions already (as k0, k1). */
static char *
rolled_up_on_the_fly(PGconn *conn, const struct questionnaire *q, const struct query *qu)
{
	char qid[16], *keys[2] = { NULL, NULL }, *pending = NULL, *src;
	const char *key = qu->from == QUERY_ROLLUP_BY ? qu->by : "service_area_id";
	PGresult *res;

	snprintf(qid, sizeof qid, "%d", q->id);
	if (qu->from != QUERY_RAW) {
		xasprintf(&pending, "(SELECT submitted_at, center_id, questionnaire_id, answers, %s"
		    " FROM rollup_pending)", key);
		res = cli_exec(conn, "preparing the query",
		    "SELECT sipas_rollup_query($2, $1::smallint, ARRAY['day', 'center_id', "
		    "'questionnaire_id', $3], 'true')", 3, (const char *[]){ qid, pending, key });
	} else {
		const char *p[6] = { qid, qu->cond, qu->officer ?
			TREE_RESPONSES(RESPONSE_COLUMNS ", x.officer_id") :
			TREE_RESPONSES(RESPONSE_COLUMNS), "questionnaire_id" };
		for (size_t d = 0; d < qu->nsql; d++) {
			xasprintf(&keys[d], "%s AS k%zu", qu->sql[d]->group, d);
			p[4 + d] = keys[d];
		}
		res = cli_exec(conn, "preparing the query", qu->nsql == 0 ?
		    "SELECT sipas_rollup_query($3, $1::smallint, ARRAY[$4], $2)" :
		    qu->nsql == 1 ?
		    "SELECT sipas_rollup_query($3, $1::smallint, ARRAY[$4, $5], $2)" :
		    "SELECT sipas_rollup_query($3, $1::smallint, ARRAY[$4, $5, $6], $2)",
		    4 + (int)qu->nsql, p);
	}
	xasprintf(&src, "(%s)", PQgetvalue(res, 0, 0));
	PQclear(res);
	free(keys[0]);
	free(keys[1]);
	free(pending);
	return src;
}

/* Whether the second rollup has what dim groups by: its own column, or
 * the day, or the center's place in the tree (not the service area, which
 * only the first rollup and the responses have). */
static bool
in_rollup_by(const struct report_dim *dim)
{
	return dim->rollup != NULL || dim->kind == DIM_TIME ||
	    strncmp(dim->group, "tree_", 5) == 0;
}

/* The source of qu: a dimension neither rollup has, or a kiosk, makes it
 * the responses; a dimension of the second rollup makes it that one, if
 * it is the only one and nothing needs the first (an area). */
static void
choose_source(const struct report *r, struct query *qu)
{
	size_t nby = 0;
	bool raw = r->f.kiosk != NULL || r->f.counter != NULL || r->f.officer != NULL;
	bool by_ok = r->f.area == NULL;

	for (size_t d = 0; d < qu->nsql; d++) {
		const struct report_dim *dim = qu->sql[d];
		raw |= dim->raw && dim->rollup == NULL;
		by_ok &= in_rollup_by(dim);
		if (dim->rollup != NULL) {
			nby++;
			qu->by = dim->rollup;
		}
	}
	if (raw || nby > 1 || (nby == 1 && !by_ok))
		qu->from = QUERY_RAW;
	else
		qu->from = nby == 1 ? QUERY_ROLLUP_BY : QUERY_ROLLUP;
}

/* The query for r over from..to: the dimensions PostgreSQL groups by, in
 * the order of their slots, its parameters and its source. */
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
	qu->cond = filter_responses(&r->f, false);
	qu->params[1] = from;	/* the report's period or the comparison's */
	qu->params[2] = to;
	qu->params[FILTER_NPARAMS] = r->as_of;
	qu->officer = r->f.officer != NULL;
	for (size_t d = 0; d < qu->nsql; d++)
		qu->officer |= qu->sql[d]->kind == DIM_PERSONNEL;
	choose_source(r, qu);
}

/* --- the pieces of a period the second rollup answers ------------------ */

/* A day as a time_t at UTC midnight, and back. */
static time_t
day_t(const char *s)
{
	struct tm tm = { 0 };

	sscanf(s, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* The first day of the month (year) of t, or of the next one. */
static time_t
start_of(time_t t, bool year, int next)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	if (year) {
		tm.tm_mon = 0;
		tm.tm_year += next;
	} else {
		tm.tm_mon += next;
	}
	return timegm(&tm);
}

static time_t
first_on_or_after(time_t t, bool year)
{
	return start_of(t, year, 0) == t ? t : start_of(t, year, 1);
}

static time_t
last_on_or_before(time_t t, bool year)
{
	return start_of(t + 86400, year, 0) == t + 86400 ? t : start_of(t, year, 0) - 86400;
}

/* Days from..to, either end open. */
struct span {
	bool has_from, has_to;
	time_t from, to;
};

/* A piece of a period and where it is read: the responses (QUERY_RAW), or
 * the second rollup's queue (grain NULL) or its month or year rows. */
struct piece {
	enum query_source from;
	const char *grain;
	struct span days;
};

static void
add_piece(struct piece *p, size_t *n, enum query_source from, const char *grain,
    struct span days)
{
	if (!(days.has_from && days.has_to && days.from > days.to))
		p[(*n)++] = (struct piece){ from, grain, days };
}

/* Cuts the period into at most 6 pieces: the days of its partial first
 * and last months from the responses; its whole months from the queue and
 * from the year rows (whole years, if year_ok) and the month rows (the
 * rest). All of it from the responses when it holds no whole month or
 * when !month_ok. */
static size_t
pieces_of(const char *from, const char *to, bool year_ok, bool month_ok, struct piece *p)
{
	struct span all = { from != NULL, to != NULL, from ? day_t(from) : 0, to ? day_t(to) : 0 };
	struct span months = all, years;
	size_t n = 0;

	if (all.has_from)
		months.from = first_on_or_after(all.from, false);
	if (all.has_to)
		months.to = last_on_or_before(all.to, false);
	if (!month_ok || (months.has_from && months.has_to && months.from > months.to)) {
		add_piece(p, &n, QUERY_RAW, NULL, all);
		return n;
	}
	if (all.has_from)
		add_piece(p, &n, QUERY_RAW, NULL,
		    (struct span){ true, true, all.from, months.from - 86400 });
	if (all.has_to)
		add_piece(p, &n, QUERY_RAW, NULL,
		    (struct span){ true, true, months.to + 86400, all.to });
	add_piece(p, &n, QUERY_ROLLUP_BY, NULL, months);
	years = months;
	if (years.has_from)
		years.from = first_on_or_after(months.from, true);
	if (years.has_to)
		years.to = last_on_or_before(months.to, true);
	if (!year_ok || (years.has_from && years.has_to && years.from > years.to)) {
		add_piece(p, &n, QUERY_ROLLUP_BY, "month", months);
		return n;
	}
	if (months.has_from)
		add_piece(p, &n, QUERY_ROLLUP_BY, "month",
		    (struct span){ true, true, months.from, years.from - 86400 });
	if (months.has_to)
		add_piece(p, &n, QUERY_ROLLUP_BY, "month",
		    (struct span){ true, true, years.to + 86400, months.to });
	add_piece(p, &n, QUERY_ROLLUP_BY, "year", years);
	return n;
}

/* $1..$2 the period, $3 a center: the changes of parent inside the
 * period, of centers that were ever in $3's scope ($3 NULL: of any).
 * Whether there is one, and whether all fall on the 1st of a month. */
static const char tree_changes_sql[] =
    "WITH RECURSIVE scope (id) AS ("
    " SELECT id FROM centers WHERE code = $3"
    " UNION SELECT p.center_id FROM center_parents p JOIN scope s ON p.parent_id = s.id"
    ") SELECT bool_or(true), bool_and(extract(day FROM valid_from) = 1) FROM center_parents"
    " WHERE valid_from > '-infinity' AND ($1::date IS NULL OR valid_from > $1::date)"
    " AND ($2::date IS NULL OR valid_from <= $2::date)"
    " AND ($3::text IS NULL OR center_id IN (SELECT id FROM scope))";

/* Whether the month (year) rows can answer r over from..to. A row counts
 * under the tree of its period's first day, which is each of its days'
 * only when the parents do not change inside it: only the center's
 * scope and the districts depend on the parents, and not under --as-of;
 * a center's scope, only on the changes of the centers ever in it. */
static void
grains_ok(PGconn *conn, const struct report *r, const struct query *qu, const char *from,
    const char *to, bool *year_ok, bool *month_ok)
{
	bool by_scope = r->as_of == NULL && r->f.center != NULL, by_district = false;
	PGresult *res;

	*year_ok = *month_ok = true;
	for (size_t d = 0; d < qu->nsql; d++) {
		by_district |= r->as_of == NULL && strcmp(qu->sql[d]->group, "tree_district") == 0;
		*year_ok &= qu->sql[d]->kind != DIM_TIME || strcmp(qu->sql[d]->name, "year") == 0;
	}
	if (!by_scope && !by_district)
		return;
	res = cli_exec(conn, "reading the changes of the tree", tree_changes_sql, 3,
	    (const char *[]){ from, to, by_district ? NULL : r->f.center });
	*year_ok &= PQgetisnull(res, 0, 0);
	*month_ok = PQgetisnull(res, 0, 1) || strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
}

/* Appends the groups of qu to g[0..*n). */
static struct report_group *
fetch_more(PGconn *conn, const struct questionnaire *q, const struct query *qu,
    const size_t *slot, struct report_group *g, size_t *n)
{
	size_t more;
	struct report_group *h = fetch(conn, q, qu, slot, &more);

	g = xreallocarray(g, *n + more + 1, sizeof *g);
	memcpy(&g[*n], h, more * sizeof *h);
	*n += more;
	free(h);
	return g;
}

/* The groups of qu (QUERY_ROLLUP_BY) over from..to, piece by piece. */
static struct report_group *
fetch_by_pieces(PGconn *conn, const struct report *r, struct query *qu, const size_t *slot,
    const char *from, const char *to, size_t *ngroups)
{
	struct piece p[6];
	bool year_ok, month_ok;
	struct report_group *g = xcalloc(1, sizeof *g);
	size_t n = 0, np;

	grains_ok(conn, r, qu, from, to, &year_ok, &month_ok);
	np = pieces_of(from, to, year_ok, month_ok, p);
	for (size_t i = 0; i < np; i++) {
		char pfrom[16], pto[16];
		struct tm tm;
		strftime(pfrom, sizeof pfrom, "%Y-%m-%d", gmtime_r(&p[i].days.from, &tm));
		strftime(pto, sizeof pto, "%Y-%m-%d", gmtime_r(&p[i].days.to, &tm));
		qu->params[1] = p[i].days.has_from ? pfrom : NULL;
		qu->params[2] = p[i].days.has_to ? pto : NULL;
		qu->from = p[i].from;
		if (p[i].grain != NULL)
			xasprintf(&qu->source, "response_rollup_%s_%s", qu->by, p[i].grain);
		else
			qu->source = rolled_up_on_the_fly(conn, r->q, qu);
		g = fetch_more(conn, r->q, qu, slot, g, &n);
		free(qu->source);
	}
	*ngroups = n;
	return g;
}

/* --- by respondent attributes (sql/010_privacy.sql) ------------------------ */

/* The SQL type of a dimension's group, which the function returns as text. */
static const char *
respondent_cast(const struct report_dim *dim)
{
	size_t len = strlen(dim->group);

	if (strncmp(dim->group, "date_trunc", 10) == 0)
		return "::timestamp";
	if (strncmp(dim->group, "tree_", 5) == 0)
		return "::int";
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

	fputs("SELECT g.m0, g.m1, g.suppressed", f);
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
	fputs(" FROM (SELECT m0, m1, suppressed", f);
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
	fputs(" WHERE coalesce($9::date::text, '') IS NOT NULL", f);	/* a type for $9 */
	fclose(f);
	res = cli_exec(conn, "summing by respondent", sql, QUERY_NPARAMS, qu->params);
	g = xcalloc((size_t)PQntuples(res) + 1, sizeof *g);
	for (int i = 0; i < PQntuples(res); i++) {
		struct report_group *x = &g[i];
		int col = 3;
		x->suppressed = PQgetvalue(res, i, 2)[0] == 't';
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
	PGresult *res;

	query_of(r, from, to, qid, sizeof qid, &qu, slot);
	if (report_by_respondents(r))
		return respondent_fetch(conn, r, &qu, slot, ngroups);
	res = cli_exec(conn, "reading the tree", tree_query, 2,
	    (const char *[]){ r->f.center, r->as_of });
	qu.tree = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	/* The rollups plus the responses queued for them, in the snapshot of
	 * the report's transaction: each response counted once. */
	if (qu.from == QUERY_ROLLUP_BY) {
		g = fetch_by_pieces(conn, r, &qu, slot, from, to, ngroups);
		free(qu.tree);
		return g;
	}
	qu.source = rolled_up_on_the_fly(conn, r->q, &qu);
	g = fetch(conn, r->q, &qu, slot, &n);
	free(qu.source);
	if (qu.from == QUERY_ROLLUP) {
		qu.source = xstrdup("response_rollup");
		g = fetch_more(conn, r->q, &qu, slot, g, &n);
		free(qu.source);
	}
	free(qu.tree);
	*ngroups = n;
	return g;
}
