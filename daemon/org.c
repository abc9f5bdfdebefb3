/* The organisation in memory: every center with its opening and closing
 * days, every counter, officer and posting span of the province, as rows
 * of one query and indexes over them. It is a snapshot (snapshot.c), as
 * the kiosk registry is: read again every kiosk_cache_ttl seconds and
 * swapped in whole; while the database is unreachable the last one read
 * serves for kiosk_offline_ttl at most, and a copy in state_dir serves a
 * restart. Days
 * are Vietnam days as integers (days since 1970-01-01), what the database
 * sends; an open end is INT_MIN or INT_MAX. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "org.h"
#include "sipasd.h"
#include "snapshot.h"
#include "xmalloc.h"

#define STATE_FILE	"organisation.json"
#define ORG_READ	"org_read"	/* the statement's name */

/* One row of the query, whatever its kind:
 *	'c' a center:	id, code, name, from = opened_on, until = closed_on
 *			(both included);
 *	'q' a counter:	id, center, code, name, until = retired_on;
 *	'o' an officer:	id, code, name (full), until = retired_on;
 *	'p' a posting:	id = officer, center, counter (0: none), the days
 *			[from, until). */
struct org_row {
	char kind;
	int id, center_id, counter_id;
	char *code, *name;
	int from, until;
};

struct org {
	struct org_row *rows;
	size_t n;
	struct org_row **centers;	/* by id */
	struct org_row **counters;	/* by center, code */
	struct org_row **officers;	/* by code */
	struct org_row **postings;	/* by officer, from */
	size_t ncenters, ncounters, nofficers, npostings;
};

static const struct snapshot_kind org_kind;
static struct snapshot org = { .kind = &org_kind };

/* The counters a kiosk is fixed to that were found inactive, warned of
 * once: the kiosk goes on being served, and the log is not flooded. */
static struct {
	int *ids;
	size_t n;
} warned;

/* Days as integers, NULL for an open end (NULL or infinite). */
#define DAYS(d) "CASE WHEN isfinite(" d ") THEN " d " - date '1970-01-01' END"
static const char read_sql[] =
    "SELECT 'c', id, 0, 0, code, name_vi, " DAYS("opened_on") ", "
    DAYS("closed_on") " FROM centers "
    "UNION ALL SELECT 'q', id, center_id, 0, code, name_vi, NULL, "
    DAYS("retired_on") " FROM counters "
    "UNION ALL SELECT 'o', id, 0, 0, code, full_name, NULL, "
    DAYS("retired_on") " FROM officers "
    "UNION ALL SELECT 'p', officer_id, center_id, coalesce(counter_id, 0), "
    " '', '', " DAYS("valid_from") ", " DAYS("valid_until")
    " FROM officer_posting_spans";

static int
cmp_int(int a, int b)
{
	return (a > b) - (a < b);
}

static int
cmp_center(const void *a, const void *b)
{
	return cmp_int((*(struct org_row *const *)a)->id,
	    (*(struct org_row *const *)b)->id);
}

static int
cmp_counter(const void *a, const void *b)
{
	const struct org_row *x = *(struct org_row *const *)a;
	const struct org_row *y = *(struct org_row *const *)b;

	if (x->center_id != y->center_id)
		return cmp_int(x->center_id, y->center_id);
	return strcmp(x->code, y->code);
}

static int
cmp_officer(const void *a, const void *b)
{
	return strcmp((*(struct org_row *const *)a)->code,
	    (*(struct org_row *const *)b)->code);
}

static int
cmp_posting(const void *a, const void *b)
{
	const struct org_row *x = *(struct org_row *const *)a;
	const struct org_row *y = *(struct org_row *const *)b;

	if (x->id != y->id)
		return cmp_int(x->id, y->id);
	return cmp_int(x->from, y->from);
}

static void
org_free(void *data)
{
	struct org *o = data;

	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->rows[i].code);
		free(o->rows[i].name);
	}
	free(o->rows);
	free(o->centers);
	free(o->counters);
	free(o->officers);
	free(o->postings);
	free(o);
}

static struct org_row **
org_index(struct org *o, char kind, size_t *n,
    int (*cmp)(const void *, const void *))
{
	struct org_row **idx = xreallocarray(NULL, o->n + 1, sizeof *idx);

	*n = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->rows[i].kind == kind)
			idx[(*n)++] = &o->rows[i];
	qsort(idx, *n, sizeof *idx, cmp);
	return idx;
}

