/* sipas report: satisfaction figures by group. PostgreSQL counts valid and
 * satisfied answers per group and criterion; client/report.c turns the
 * counts into the figures; this file chooses, filters and prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "output.h"
#include "report.h"
#include "sipas.h"
#include "xmalloc.h"

static const char usage[] =
    "usage: sipas report --by area [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                    [--center CODE] [--questionnaire CODE] [--min-n N]\n"
    "                    [--format table|csv|json] [--db CONNINFO]\n"
    "\n"
    "Satisfaction by group: n, the SIPAS index (%), points out of 10 and each\n"
    "element's index, ranked by index. Dates are inclusive, in Vietnam time.\n"
    "--center includes every center below it. Without --questionnaire, the one\n"
    "with the most responses in the selection. Groups with fewer than --min-n\n"
    "(default 30) responses are marked low-sample.\n";

struct grouping {
	const char *name;
	const char *title_vi;	/* column heading */
	const char *key;	/* SQL expressions over the joined tables */
	const char *label;
	const char *join;
};

static const struct grouping groupings[] = {
	{ "area", "Lĩnh vực", "sa.code", "sa.name_vi",
	  "JOIN service_areas sa ON sa.id = r.service_area_id" },
};

/* $1 questionnaire id (or NULL for any), $2 from, $3 to, $4 center code. */
static const char filter_sql[] =
    " WHERE ($1::smallint IS NULL OR r.questionnaire_id = $1)"
    " AND ($2::date IS NULL OR r.submitted_at >="
    "      $2::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($3::date IS NULL OR r.submitted_at <"
    "      ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    " AND ($4::text IS NULL OR r.center_id IN ("
    "      WITH RECURSIVE scope AS ("
    "        SELECT id FROM centers WHERE code = $4"
    "        UNION ALL SELECT c.id FROM centers c JOIN scope s ON c.parent_id = s.id)"
    "      SELECT id FROM scope))";

struct group {
	char *key;
	char *label;
	struct report_counts counts;
	struct report_figures fig;
};

struct report {
	const struct grouping *by;
	const struct questionnaire *q;
	const char *from, *to, *center;
	long min_n;
	struct group *groups;
	size_t ngroups;
	struct group total;
};

static bool
valid_date(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static struct group *
find_group(struct report *r, const char *key, const char *label)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].key, key) == 0)
			return &r->groups[i];
	r->groups = xreallocarray(r->groups, r->ngroups + 1, sizeof *r->groups);
	memset(&r->groups[r->ngroups], 0, sizeof r->groups[0]);
	r->groups[r->ngroups].key = xstrdup(key);
	r->groups[r->ngroups].label = xstrdup(label);
	return &r->groups[r->ngroups++];
}

static void
choose_questionnaire(PGconn *conn, const struct catalog *cat, struct report *r,
    const char *code, const char *const *params)
{
	char *sql;
	PGresult *res;

	if (code != NULL) {
		r->q = catalog_questionnaire(cat, code);
		if (r->q == NULL)
			cli_die("unknown questionnaire '%s'", code);
		return;
	}
	xasprintf(&sql, "SELECT r.questionnaire_id FROM responses r %s "
	    "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", filter_sql);
	res = cli_exec(conn, "choosing the questionnaire", sql, 4, params);
	r->q = PQntuples(res) > 0 ?
	    catalog_questionnaire_by_id(cat, atoi(PQgetvalue(res, 0, 0))) :
	    catalog_default_questionnaire(cat);
	if (r->q == NULL)
		cli_die("no questionnaire in the database; run 'sipas db init'");
	PQclear(res);
	free(sql);
}

static void
count(PGconn *conn, struct report *r, const char *const *params)
{
	char *sql, sat[16];
	const char *p[5] = { params[0], params[1], params[2], params[3], sat };
	PGresult *res;

	xasprintf(&sql, "SELECT %s, %s, count(*) FROM responses r %s %s "
	    "GROUP BY 1, 2", r->by->key, r->by->label, r->by->join, filter_sql);
	res = cli_exec(conn, "counting responses", sql, 4, params);
	for (int i = 0; i < PQntuples(res); i++) {
		struct group *g = find_group(r, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1));
		g->counts.n = atol(PQgetvalue(res, i, 2));
		r->total.counts.n += g->counts.n;
	}
	PQclear(res);
	free(sql);

	snprintf(sat, sizeof sat, "%d", r->q->satisfied_min);
	xasprintf(&sql, "SELECT %s, %s, a.pos, count(a.v), "
	    "count(*) FILTER (WHERE a.v >= $5::smallint) "
	    "FROM responses r %s "
	    "CROSS JOIN LATERAL unnest(r.answers) WITH ORDINALITY AS a(v, pos) %s "
	    "GROUP BY 1, 2, 3", r->by->key, r->by->label, r->by->join, filter_sql);
	res = cli_exec(conn, "counting answers", sql, 5, p);
	for (int i = 0; i < PQntuples(res); i++) {
		struct group *g = find_group(r, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1));
		long pos = atol(PQgetvalue(res, i, 2)) - 1;
		if (pos < 0 || (size_t)pos >= r->q->ncriteria)
			continue;	/* cannot happen for a well-formed answers array */
		g->counts.valid[pos] = atol(PQgetvalue(res, i, 3));
		g->counts.satisfied[pos] = atol(PQgetvalue(res, i, 4));
		r->total.counts.valid[pos] += g->counts.valid[pos];
		r->total.counts.satisfied[pos] += g->counts.satisfied[pos];
	}
	PQclear(res);
	free(sql);
}

