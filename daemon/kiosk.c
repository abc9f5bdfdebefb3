/* The kiosk registry, held whole in memory: every kiosk of the province,
 * active or revoked, by certificate fingerprint. It is read again every
 * kiosk_cache_ttl seconds (at most 10, so that a revocation bites within
 * 10 s as the protocol promises) and swapped in whole; while the database is
 * unreachable the last one read keeps serving, for kiosk_offline_ttl at most.
 * A certificate not in it waits for a fresh read (at most one a second), so
 * that a kiosk enrolled a moment ago is served at once and strangers cannot
 * make sipasd query the database per request. A copy is kept in state_dir
 * (a snapshot, snapshot.c) so that a restart while the database is away
 * still knows every kiosk. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "db.h"
#include "kiosk.h"
#include "log.h"
#include "sipasd.h"
#include "snapshot.h"
#include "xmalloc.h"

#define STATE_FILE	"registry.json"
#define REVOKE_MARGIN_US 1000000	/* the clocks' uncertainty, and then some */
#define MISS_REFRESH_S	1	/* a certificate not found reads the registry again at most this often */

/* A kiosk's placement on the days [from, until), Vietnam days since
 * 1970-01-01; an open end is INT_MIN or INT_MAX. */
struct kiosk_span {
	int from, until;
	struct kiosk_place place;
};

struct kiosk {
	unsigned char fp[CERT_FINGERPRINT_LEN];
	bool revoked;
	int64_t revoked_at;	/* µs since the epoch */
	struct kiosk_ref ref;
	size_t span0, nspans;	/* its placements in the registry's spans */
};

struct registry {
	struct kiosk *by_fp;	/* sorted by fingerprint */
	struct kiosk **by_id;	/* the same, sorted by id */
	size_t n;
	struct kiosk_span *spans;	/* every kiosk's, kiosk after kiosk */
	size_t nspans;
};

/* A request waiting for the registry to be read again. */
struct kiosk_wait {
	STAILQ_ENTRY(kiosk_wait) entry;
	unsigned char fp[CERT_FINGERPRINT_LEN];
	kiosk_cb *cb;
	void *arg;
};

static const struct snapshot_kind registry_kind;
static struct {
	struct snapshot snap;		/* of struct registry */
	struct timespec asked;		/* when the last read was sent */
	int64_t asked_us;		/* the same, wall clock, µs */
	int64_t covered_us;		/* when the last read that worked was sent */
	int64_t skew_us;		/* the database's clock minus ours, at most */
	STAILQ_HEAD(, kiosk_wait) waiting;
} reg = { .snap = { .kind = &registry_kind },
    .waiting = STAILQ_HEAD_INITIALIZER(reg.waiting) };

/* bytea as hex, and times and days as integers: independent of the
 * session's bytea_output and DateStyle. The placements are one text per
 * kiosk, "from until center counter" a span, ',' between spans, an open
 * end as '-': in the same statement, so in the same snapshot. */
#define KIOSK_REGISTRY "kiosk_registry"	/* the statement's name */
#define KIOSK_DAY(d) "coalesce(CASE WHEN isfinite(" d ") THEN (" d \
    " - date '1970-01-01')::text END, '-')"
static const char registry_sql[] =
    "SELECT encode(k.cert_sha256, 'hex'), k.id, k.code, k.center_id, "
    " coalesce(k.questionnaire_id, 0), k.status = 'revoked', "
    " coalesce((extract(epoch FROM k.revoked_at) * 1000000)::int8, 0), "
    " (extract(epoch FROM now()) * 1000000)::int8, coalesce(k.counter_id, 0), "
    " coalesce((SELECT string_agg(" KIOSK_DAY("s.valid_from") " || ' ' || "
    "  " KIOSK_DAY("s.valid_until") " || ' ' || s.center_id || ' ' || "
    "  coalesce(s.counter_id, 0), ',' ORDER BY s.valid_from) "
    "  FROM kiosk_posting_spans s WHERE s.kiosk_id = k.id), '') "
    "FROM kiosks k";