static void
org_build(struct org *o)
{
	o->centers = org_index(o, 'c', &o->ncenters, cmp_center);
	o->counters = org_index(o, 'q', &o->ncounters, cmp_counter);
	o->officers = org_index(o, 'o', &o->nofficers, cmp_officer);
	o->postings = org_index(o, 'p', &o->npostings, cmp_posting);
}

static const struct org_row *
find(struct org_row **idx, size_t n, const struct org_row *key,
    int (*cmp)(const void *, const void *))
{
	struct org_row **hit = n == 0 ? NULL :
	    bsearch(&key, idx, n, sizeof *idx, cmp);

	return hit != NULL ? *hit : NULL;
}

static const struct org_row *
center(const struct org *o, int id)
{
	struct org_row key = { .id = id };

	return find(o->centers, o->ncenters, &key, cmp_center);
}

static const struct org_row *
counter(const struct org *o, int center_id, const char *code)
{
	struct org_row key = { .center_id = center_id, .code = (char *)code };

	return find(o->counters, o->ncounters, &key, cmp_counter);
}

static const struct org_row *
officer(const struct org *o, const char *code)
{
	struct org_row key = { .code = (char *)code };

	return find(o->officers, o->nofficers, &key, cmp_officer);
}

static const struct org_row *
counter_by_id(const struct org *o, int id)
{
	for (size_t i = 0; i < o->ncounters; i++)
		if (o->counters[i]->id == id)
			return o->counters[i];
	return NULL;
}

