/* The selection options that sipas report and sipas export share: a period
 * in Vietnam dates, a center (with every center below it), a service area,
 * a kiosk, a counter, an officer, a questionnaire. */
#ifndef SIPAS_FILTER_H
#define SIPAS_FILTER_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "catalog.h"

struct filter {
	const char *from, *to;		/* YYYY-MM-DD, inclusive, or NULL */
	const char *center, *area, *kiosk;	/* codes, or NULL */
	const char *counter;		/* a counter's code, of --center if several */
	const char *officer;		/* an officer's code: personnel roles only */
	const char *questionnaire;	/* code, or NULL for the usual one */
};

#define FILTER_LONGOPTS \
	{ "from", required_argument, NULL, 'f' }, \
	{ "to", required_argument, NULL, 't' }, \
	{ "center", required_argument, NULL, 'c' }, \
	{ "area", required_argument, NULL, 'a' }, \
	{ "kiosk", required_argument, NULL, 'k' }, \
	{ "counter", required_argument, NULL, 'u' }, \
	{ "officer", required_argument, NULL, 'o' }, \
	{ "questionnaire", required_argument, NULL, 'q' }

/* Takes the option ch of FILTER_LONGOPTS; false when it is not one. */
bool filter_option(struct filter *f, int ch, const char *arg);
/* The query parameters $1..$8 of FILTER_RESPONSES and the report's
 * filters: the questionnaire id, then the selection. */
#define FILTER_NPARAMS 8
void filter_params(const struct filter *f, const char *qid,
    const char *params[FILTER_NPARAMS]);

/* The ids of center $N and every center below it, for "center_id IN (...)". */
#define FILTER_CENTER_SCOPE(param) \
	"WITH RECURSIVE scope AS (SELECT id FROM centers WHERE code = " param \
	" UNION ALL SELECT c.id FROM centers c JOIN scope s ON c.parent_id = s.id)" \
	" SELECT id FROM scope"

/* The selection but the center and the officer as conditions on
 * responses r: $2 from, $3 to, $5 area, $6 kiosk, $7 counter (the one of
 * that code at or below $4: filter_check makes sure there is one), each
 * NULL for "any". The dates bound submitted_at, which is indexed. The
 * report takes the center through the tree of each day instead
 * (report-query.c); queries take the whole selection from
 * filter_responses. */
#define FILTER_RESPONSES_BUT_CENTER \
	"($2::date IS NULL OR r.submitted_at >=" \
	"  $2::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')" \
	" AND ($3::date IS NULL OR r.submitted_at <" \
	"  ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')" \
	" AND ($5::text IS NULL OR r.service_area_id =" \
	"  (SELECT id FROM service_areas WHERE code = $5))" \
	" AND ($6::text IS NULL OR r.kiosk_id = (SELECT id FROM kiosks WHERE code = $6))" \
	" AND ($7::text IS NULL OR r.counter_id = (SELECT id FROM counters WHERE code = $7" \
	"  AND ($4::text IS NULL OR center_id IN (" FILTER_CENTER_SCOPE("$4") "))))"
#define FILTER_RESPONSES FILTER_RESPONSES_BUT_CENTER \
	" AND ($4::text IS NULL OR r.center_id IN (" FILTER_CENTER_SCOPE("$4") "))"

/* The selection of f as conditions on responses r: FILTER_RESPONSES (or,
 * if !center, FILTER_RESPONSES_BUT_CENTER) and $8, the officer. Only a
 * selection by officer names responses.officer_id, which the plain report
 * role may not read (sql/008_personnel.sql). */
const char *filter_responses(const struct filter *f, bool center);

bool filter_valid_date(const char *s);
/* Exits with a usage error for malformed dates, or with a clear message for
 * a code the database does not know, a counter code that --center does not
 * make one, or --officer for a role without personnel figures. */
void filter_check(PGconn *conn, const struct filter *f, const char *usage);
/* The questionnaire named by --questionnaire, else the one with the most
 * responses in the selection, else the default one. */
const struct questionnaire *filter_questionnaire(PGconn *conn,
    const struct catalog *cat, const struct filter *f);

/* Exits with a clear refusal, naming the role to ask for, unless the
 * database role connected has the privileges of sipas_report_personnel;
 * what: the figures asked for ("figures by officer"). */
void filter_require_personnel(PGconn *conn, const char *what);

#endif