static int
cmp_fp(const void *a, const void *b)
{
	return memcmp(((const struct kiosk *)a)->fp, ((const struct kiosk *)b)->fp,
	    CERT_FINGERPRINT_LEN);
}

static int
cmp_id(const void *a, const void *b)
{
	int x = (*(struct kiosk *const *)a)->ref.id;
	int y = (*(struct kiosk *const *)b)->ref.id;

	return (x > y) - (x < y);
}

static void
registry_free(void *data)
{
	struct registry *r = data;

	if (r == NULL)
		return;
	free(r->by_fp);
	free(r->by_id);
	free(r->spans);
	free(r);
}

static int
span_day(const char *text, int open)
{
	return strcmp(text, "-") == 0 ? open : atoi(text);
}

/* Appends k's placements, from their text (registry_sql's last column),
 * to r's spans. */
static void
spans_parse(struct registry *r, struct kiosk *k, const char *text)
{
	char *copy = xstrdup(text), *save = NULL;

	k->span0 = r->nspans;
	k->nspans = 0;
	for (char *one = strtok_r(copy, ",", &save); one != NULL;
	    one = strtok_r(NULL, ",", &save)) {
		char from[16], until[16];
		struct kiosk_span sp;

		if (sscanf(one, "%15s %15s %d %d", from, until,
		    &sp.place.center_id, &sp.place.counter_id) != 4)
			continue;
		sp.from = span_day(from, INT_MIN);
		sp.until = span_day(until, INT_MAX);
		r->spans = xreallocarray(r->spans, r->nspans + 1, sizeof *r->spans);
		r->spans[r->nspans++] = sp;
		k->nspans++;
	}
	free(copy);
}

/* The same text, for the copy in state_dir. */
static char *
spans_text(const struct registry *r, const struct kiosk *k)
{
	char *out = xstrdup("");
	size_t len = 0;

	for (size_t i = 0; i < k->nspans; i++) {
		const struct kiosk_span *sp = &r->spans[k->span0 + i];
		char from[16] = "-", until[16] = "-", one[80];
		int n;

		if (sp->from != INT_MIN)
			snprintf(from, sizeof from, "%d", sp->from);
		if (sp->until != INT_MAX)
			snprintf(until, sizeof until, "%d", sp->until);
		n = snprintf(one, sizeof one, "%s%s %s %d %d", i ? "," : "", from,
		    until, sp->place.center_id, sp->place.counter_id);
		out = xreallocarray(out, len + (size_t)n + 1, 1);
		memcpy(out + len, one, (size_t)n + 1);
		len += (size_t)n;
	}
	return out;
}

static void
registry_index(struct registry *r)
{
	qsort(r->by_fp, r->n, sizeof *r->by_fp, cmp_fp);
	r->by_id = xreallocarray(NULL, r->n + 1, sizeof *r->by_id);
	for (size_t i = 0; i < r->n; i++)
		r->by_id[i] = &r->by_fp[i];
	qsort(r->by_id, r->n, sizeof *r->by_id, cmp_id);
}

static const struct registry *
current(void)
{
	return reg.snap.current;
}

static const struct kiosk *
find_in(const struct registry *r, const unsigned char *fp)
{
	struct kiosk key;

	if (r == NULL || r->n == 0)
		return NULL;
	memcpy(key.fp, fp, CERT_FINGERPRINT_LEN);
	return bsearch(&key, r->by_fp, r->n, sizeof *r->by_fp, cmp_fp);
}

static const struct kiosk *
find(const unsigned char *fp)
{
	return find_in(current(), fp);
}

static const struct kiosk *
find_id(int id)
{
	const struct registry *r = current();
	struct kiosk key, *k = &key, **hit;

	if (r == NULL || r->n == 0)
		return NULL;
	key.ref.id = id;
	hit = bsearch(&k, r->by_id, r->n, sizeof *r->by_id, cmp_id);
	return hit != NULL ? *hit : NULL;
}