/* Where officer_id is posted on day, or NULL. */
static const struct org_row *
posting(const struct org *o, int officer_id, int day)
{
	size_t lo = 0, hi = o->npostings;

	while (lo < hi) {	/* the officer's first span */
		size_t mid = lo + (hi - lo) / 2;
		if (o->postings[mid]->id < officer_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < o->npostings && o->postings[lo]->id == officer_id; lo++)
		if (o->postings[lo]->from <= day && day < o->postings[lo]->until)
			return o->postings[lo];
	return NULL;
}

static bool
active(const struct org_row *r, int day)
{
	return day < r->until;
}

/* --- reading --- */

static const struct org *
current(void)
{
	return org.current;
}

static bool
usable(void)
{
	return snapshot_usable(&org);
}

static void
row_set(struct org_row *r, char kind, const int v[5], const char *code,
    const char *name)
{
	r->kind = kind;
	r->id = v[0];
	r->center_id = v[1];
	r->counter_id = v[2];
	r->from = v[3];
	r->until = v[4];
	r->code = xstrdup(code);
	r->name = xstrdup(name);
}

static int
day_or(PGresult *res, int row, int col, int open)
{
	return PQgetisnull(res, row, col) ? open : atoi(PQgetvalue(res, row, col));
}

static void *
org_from_result(PGresult *res)
{
	struct org *o = xcalloc(1, sizeof *o);
	int rows = PQntuples(res);

	o->rows = xcalloc((size_t)rows + 1, sizeof *o->rows);
	for (int i = 0; i < rows; i++) {
		int v[5] = { atoi(PQgetvalue(res, i, 1)),
		    atoi(PQgetvalue(res, i, 2)), atoi(PQgetvalue(res, i, 3)),
		    day_or(res, i, 6, INT_MIN), day_or(res, i, 7, INT_MAX) };
		row_set(&o->rows[o->n++], PQgetvalue(res, i, 0)[0], v,
		    PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
	}
	org_build(o);
	return o;
}

/* The copy in state_dir: the rows as arrays of the query's columns. */
static char *
org_dump(const void *data)
{
	const struct org *o = data;
	json_t *all = json_array();
	char kind[2] = "", *text;

	for (size_t i = 0; i < o->n; i++) {
		const struct org_row *r = &o->rows[i];
		kind[0] = r->kind;
		json_array_append_new(all, json_pack("[s, i, i, i, s, s, i, i]",
		    kind, r->id, r->center_id, r->counter_id, r->code, r->name,
		    r->from, r->until));
	}
	text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	return text;
}

static void *
org_parse(const char *text, size_t len)
{
	json_t *all = json_loadb(text, len, 0, NULL), *row;
	struct org *o;
	size_t i;

	if (!json_is_array(all)) {
		json_decref(all);
		return NULL;
	}
	o = xcalloc(1, sizeof *o);
	o->rows = xcalloc(json_array_size(all) + 1, sizeof *o->rows);
	json_array_foreach(all, i, row) {
		const char *kind, *code, *name;
		int v[5];

		if (json_unpack(row, "[s, i, i, i, s, s, i, i]", &kind, &v[0],
		    &v[1], &v[2], &code, &name, &v[3], &v[4]) == 0 && kind[0])
			row_set(&o->rows[o->n++], kind[0], v, code, name);
	}
	json_decref(all);
	org_build(o);
	return o;
}

static void
org_restored(const void *data, time_t written)
{
	const struct org *o = data;

	log_info("organisation: %zu center(s), %zu counter(s), %zu officer(s) "
	    "from state_dir", o->ncenters, o->ncounters, o->nofficers);
}

static void
org_loaded(PGresult *res, const void *old, bool news)
{
	const struct org *o = current();

	if (news)
		log_info("organisation: %zu center(s), %zu counter(s), %zu "
		    "officer(s)", o->ncenters, o->ncounters, o->nofficers);
}

/* A read that could not be sent (the database is not ready) is not
 * logged: db.c says why the database is away. */
static void
org_failed(const struct db_failure *f, bool was_failed, bool sent)
{
	if (!sent)
		return;
	if (!was_failed && db_ready())
		log_warn("organisation: cannot read it: %s; judging "
		    "responses by the one read last", f->message);
	if (org.current != NULL && !usable())
		log_error("organisation: %s; the last one read is older "
		    "than kiosk_offline_ttl (%lld s): refusing responses "
		    "with 503", f->message, server.cfg->kiosk_offline_ttl);
}

static const struct snapshot_kind org_kind = {
	.file = STATE_FILE,
	.statement = ORG_READ,
	.sql = read_sql,
	.what = "an organisation",
	.retry_each_second = true,
	.from_result = org_from_result,
	.dump = org_dump,
	.parse = org_parse,
	.free = org_free,
	.restored = org_restored,
	.loaded = org_loaded,
	.failed = org_failed,
};

void
org_start(void)
{
	snapshot_start(&org);
}

void
org_run(struct event_base *base)
{
	snapshot_run(&org, base);
}

void
org_stop(void)
{
	snapshot_stop(&org);
	free(warned.ids);
	warned.ids = NULL;
	warned.n = 0;
}

bool
org_known(void)
{
	return usable();
}

void
org_remember_centers(const int *center_ids, size_t n)
{
	struct org *o = xcalloc(1, sizeof *o);

	o->rows = xcalloc(n + 1, sizeof *o->rows);
	for (size_t i = 0; i < n; i++) {
		int v[5] = { center_ids[i], 0, 0, INT_MIN, INT_MAX };
		row_set(&o->rows[o->n++], 'c', v, "", "");
	}
	org_build(o);
	snapshot_set(&org, o);
}

/* --- judging --- */

static void
day_text(int day, char out[11])
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	strftime(out, 11, "%Y-%m-%d", gmtime_r(&t, &tm));
}

static bool
refuse(struct response_error *err, const char *field, const char *why,
    int day)
{
	char d[11];

	day_text(day, d);
	snprintf(err->field, sizeof err->field, "%s", field);
	snprintf(err->message, sizeof err->message, "%s on %s, the day the "
	    "response was submitted", why, d);
	return false;
}

static void
warn_fixed_inactive(const struct kiosk_ref *k, const struct org_row *q, int day)
{
	char d[11];

	for (size_t i = 0; i < warned.n; i++)
		if (warned.ids[i] == q->id)
			return;
	warned.ids = xreallocarray(warned.ids, warned.n + 1, sizeof *warned.ids);
	warned.ids[warned.n++] = q->id;
	day_text(day, d);
	log_warn("counter %s of kiosk %s is not active on %s: storing its "
	    "responses without a counter; fix the kiosk to an active counter "
	    "or none with sipas kiosk move", q->code, k->code, d);
}

static bool
judge_counter(const struct org *o, const struct kiosk_ref *k,
    const struct kiosk_place *at, struct response *r, int day,
    struct response_error *err)
{
	const struct org_row *q;

	/* A kiosk fixed to a counter serves at that counter: what it says
	 * does not matter, even a code unknown here. A fixed counter not
	 * active that day is not stored: a 400 would stop the kiosk for a
	 * mistake that is not its own. One unknown here is newer than the
	 * organisation read; the database checks it exists. */
	if (at->counter_id != 0) {
		q = counter_by_id(o, at->counter_id);
		if (q != NULL && !active(q, day))
			warn_fixed_inactive(k, q, day);
		else
			r->counter_id = at->counter_id;
		return true;
	}
	if (r->counter[0] == '\0')
		return true;
	q = counter(o, at->center_id, r->counter);
	if (q == NULL || !active(q, day))
		return refuse(err, "counter", "not an active counter of this "
		    "kiosk's center", day);
	r->counter_id = q->id;
	return true;
}

static bool
judge_officer(const struct org *o, int center_id, struct response *r, int day,
    struct response_error *err)
{
	const struct org_row *p, *w;

	if (r->officer[0] == '\0')
		return true;
	w = officer(o, r->officer);
	if (w == NULL || !active(w, day))
		return refuse(err, "officer", "not an active officer", day);
	p = posting(o, w->id, day);
	if (p == NULL || p->center_id != center_id)
		return refuse(err, "officer", "not posted at this kiosk's "
		    "center", day);
	r->officer_id = w->id;
	return true;
}

/* Without the organisation (not read yet, or too long ago, or without
 * the kiosk's center, created since): what the kiosk registry alone can
 * judge is taken, as before protocol 1.1; who served the person cannot be
 * judged, and waits (503). */
static enum org_verdict
judge_without(const struct kiosk_place *at, struct response *r)
{
	if (r->officer[0] != '\0' || (r->counter[0] != '\0' && at->counter_id == 0))
		return ORG_UNAVAILABLE;
	r->counter_id = at->counter_id;
	return ORG_ACCEPTED;
}

enum org_verdict
org_judge(const struct kiosk_ref *k, struct response *r,
    struct response_error *err)
{
	int day = clock_vn_day(r->submitted_at);
	struct kiosk_place at = kiosk_placement(k, day);
	const struct org_row *c;

	r->center_id = at.center_id;
	r->counter_id = r->officer_id = 0;
	if (!usable() || (c = center(current(), at.center_id)) == NULL)
		return judge_without(&at, r);
	if (day < c->from || day > c->until)
		return ORG_CLOSED;
	if (!judge_counter(current(), k, &at, r, day, err) ||
	    !judge_officer(current(), at.center_id, r, day, err))
		return ORG_INVALID;
	return ORG_ACCEPTED;
}

static json_t *
code_name(const struct org_row *r)
{
	return r == NULL ? json_null() :
	    json_pack("{s:s, s:s}", "code", r->code, "name", r->name);
}

/* The officers posted at center_id on day and active then, by code. */
static json_t *
officers_at(const struct org *o, int center_id, int day)
{
	json_t *all = json_array();

	for (size_t i = 0; i < o->nofficers; i++) {
		const struct org_row *w = o->officers[i], *p, *q = NULL;

		if (!active(w, day) || (p = posting(o, w->id, day)) == NULL ||
		    p->center_id != center_id)
			continue;
		if (p->counter_id != 0)
			q = counter_by_id(o, p->counter_id);
		json_array_append_new(all, json_pack("{s:s, s:s, s:o}", "code",
		    w->code, "full_name", w->name, "counter",
		    q != NULL ? json_string(q->code) : json_null()));
	}
	return all;
}

json_t *
org_context(const struct kiosk_ref *k, int64_t now)
{
	const struct org *o = current();
	const struct org_row *c;
	int day = clock_vn_day(now);
	struct kiosk_place at = kiosk_placement(k, day);
	json_t *counters;

	if (!usable() || (c = center(o, at.center_id)) == NULL)
		return NULL;
	counters = json_array();
	for (size_t i = 0; i < o->ncounters; i++)
		if (o->counters[i]->center_id == at.center_id &&
		    active(o->counters[i], day))
			json_array_append_new(counters, code_name(o->counters[i]));
	return json_pack("{s:o, s:o, s:o, s:o}", "center", code_name(c),
	    "counter", at.counter_id != 0 ?
	    code_name(counter_by_id(o, at.counter_id)) : json_null(),
	    "counters", counters, "officers", officers_at(o, at.center_id, day));
}