/* By index, best first; groups without an index last; then by key. */
static int
by_rank(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->fig.has_index != y->fig.has_index)
		return x->fig.has_index ? -1 : 1;
	if (x->fig.has_index && x->fig.index != y->fig.index)
		return x->fig.index > y->fig.index ? -1 : 1;
	return strcmp(x->key, y->key);
}

static json_t *
json_percent(bool has, double fraction)
{
	return has ? json_real(report_round2(100.0 * fraction)) : json_null();
}

static json_t *
group_json(const struct report *r, const struct group *g)
{
	json_t *elements = json_object();

	for (size_t e = 0; e < r->q->nelements; e++)
		json_object_set_new(elements, r->q->elements[e].code,
		    json_percent(g->fig.has_element[e], g->fig.element[e]));
	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:b}",
	    "key", g->key, "label", g->label, "n", (json_int_t)g->fig.n,
	    "index", g->fig.has_index ? json_real(g->fig.index) : json_null(),
	    "points", g->fig.has_index ? json_real(g->fig.points) : json_null(),
	    "elements", elements, "low_sample", g->fig.low_sample);
}

static json_t *
optional_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void
print_json(const struct report *r)
{
	json_t *groups = json_array(), *doc;

	for (size_t i = 0; i < r->ngroups; i++)
		json_array_append_new(groups, group_json(r, &r->groups[i]));
	doc = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:o}",
	    "questionnaire", r->q->code, "by", r->by->name,
	    "from", optional_string(r->from), "to", optional_string(r->to),
	    "center", optional_string(r->center), "min_n", (json_int_t)r->min_n,
	    "groups", groups, "total", group_json(r, &r->total));
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
	putchar('\n');
	json_decref(doc);
}

static void
fmt_percent(char *buf, size_t len, bool has, double fraction)
{
	if (has)
		snprintf(buf, len, "%.2f", report_round2(100.0 * fraction));
	else
		snprintf(buf, len, "-");
}

static void
add_row(struct table *t, const struct report *r, const struct group *g,
    const char *rank, bool csv)
{
	size_t ncols = 7 + r->q->nelements, c = 0;
	const char **row = xcalloc(ncols, sizeof *row);
	char (*cells)[32] = xcalloc(ncols, sizeof *cells);

	row[c++] = rank;
	row[c++] = g->key;
	row[c++] = g->label;
	snprintf(cells[c], sizeof cells[c], "%ld", g->fig.n);
	row[c] = cells[c], c++;
	fmt_percent(cells[c], sizeof cells[c], g->fig.has_index, g->fig.index / 100.0);
	row[c] = cells[c], c++;
	if (g->fig.has_index)
		snprintf(cells[c], sizeof cells[c], "%.2f", g->fig.points);
	else
		snprintf(cells[c], sizeof cells[c], "-");
	row[c] = cells[c], c++;
	for (size_t e = 0; e < r->q->nelements; e++, c++) {
		fmt_percent(cells[c], sizeof cells[c], g->fig.has_element[e],
		    g->fig.element[e]);
		row[c] = cells[c];
	}
	if (csv)
		row[c] = g->fig.low_sample ? "true" : "false";
	else
		row[c] = g->fig.low_sample ? "*" : "";
	table_add(t, row);
	free(cells);
	free(row);
}

