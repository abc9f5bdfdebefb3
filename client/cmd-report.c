/* sipas report: satisfaction figures by one or two dimensions. This file
 * reads the options and the period to compare with, opens the one
 * snapshot every query sees, and does the work in order: report-query.c
 * fetches the groups, report-group.c adds them up, ranks and orders them,
 * report.c computes their figures, and report_print (report-text.c,
 * report-json.c, report-html.c) prints the model of report-model.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "filter.h"
#include "output.h"
#include "report-group.h"
#include "report-model.h"
#include "report-query.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas report --by DIM[,DIM] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                    [--center CODE] [--area CODE] [--kiosk CODE]\n"
    "                    [--counter CODE] [--officer CODE]\n"
    "                    [--questionnaire CODE] [--as-of YYYY-MM-DD]\n"
    "                    [--min-n N] [--min-cell N] [--target PERCENT]\n"
    "                    [--worst N] [--compare previous|FROM:TO]\n"
    "                    [--format table|csv|json|html] [--db CONNINFO]\n"
    "\n"
    "Satisfaction by group: n, the SIPAS index (%) with its 95 % margin of\n"
    "error, points out of 10, the mean score, each element's index and each\n"
    "level's share, ranked by index. DIM is area, center, district, level,\n"
    "criterion, element, month, quarter, year, procedure, kiosk, counter,\n"
    "officer, gender, age_group, ethnicity, education or occupation; two give\n"
    "a cross table. Dates are inclusive, in Vietnam time. Responses count\n"
    "under the organisation as it stood on their day (--center includes every\n"
    "center below it that day); --as-of DATE counts them under the\n"
    "organisation of DATE instead, a closed center's under its successor.\n"
    "Without --questionnaire, the one with the most responses in the\n"
    "selection. Groups with fewer than --min-n (default 30) responses are\n"
    "marked low-sample. --compare previous compares with the period of the\n"
    "same length just before (a year, quarter or month with the one before\n"
    "it). By gender, age_group, ethnicity, education or occupation, groups of\n"
    "fewer than --min-cell (default 5, at least 3) respondents are suppressed,\n"
    "and a second group of each line where one is. Figures by officer (--by\n"
    "officer, --officer) need the role sipas_report_personnel.\n";

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

/* --- the order of work ---------------------------------------------------- */

/* The groups of r for the period from..to, with figures and ranks. */
static struct report_group *
compute(PGconn *conn, const struct report *r, const char *from, const char *to,
    size_t *ngroups)
{
	size_t n, nsql = 0;
	struct report_group *g = report_query_fetch(conn, r, from, to, &n);

	for (size_t d = 0; d < r->nby; d++)
		nsql += report_dim_in_sql(r->by[d]);
	report_group_merge(r->q, g, &n);
	/* By respondents, the database returns the margins (report-query.c). */
	if (!report_by_respondents(r))
		g = report_group_margins(r->q, nsql, g, &n);
	for (size_t d = 0; d < r->nby; d++)
		if (!report_dim_in_sql(r->by[d]))
			g = report_group_split(r->q, r->by[d], d, g, n, &n);
	report_group_suppress(r, g, n);
	for (size_t i = 0; i < n; i++)
		report_compute(r->q, &g[i].counts, r->min_n, &g[i].fig);
	report_group_rank(g, n);
	*ngroups = n;
	return g;
}

/* HTML: the total by quarter, or by month when the period holds fewer than
 * three quarters; nothing when it holds a single month. */
static void
compute_trend(PGconn *conn, struct report *r)
{
	struct report t = *r;
	const char *names[] = { "quarter", "month" };

	for (size_t i = 0; i < 2; i++) {
		t.by[0] = report_dim_find(names[i]);
		t.nby = 1;
		size_t n;
		struct report_group *g = compute(conn, &t, r->f.from, r->f.to, &n);
		if (n >= 4 || (i == 1 && n >= 3)) {	/* the total is one of them */
			t.groups = g;
			t.ngroups = n;
			report_group_sort(&t);
			r->trend_by = t.by[0];
			r->trend = g;
			r->ntrend = n - 1;	/* without the total */
			return;
		}
		report_groups_free(g, n);
	}
}

/* The page of a center's counters and officers (HTML by officer) shows
 * the counters of the selection too. */
static void
compute_counters(PGconn *conn, struct report *r)
{
	struct report t = *r;

	t.by[0] = report_dim_find("counter");
	t.nby = 1;
	t.groups = compute(conn, &t, r->f.from, r->f.to, &t.ngroups);
	report_group_sort(&t);
	r->counters = t.groups;
	r->ncounters = t.ngroups - 1;	/* without the total, last */
}