/* The registry in memory may still be used: read recently, or the
 * database has been away for less than kiosk_offline_ttl. */
static bool
usable(void)
{
	return snapshot_usable(&reg.snap);
}

/* Answers a request that was waiting, or comes now. */
static void
answer(const unsigned char *fp, kiosk_cb *cb, void *arg, bool fresh)
{
	const struct kiosk *k = usable() ? find(fp) : NULL;
	struct kiosk_ref none;

	if (k != NULL) {
		cb(k->revoked ? KIOSK_REVOKED : KIOSK_ACTIVE, &k->ref, arg);
		return;
	}
	memset(&none, 0, sizeof none);
	/* Not in a registry just read: really unknown. Otherwise it may be a
	 * kiosk enrolled since, which a kiosk must not take for a refusal. */
	cb(fresh ? KIOSK_UNKNOWN : KIOSK_UNAVAILABLE, &none, arg);
}

static void
answer_waiting(bool fresh)
{
	struct kiosk_wait *w;

	while ((w = STAILQ_FIRST(&reg.waiting)) != NULL) {
		STAILQ_REMOVE_HEAD(&reg.waiting, entry);
		answer(w->fp, w->cb, w->arg, fresh);
		free(w);
	}
}

static bool
parse_fp(const char *hex, unsigned char *fp)
{
	if (hex == NULL || strlen(hex) != 2 * CERT_FINGERPRINT_LEN)
		return false;
	for (size_t i = 0; i < CERT_FINGERPRINT_LEN; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		fp[i] = (unsigned char)v;
	}
	return true;
}

static bool
parse_row(PGresult *res, int row, struct kiosk *k)
{
	if (!parse_fp(PQgetvalue(res, row, 0), k->fp))
		return false;
	k->ref.id = atoi(PQgetvalue(res, row, 1));
	snprintf(k->ref.code, sizeof k->ref.code, "%s", PQgetvalue(res, row, 2));
	k->ref.center_id = atoi(PQgetvalue(res, row, 3));
	k->ref.questionnaire_id = atoi(PQgetvalue(res, row, 4));
	k->revoked = PQgetvalue(res, row, 5)[0] == 't';
	k->revoked_at = strtoll(PQgetvalue(res, row, 6), NULL, 10);
	k->ref.counter_id = atoi(PQgetvalue(res, row, 8));
	return true;
}

/* Logs what changed that an operator would want to see in the log. */
static void
log_changes(const struct registry *was_read, const struct registry *now)
{
	for (size_t i = 0; i < now->n && was_read != NULL; i++) {
		const struct kiosk *was = find_in(was_read, now->by_fp[i].fp);
		if (was != NULL && !was->revoked && now->by_fp[i].revoked)
			log_info("kiosk %s is revoked: refusing its requests",
			    now->by_fp[i].ref.code);
	}
}

