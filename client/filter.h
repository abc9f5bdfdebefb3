/* The selection options that sipas report and sipas export share: a period
 * in Vietnam dates, a center (with every center below it), a service area,
 * a kiosk, a questionnaire. */
#ifndef SIPAS_FILTER_H
#define SIPAS_FILTER_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "catalog.h"

struct filter {
	const char *from, *to;		/* YYYY-MM-DD, inclusive, or NULL */
	const char *center, *area, *kiosk;	/* codes, or NULL */
	const char *questionnaire;	/* code, or NULL for the usual one */
};

#define FILTER_LONGOPTS \
	{ "from", required_argument, NULL, 'f' }, \
	{ "to", required_argument, NULL, 't' }, \
	{ "center", required_argument, NULL, 'c' }, \
	{ "area", required_argument, NULL, 'a' }, \
	{ "kiosk", required_argument, NULL, 'k' }, \
	{ "questionnaire", required_argument, NULL, 'q' }

/* Takes the option ch of FILTER_LONGOPTS; false when it is not one. */
bool filter_option(struct filter *f, int ch, const char *arg);
/* The query parameters $1..$6 of FILTER_RESPONSES and the report's
 * filters: the questionnaire id, then the selection. */
void filter_params(const struct filter *f, const char *qid, const char *params[6]);

/* The ids of center $N and every center below it, for "center_id IN (...)". */
#define FILTER_CENTER_SCOPE(param) \
	"WITH RECURSIVE scope AS (SELECT id FROM centers WHERE code = " param \
	" UNION ALL SELECT c.id FROM centers c JOIN scope s ON c.parent_id = s.id)" \
	" SELECT id FROM scope"

/* The selection as conditions on responses r: $2 from, $3 to, $4 center,
 * $5 area, $6 kiosk, each NULL for "any". The dates bound submitted_at,
 * which is indexed. The report takes the center through the tree of each
 * day instead (report-query.c), so it uses the rest alone. */
#define FILTER_RESPONSES_BUT_CENTER \
	"($2::date IS NULL OR r.submitted_at >=" \
	"  $2::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')" \
	" AND ($3::date IS NULL OR r.submitted_at <" \
	"  ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')" \
	" AND ($5::text IS NULL OR r.service_area_id =" \
	"  (SELECT id FROM service_areas WHERE code = $5))" \
	" AND ($6::text IS NULL OR r.kiosk_id = (SELECT id FROM kiosks WHERE code = $6))"
#define FILTER_RESPONSES FILTER_RESPONSES_BUT_CENTER \
	" AND ($4::text IS NULL OR r.center_id IN (" FILTER_CENTER_SCOPE("$4") "))"

bool filter_valid_date(const char *s);
/* Exits with a usage error for malformed dates, or with a clear message for
 * a code the database does not know. */
void filter_check(PGconn *conn, const struct filter *f, const char *usage);
/* The questionnaire named by --questionnaire, else the one with the most
 * responses in the selection, else the default one. */
const struct questionnaire *filter_questionnaire(PGconn *conn,
    const struct catalog *cat, const struct filter *f);

#endif