/* Every group of the report, compared, with its weakest criteria, in
 * print order; and the trend for HTML. All in the caller's snapshot. */
static void
compute_report(PGconn *conn, struct report *r, enum output_format fmt)
{
	bool by_criterion = false;

	r->groups = compute(conn, r, r->f.from, r->f.to, &r->ngroups);
	if (r->cmp_from != NULL) {
		size_t nprev;
		struct report_group *prev = compute(conn, r, r->cmp_from, r->cmp_to, &nprev);
		report_group_attach_previous(r, prev, nprev);
		report_groups_free(prev, nprev);
	}
	/* A criterion's group has one criterion: nothing to choose from. */
	for (size_t d = 0; d < r->nby; d++)
		by_criterion |= strcmp(r->by[d]->name, "criterion") == 0;
	if (r->worst > 0 && !by_criterion)
		for (size_t i = 0; i < r->ngroups; i++)
			report_group_find_worst(r, &r->groups[i]);
	report_group_sort(r);
	/* Its points are totals that are not suppressed: a small selection's
	 * would show what the report by respondents hides. */
	if (fmt == OUTPUT_HTML && !report_by_respondents(r))
		compute_trend(conn, r);
	if (fmt == OUTPUT_HTML && report_staff_page(r))
		compute_counters(conn, r);
}

/* --- the options ---------------------------------------------------------- */

static void
parse_by(struct report *r, const char *arg)
{
	char *copy = xstrdup(arg), *save, *tok;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		const struct report_dim *dim = report_dim_find(tok);
		if (dim == NULL)
			cli_usage_error(usage, "--by: '%s' is not one of area, center, district, "
			    "level, criterion, element, month, quarter, year, procedure, kiosk, "
			    "counter, officer, gender, age_group, ethnicity, education, "
			    "occupation", tok);
		if (r->nby == 2)
			cli_usage_error(usage, "--by: at most two dimensions");
		r->by[r->nby++] = dim;
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

/* A group of one or two respondents is those people: below three, a
 * threshold protects nobody. */
#define MIN_CELL_FLOOR 3

static long
parse_min_cell(const char *arg)
{
	long v = parse_count("--min-cell", arg);

	if (v < MIN_CELL_FLOOR)
		cli_usage_error(usage, "--min-cell: %ld is below %d: a smaller group would "
		    "show who answered", v, MIN_CELL_FLOOR);
	return v;
}

static double
parse_target(const char *arg)
{
	char *end;
	double v = strtod(arg, &end);

	if (*arg == '\0' || *end != '\0' || !(v >= 0 && v <= 100))
		cli_usage_error(usage, "--target: '%s' is not a percentage 0..100", arg);
	return v;
}

/* --compare previous (needs --from and --to) or FROM:TO. */
static void
parse_compare(struct report *r, const char *compare)
{
	if (strcmp(compare, "previous") == 0) {
		if (r->f.from == NULL || r->f.to == NULL)
			cli_usage_error(usage, "--compare previous needs --from and --to");
		previous_period(r->f.from, r->f.to, &r->cmp_from, &r->cmp_to);
		return;
	}
	const char *colon = strchr(compare, ':');
	if (colon == NULL)
		cli_usage_error(usage, "--compare: 'previous' or FROM:TO");
	r->cmp_from = xstrndup(compare, (size_t)(colon - compare));
	r->cmp_to = xstrdup(colon + 1);
	if (!filter_valid_date(r->cmp_from) || !filter_valid_date(r->cmp_to) ||
	    strcmp(r->cmp_from, r->cmp_to) > 0)
		cli_usage_error(usage, "--compare: '%s' is not FROM:TO, two dates "
		    "YYYY-MM-DD in order", compare);
}

/* Reads the options into r and *fmt; the usage error is the only way out. */
static void
parse_options(int argc, char **argv, struct report *r, enum output_format *fmt)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, FILTER_LONGOPTS,
		{ "by", required_argument, NULL, 'b' },
		{ "min-n", required_argument, NULL, 'n' },
		{ "min-cell", required_argument, NULL, 'm' },
		{ "target", required_argument, NULL, 'T' },
		{ "worst", required_argument, NULL, 'w' },
		{ "compare", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'F' },
		{ "as-of", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 } };
	const char *compare = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': parse_by(r, optarg); break;
		case 'n': r->min_n = parse_count("--min-n", optarg); break;
		case 'm': r->min_cell = parse_min_cell(optarg); break;
		case 'w': r->worst = parse_count("--worst", optarg); break;
		case 'C': compare = optarg; break;
		case 'O':
			if (!filter_valid_date(optarg))
				cli_usage_error(usage, "--as-of: '%s' is not a date YYYY-MM-DD",
				    optarg);
			r->as_of = optarg;
			break;
		case 'T':
			r->target = parse_target(optarg);
			r->has_target = true;
			break;
		case 'F':
			if (!output_format_parse(optarg, fmt))
				cli_usage_error(usage, "--format: '%s' is not table, csv, json "
				    "or html", optarg);
			break;
		default:
			if (!filter_option(&r->f, ch, optarg))
				cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (r->nby == 0)
		cli_usage_error(usage, "report: --by is required");
	filter_check(NULL, &r->f, usage);
	/* Breakdowns by who the respondents are come from the database's own
	 * suppressing function, which counts under today's tree. */
	for (size_t d = 0; d < r->nby && r->as_of != NULL; d++)
		if (r->by[d]->kind == DIM_RESPONDENT)
			cli_usage_error(usage, "--as-of: a breakdown by %s counts under "
			    "today's tree of centers, not that of another day", r->by[d]->name);
	if (compare != NULL)
		parse_compare(r, compare);
}