/* The registry as kept on disk: one array per kiosk. */
static char *
registry_dump(const void *data)
{
	const struct registry *r = data;
	json_t *all = json_array();
	char hex[2 * CERT_FINGERPRINT_LEN + 1], *text, *spans;

	for (size_t i = 0; i < r->n; i++) {
		const struct kiosk *k = &r->by_fp[i];
		for (size_t j = 0; j < CERT_FINGERPRINT_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", k->fp[j]);
		spans = spans_text(r, k);
		json_array_append_new(all, json_pack("[s, i, s, i, i, b, I, i, s]",
		    hex, k->ref.id, k->ref.code, k->ref.center_id,
		    k->ref.questionnaire_id, k->revoked, (json_int_t)k->revoked_at,
		    k->ref.counter_id, spans));
		free(spans);
	}
	text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	return text;
}

static void *
registry_parse(const char *text, size_t len)
{
	json_t *all = json_loadb(text, len, 0, NULL), *row;
	struct registry *r;
	size_t i;

	if (!json_is_array(all)) {
		json_decref(all);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->by_fp = xreallocarray(NULL, json_array_size(all) + 1, sizeof *r->by_fp);
	json_array_foreach(all, i, row) {
		struct kiosk *k = &r->by_fp[r->n];
		const char *hex, *code;
		int revoked;
		json_int_t at;

		memset(k, 0, sizeof *k);
		if (json_unpack(row, "[s, i, s, i, i, b, I]", &hex, &k->ref.id, &code,
		    &k->ref.center_id, &k->ref.questionnaire_id, &revoked, &at) != 0 ||
		    !parse_fp(hex, k->fp))
			continue;
		snprintf(k->ref.code, sizeof k->ref.code, "%s", code);
		/* A copy written before protocol 1.1 has no counter, nor
		 * placements over time: then its placement now serves. */
		k->ref.counter_id = (int)json_integer_value(json_array_get(row, 7));
		if (json_is_string(json_array_get(row, 8)))
			spans_parse(r, k, json_string_value(json_array_get(row, 8)));
		k->revoked = revoked;
		k->revoked_at = at;
		r->n++;
	}
	json_decref(all);
	registry_index(r);
	return r;
}

static void
registry_restored(const void *data, time_t written)
{
	const struct registry *r = data;

	log_info("kiosk registry: %zu kiosk(s) from state_dir, as the database "
	    "had them %.0f s ago", r->n, difftime(time(NULL), written));
}

static void *
registry_from_result(PGresult *res)
{
	int rows = PQntuples(res);
	struct registry *r = xcalloc(1, sizeof *r);

	r->by_fp = xreallocarray(NULL, (size_t)rows + 1, sizeof *r->by_fp);
	for (int i = 0; i < rows; i++) {
		memset(&r->by_fp[r->n], 0, sizeof r->by_fp[r->n]);
		if (parse_row(res, i, &r->by_fp[r->n])) {
			spans_parse(r, &r->by_fp[r->n], PQgetvalue(res, i, 9));
			r->n++;
		}
	}
	registry_index(r);
	return r;
}

static void
registry_loaded(PGresult *res, const void *old, bool news)
{
	const struct registry *r = current();

	/* The database read its clock between our sending and our reading
	 * the reply: measured from the sending, the skew is at its largest,
	 * which errs towards "revoked" (set aside for a person) rather than
	 * towards storing what a revoked kiosk sent. */
	if (PQntuples(res) > 0)
		reg.skew_us = strtoll(PQgetvalue(res, 0, 7), NULL, 10) -
		    reg.asked_us;
	reg.covered_us = reg.asked_us;
	if (news)
		log_info("kiosk registry: %zu kiosk(s)", r->n);
	log_changes(old, r);
	answer_waiting(true);
}

/* A read that could not be sent is told as one that failed: requests
 * waiting for it are answered. */
static void
registry_failed(const struct db_failure *f, bool was_failed, bool sent)
{
	if (current() != NULL && !usable())
		log_error("kiosk registry: %s; the last one read is older "
		    "than kiosk_offline_ttl (%lld s): refusing kiosks with "
		    "503 until the database answers", f->message,
		    server.cfg->kiosk_offline_ttl);
	else if (!was_failed && db_ready())
		/* The database answers, but not this: revocations and
		 * replay wait for it. */
		log_warn("kiosk registry: cannot read it: %s", f->message);
	else
		log_debug("kiosk registry: %s", f->message);
	answer_waiting(false);
}

/* Only a read the database was asked counts against strangers. */
static void
registry_asked(int64_t sent_us)
{
	clock_gettime(CLOCK_MONOTONIC, &reg.asked);
	reg.asked_us = sent_us;
}

static const struct snapshot_kind registry_kind = {
	.file = STATE_FILE,
	.statement = KIOSK_REGISTRY,
	.sql = registry_sql,
	.what = "a kiosk registry",
	.from_result = registry_from_result,
	.dump = registry_dump,
	.parse = registry_parse,
	.free = registry_free,
	.restored = registry_restored,
	.loaded = registry_loaded,
	.failed = registry_failed,
	.asked = registry_asked,
};

void
kiosk_start(void)
{
	snapshot_start(&reg.snap);
}

void
kiosk_run(struct event_base *base)
{
	snapshot_run(&reg.snap, base);
}

/* After db_stop, which has failed the read in flight. */
void
kiosk_stop(void)
{
	answer_waiting(false);
	snapshot_stop(&reg.snap);
}

void
kiosk_resolve(const unsigned char fp[CERT_FINGERPRINT_LEN], kiosk_cb *cb,
    void *arg)
{
	struct kiosk_wait *w;

	/* A copy not confirmed by the database (read from state_dir, or the
	 * last read failed) is what serves while the database is away, not
	 * once it answers. */
	if ((find(fp) != NULL && !reg.snap.failed) || !db_ready()) {
		answer(fp, cb, arg, false);
		return;
	}
	/* Strangers make the registry be read at most once a second. */
	if (!reg.snap.reading &&
	    clock_seconds_since(&reg.asked) < MISS_REFRESH_S) {
		answer(fp, cb, arg, !reg.snap.failed && current() != NULL);
		return;
	}
	w = xcalloc(1, sizeof *w);
	memcpy(w->fp, fp, CERT_FINGERPRINT_LEN);
	w->cb = cb;
	w->arg = arg;
	STAILQ_INSERT_TAIL(&reg.waiting, w, entry);
	snapshot_read(&reg.snap);
}

bool
kiosk_registry_present(void)
{
	return current() != NULL;
}

bool
kiosk_registry_covers(int64_t at)
{
	return current() != NULL && reg.covered_us > at;
}

bool
kiosk_revoked_before(int kiosk_id, int64_t at, char *why, size_t whylen)
{
	const struct kiosk *k = find_id(kiosk_id);
	time_t t;
	char when[32];

	/* revoked_at is the database's clock, at ours; what came within
	 * REVOKE_MARGIN_US of the revocation is set aside rather than guessed. */
	if (k == NULL || !k->revoked ||
	    k->revoked_at > at + reg.skew_us + REVOKE_MARGIN_US)
		return false;
	t = (time_t)(k->revoked_at / 1000000);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(why, whylen, "kiosk %s was revoked at %s, before the response "
	    "was received", k->ref.code, when);
	return true;
}

struct kiosk_place
kiosk_placement(const struct kiosk_ref *k, int day)
{
	const struct kiosk *in = find_id(k->id);
	struct kiosk_place now = { k->center_id, k->counter_id };

	for (size_t i = 0; in != NULL && i < in->nspans; i++) {
		const struct kiosk_span *sp = &current()->spans[in->span0 + i];
		if (sp->from <= day && day < sp->until)
			return sp->place;
	}
	return now;
}

void
kiosk_remember(const unsigned char fp[CERT_FINGERPRINT_LEN], bool revoked,
    const struct kiosk_ref *ref)
{
	const struct registry *was = current();
	struct registry *r = xcalloc(1, sizeof *r);
	size_t n = was != NULL ? was->n : 0;

	r->by_fp = xreallocarray(NULL, n + 1, sizeof *r->by_fp);
	if (n > 0)
		memcpy(r->by_fp, was->by_fp, n * sizeof *r->by_fp);
	memset(&r->by_fp[n], 0, sizeof r->by_fp[n]);
	memcpy(r->by_fp[n].fp, fp, CERT_FINGERPRINT_LEN);
	r->by_fp[n].revoked = revoked;
	r->by_fp[n].ref = *ref;
	r->n = n + 1;
	if (n > 0 && was->nspans > 0) {
		r->spans = xreallocarray(NULL, was->nspans, sizeof *r->spans);
		memcpy(r->spans, was->spans, was->nspans * sizeof *r->spans);
		r->nspans = was->nspans;
	}
	registry_index(r);
	snapshot_set(&reg.snap, r);
}