static void
print_table(const struct report *r, enum output_format fmt)
{
	size_t ncols = 7 + r->q->nelements, c = 0;
	const char **names = xcalloc(ncols, sizeof *names);
	char (*heads)[40] = xcalloc(r->q->nelements, sizeof *heads);
	char rank[24];
	struct table *t;

	names[c++] = ">#";
	names[c++] = "Mã";
	names[c++] = r->by->title_vi;
	names[c++] = ">n";
	names[c++] = ">Chỉ số %";
	names[c++] = ">Điểm";
	for (size_t e = 0; e < r->q->nelements; e++) {
		snprintf(heads[e], sizeof heads[e], ">%s", r->q->elements[e].code);
		names[c++] = heads[e];
	}
	names[c++] = fmt == OUTPUT_CSV ? "low_sample" : "";
	t = table_new(ncols, names);
	for (size_t i = 0; i < r->ngroups; i++) {
		snprintf(rank, sizeof rank, "%zu", i + 1);
		add_row(t, r, &r->groups[i], rank, fmt == OUTPUT_CSV);
	}
	add_row(t, r, &r->total, "", fmt == OUTPUT_CSV);
	if (fmt == OUTPUT_TABLE)
		printf("Chỉ số hài lòng (SIPAS) theo %s, phiếu %s, %s đến %s%s%s\n\n",
		    r->by->title_vi, r->q->code, r->from ? r->from : "đầu",
		    r->to ? r->to : "nay", r->center ? ", đơn vị " : "",
		    r->center ? r->center : "");
	table_print(t, fmt, stdout);
	if (fmt == OUTPUT_TABLE)
		printf("\n* mẫu nhỏ: dưới %ld phiếu. Chỉ số tính trên các câu trả lời "
		    "hợp lệ; %s = tổng.\n", r->min_n, r->total.key);
	table_free(t);
	free(heads);
	free(names);
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS,
		{ "by", required_argument, NULL, 'b' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "center", required_argument, NULL, 'c' },
		{ "questionnaire", required_argument, NULL, 'q' },
		{ "min-n", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 } };
	struct report r;
	enum output_format fmt = OUTPUT_TABLE;
	const char *by = NULL, *qcode = NULL, *params[4];
	struct catalog *cat;
	char err[512], *end;
	PGresult *res;
	PGconn *conn;
	int ch;

	memset(&r, 0, sizeof r);
	r.min_n = 30;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': by = optarg; break;
		case 'f': r.from = optarg; break;
		case 't': r.to = optarg; break;
		case 'c': r.center = optarg; break;
		case 'q': qcode = optarg; break;
		case 'n':
			r.min_n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || r.min_n < 0)
				cli_usage_error(usage, "--min-n: '%s' is not a count", optarg);
			break;
		case 'F':
			if (!output_format_parse(optarg, &fmt))
				cli_usage_error(usage, "--format: '%s' is not table, csv "
				    "or json", optarg);
			break;
		default:
			cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (by == NULL)
		cli_usage_error(usage, "report: --by is required");
	for (size_t i = 0; i < sizeof groupings / sizeof groupings[0]; i++)
		if (strcmp(by, groupings[i].name) == 0)
			r.by = &groupings[i];
	if (r.by == NULL)
		cli_usage_error(usage, "--by: '%s' is not supported (area)", by);
	if (r.from != NULL && !valid_date(r.from))
		cli_usage_error(usage, "--from: '%s' is not a date YYYY-MM-DD", r.from);
	if (r.to != NULL && !valid_date(r.to))
		cli_usage_error(usage, "--to: '%s' is not a date YYYY-MM-DD", r.to);
	if (r.from != NULL && r.to != NULL && strcmp(r.from, r.to) > 0)
		cli_usage_error(usage, "--from %s is after --to %s", r.from, r.to);

	conn = cli_connect();
	if (r.center != NULL) {
		params[0] = r.center;
		res = cli_exec(conn, "looking up the center",
		    "SELECT 1 FROM centers WHERE code = $1", 1, params);
		if (PQntuples(res) == 0)
			cli_die("unknown center '%s'; see 'sipas center list'", r.center);
		PQclear(res);
	}
	if (!catalog_load(conn, &cat, err, sizeof err))
		cli_die("%s", err);
	params[0] = NULL;
	params[1] = r.from;
	params[2] = r.to;
	params[3] = r.center;
	choose_questionnaire(conn, cat, &r, qcode, params);
	char qid[16];
	snprintf(qid, sizeof qid, "%d", r.q->id);
	params[0] = qid;

	r.total.key = xstrdup("total");
	r.total.label = xstrdup("Tổng cộng");
	count(conn, &r, params);
	for (size_t i = 0; i < r.ngroups; i++)
		report_compute(r.q, &r.groups[i].counts, r.min_n, &r.groups[i].fig);
	report_compute(r.q, &r.total.counts, r.min_n, &r.total.fig);
	qsort(r.groups, r.ngroups, sizeof *r.groups, by_rank);

	if (fmt == OUTPUT_JSON)
		print_json(&r);
	else
		print_table(&r, fmt);

	for (size_t i = 0; i < r.ngroups; i++) {
		report_figures_free(&r.groups[i].fig);
		free(r.groups[i].key);
		free(r.groups[i].label);
	}
	report_figures_free(&r.total.fig);
	free(r.total.key);
	free(r.total.label);
	free(r.groups);
	catalog_free(cat);
	PQfinish(conn);
	return 0;
}