/* $1 a center's code, $2 the --as-of day: the day it closed if that was
 * before, and the center its history is under that day (through its
 * successors), NULL when it has none open that day and keeps its own. */
static const char as_of_center_sql[] =
    "WITH RECURSIVE succ (id, closed_on, successor_id, depth) AS ("
    " SELECT id, closed_on, successor_id, 0 FROM centers WHERE code = $1"
    " UNION ALL SELECT c.id, c.closed_on, c.successor_id, s.depth + 1 FROM succ s"
    "  JOIN centers c ON c.id = s.successor_id"
    "  WHERE s.closed_on < $2::date AND coalesce(c.opened_on <= $2::date, true) AND s.depth < 64"
    ") SELECT (SELECT closed_on FROM succ WHERE depth = 0),"
    " (SELECT c.code FROM succ s JOIN centers c ON c.id = s.id"
    "  WHERE s.depth > 0 AND coalesce(s.closed_on >= $2::date, true)"
    "  ORDER BY s.depth DESC LIMIT 1)"
    " WHERE (SELECT closed_on FROM succ WHERE depth = 0) < $2::date";

/* Under the tree of --as-of, a center closed into a successor before that
 * day is no part of it: its responses are counted under the successor,
 * which is what to ask for (an empty report would say nothing of why). */
static void
check_as_of_center(PGconn *conn, const struct report *r)
{
	PGresult *res;

	if (r->as_of == NULL || r->f.center == NULL)
		return;
	res = cli_exec(conn, "looking up the center's successors", as_of_center_sql, 2,
	    (const char *[]){ r->f.center, r->as_of });
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		cli_die("--as-of %s: center '%s' closed on %s; in the tree of that day "
		    "its responses are counted under '%s': use --center %s", r->as_of,
		    r->f.center, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 1));
	PQclear(res);
}

int
cmd_report(int argc, char **argv)
{
	struct report r;
	enum output_format fmt = OUTPUT_TABLE;
	struct catalog *cat;
	char err[512];
	PGconn *conn;

	memset(&r, 0, sizeof r);
	r.min_n = 30;
	r.min_cell = 5;
	parse_options(argc, argv, &r, &fmt);
	/* The page of a center's counters and officers lists the weakest
	 * criteria of each officer. */
	if (fmt == OUTPUT_HTML && report_staff_page(&r) && r.worst == 0)
		r.worst = 3;

	conn = cli_connect();
	/* Every query of the report sees the same snapshot. */
	PQclear(cli_exec(conn, "starting a transaction",
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL));
	/* Thousands of groups (by procedure) are summed in memory, not sorted
	 * on disk: 0.8 s against 0.3 s for a year by procedure. */
	PQclear(cli_exec(conn, "setting the memory of the query",
	    "SET LOCAL work_mem = '128MB'", 0, NULL));
	filter_check(conn, &r.f, usage);
	check_as_of_center(conn, &r);
	for (size_t d = 0; d < r.nby; d++)
		if (r.by[d]->kind == DIM_PERSONNEL)
			filter_require_personnel(conn, "figures by officer (--by officer)");
	if (!catalog_load(conn, &cat, err, sizeof err))
		cli_die("%s", err);
	r.q = filter_questionnaire(conn, cat, &r.f);
	compute_report(conn, &r, fmt);
	report_print(&r, fmt, stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_die("writing the report failed");

	report_groups_free(r.groups, r.ngroups);
	report_groups_free(r.trend, r.ntrend + (r.trend != NULL));
	report_groups_free(r.counters, r.ncounters + (r.counters != NULL));
	free(r.cmp_from);
	free(r.cmp_to);
	catalog_free(cat);
	PQclear(cli_exec(conn, "ending the transaction", "COMMIT", 0, NULL));
	PQfinish(conn);
	return 0;
}
