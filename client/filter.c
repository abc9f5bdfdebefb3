#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "sipas.h"
#include "xmalloc.h"

bool
filter_valid_date(const char *s)
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

bool
filter_option(struct filter *f, int ch, const char *arg)
{
	switch (ch) {
	case 'f': f->from = arg; return true;
	case 't': f->to = arg; return true;
	case 'c': f->center = arg; return true;
	case 'a': f->area = arg; return true;
	case 'k': f->kiosk = arg; return true;
	case 'u': f->counter = arg; return true;
	case 'o': f->officer = arg; return true;
	case 'q': f->questionnaire = arg; return true;
	}
	return false;
}

void
filter_params(const struct filter *f, const char *qid, const char *params[FILTER_NPARAMS])
{
	params[0] = qid;
	params[1] = f->from;
	params[2] = f->to;
	params[3] = f->center;
	params[4] = f->area;
	params[5] = f->kiosk;
	params[6] = f->counter;
	params[7] = f->officer;
}

static void
check_code(PGconn *conn, const char *table, const char *what, const char *code)
{
	const char *p[1] = { code };
	char *sql;
	PGresult *res;

	if (code == NULL)
		return;
	xasprintf(&sql, "SELECT 1 FROM %s WHERE code = $1", table);
	res = cli_exec(conn, "looking up a code", sql, 1, p);
	if (PQntuples(res) == 0)
		cli_die("unknown %s '%s'; see 'sipas %s list'", what, code, what);
	PQclear(res);
	free(sql);
}

#define FILTER_OFFICER " AND r.officer_id = (SELECT id FROM officers WHERE code = $8)"
#define FILTER_NO_OFFICER " AND $8::text IS NULL"

const char *
filter_responses(const struct filter *f, bool center)
{
	if (f->officer != NULL)
		return center ? FILTER_RESPONSES FILTER_OFFICER :
		    FILTER_RESPONSES_BUT_CENTER FILTER_OFFICER;
	return center ? FILTER_RESPONSES FILTER_NO_OFFICER :
	    FILTER_RESPONSES_BUT_CENTER FILTER_NO_OFFICER;
}

/* Counter codes are unique within a center only: the code must name one
 * counter at or below --center (or anywhere, without it). */
static void
check_counter(PGconn *conn, const struct filter *f)
{
	const char *p[2] = { f->counter, f->center };
	PGresult *res;

	if (f->counter == NULL)
		return;
	res = cli_exec(conn, "looking up a counter",
	    "SELECT string_agg(c.code, ', ' ORDER BY c.code),"
	    " count(*) FILTER (WHERE $2::text IS NULL OR c.id IN (" FILTER_CENTER_SCOPE("$2") "))"
	    " FROM counters ct JOIN centers c ON c.id = ct.center_id WHERE ct.code = $1", 2, p);
	const char *centers = PQgetvalue(res, 0, 0);
	long within = atol(PQgetvalue(res, 0, 1));
	if (PQgetisnull(res, 0, 0))
		cli_die("unknown counter '%s'; see 'sipas counter list'", f->counter);
	if (within == 0)
		cli_die("no counter '%s' at or below center '%s': it is at %s", f->counter,
		    f->center, centers);
	if (within > 1)
		cli_die("counter '%s' is at several centers (%s): say which with --center",
		    f->counter, centers);
	PQclear(res);
}

void
filter_require_personnel(PGconn *conn, const char *what)
{
	PGresult *res = cli_exec(conn, "checking the personnel role",
	    "SELECT pg_has_role('sipas_report_personnel', 'USAGE'), current_user", 0, NULL);

	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		cli_die("%s are shown only to roles granted sipas_report_personnel, and "
		    "'%s' is not: ask the database administrator for it "
		    "(GRANT sipas_report_personnel TO \"%s\")", what, PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 1));
	PQclear(res);
}

void
filter_check(PGconn *conn, const struct filter *f, const char *usage)
{
	if (f->from != NULL && !filter_valid_date(f->from))
		cli_usage_error(usage, "--from: '%s' is not a date YYYY-MM-DD", f->from);
	if (f->to != NULL && !filter_valid_date(f->to))
		cli_usage_error(usage, "--to: '%s' is not a date YYYY-MM-DD", f->to);
	if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) > 0)
		cli_usage_error(usage, "--from %s is after --to %s", f->from, f->to);
	if (conn == NULL)
		return;
	check_code(conn, "centers", "center", f->center);
	check_code(conn, "service_areas", "area", f->area);
	check_code(conn, "kiosks", "kiosk", f->kiosk);
	check_counter(conn, f);
	if (f->officer != NULL)
		filter_require_personnel(conn, "figures of an officer (--officer)");
	check_code(conn, "officers", "officer", f->officer);
}

const struct questionnaire *
filter_questionnaire(PGconn *conn, const struct catalog *cat, const struct filter *f)
{
	const char *code = f->questionnaire;
	const struct questionnaire *q;
	const char *p[5] = { f->from, f->to, f->center, f->area, f->kiosk };
	PGresult *res;

	if (code != NULL) {
		q = catalog_questionnaire(cat, code);
		if (q == NULL)
			cli_die("unknown questionnaire '%s'", code);
		return q;
	}
	/* The rollup has no kiosk: the kiosk's center stands in for it. */
	res = cli_exec(conn, "choosing the questionnaire",
	    "SELECT questionnaire_id FROM response_rollup"
	    " WHERE ($1::date IS NULL OR day >= $1::date)"
	    " AND ($2::date IS NULL OR day <= $2::date)"
	    " AND ($3::text IS NULL OR center_id IN (" FILTER_CENTER_SCOPE("$3") "))"
	    " AND ($4::text IS NULL OR service_area_id ="
	    "      (SELECT id FROM service_areas WHERE code = $4))"
	    " AND ($5::text IS NULL OR center_id ="
	    "      (SELECT center_id FROM kiosks WHERE code = $5))"
	    " GROUP BY 1 ORDER BY sum(n) DESC, 1 LIMIT 1", 5, p);
	q = PQntuples(res) > 0 ?
	    catalog_questionnaire_by_id(cat, atoi(PQgetvalue(res, 0, 0))) :
	    catalog_default_questionnaire(cat);
	if (q == NULL)
		cli_die("no questionnaire in the database; run 'sipas db init'");
	PQclear(res);
	return q;
}
