/* The kiosk registry cache: certificate fingerprint to kiosk. An entry is
 * trusted for kiosk_cache_ttl seconds (at most 10, so that a revocation
 * bites within 10 s as the protocol promises), then asked again. While the
 * database is unreachable a stale entry is used rather than refusing every
 * kiosk. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "sipasd.h"
#include "xmalloc.h"

#define KIOSK_BUCKETS		1024
#define KIOSK_MAX_ENTRIES	200000	/* beyond it the cache starts afresh */

struct kiosk_entry {
	struct kiosk_entry *next;	/* in its bucket */
	unsigned char fp[CERT_FINGERPRINT_LEN];
	enum kiosk_status status;	/* ACTIVE, REVOKED or UNKNOWN */
	struct kiosk_ref ref;
	struct timespec fetched;
};

struct kiosk_lookup {
	unsigned char fp[CERT_FINGERPRINT_LEN];
	kiosk_cb *cb;
	void *arg;
};

static struct kiosk_entry *buckets[KIOSK_BUCKETS];
static size_t nentries;

static const char lookup_sql[] =
    "SELECT id, code, center_id, coalesce(questionnaire_id, 0), status "
    "FROM kiosks WHERE cert_sha256 = $1";

static struct kiosk_entry **
bucket(const unsigned char *fp)
{
	/* A SHA-256 is already uniformly spread. */
	return &buckets[(fp[0] | fp[1] << 8) % KIOSK_BUCKETS];
}

static struct kiosk_entry *
find(const unsigned char *fp)
{
	for (struct kiosk_entry *e = *bucket(fp); e != NULL; e = e->next)
		if (memcmp(e->fp, fp, CERT_FINGERPRINT_LEN) == 0)
			return e;
	return NULL;
}

static bool
fresh(const struct kiosk_entry *e)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - e->fetched.tv_sec < server.cfg->kiosk_cache_ttl;
}

void
kiosk_start(void)
{
	db_prepare("kiosk", lookup_sql);
}

void
kiosk_cache_clear(void)
{
	for (size_t i = 0; i < KIOSK_BUCKETS; i++) {
		while (buckets[i] != NULL) {
			struct kiosk_entry *e = buckets[i];
			buckets[i] = e->next;
			free(e);
		}
	}
	nentries = 0;
}

static struct kiosk_entry *
store(const unsigned char *fp, enum kiosk_status st, const struct kiosk_ref *ref)
{
	struct kiosk_entry *e = find(fp);

	if (e == NULL) {
		if (nentries >= KIOSK_MAX_ENTRIES)
			kiosk_cache_clear();
		e = xcalloc(1, sizeof *e);
		memcpy(e->fp, fp, CERT_FINGERPRINT_LEN);
		e->next = *bucket(fp);
		*bucket(fp) = e;
		nentries++;
	}
	if (e->status != st && e->status == KIOSK_ACTIVE && st == KIOSK_REVOKED)
		log_info("kiosk %s is revoked: refusing its requests", ref->code);
	e->status = st;
	e->ref = *ref;
	clock_gettime(CLOCK_MONOTONIC, &e->fetched);
	return e;
}

static void
on_lookup(PGresult *res, const struct db_failure *f, void *arg)
{
	struct kiosk_lookup *l = arg;
	struct kiosk_entry *e;
	struct kiosk_ref ref;

	memset(&ref, 0, sizeof ref);
	if (res == NULL) {
		log_error("kiosk lookup failed: %s", f->message);
		e = find(l->fp);
		if (e != NULL)
			l->cb(e->status, &e->ref, l->arg);
		else
			l->cb(KIOSK_UNAVAILABLE, &ref, l->arg);
	} else if (PQntuples(res) == 0) {
		e = store(l->fp, KIOSK_UNKNOWN, &ref);
		l->cb(e->status, &e->ref, l->arg);
	} else {
		ref.id = atoi(PQgetvalue(res, 0, 0));
		snprintf(ref.code, sizeof ref.code, "%s", PQgetvalue(res, 0, 1));
		ref.center_id = atoi(PQgetvalue(res, 0, 2));
		ref.questionnaire_id = atoi(PQgetvalue(res, 0, 3));
		e = store(l->fp, strcmp(PQgetvalue(res, 0, 4), "active") == 0 ?
		    KIOSK_ACTIVE : KIOSK_REVOKED, &ref);
		l->cb(e->status, &e->ref, l->arg);
	}
	free(l);
}

void
kiosk_resolve(const unsigned char fp[CERT_FINGERPRINT_LEN], kiosk_cb *cb,
    void *arg)
{
	struct kiosk_entry *e = find(fp);
	struct kiosk_lookup *l;
	const char *values[1];
	int lengths[1] = { CERT_FINGERPRINT_LEN }, formats[1] = { 1 };
	struct kiosk_ref none;

	if (e != NULL && (fresh(e) || !db_ready())) {
		cb(e->status, &e->ref, arg);
		return;
	}
	l = xcalloc(1, sizeof *l);
	memcpy(l->fp, fp, CERT_FINGERPRINT_LEN);
	l->cb = cb;
	l->arg = arg;
	values[0] = (const char *)l->fp;
	if (!db_query("kiosk", 1, values, lengths, formats, on_lookup, l)) {
		free(l);
		memset(&none, 0, sizeof none);
		cb(KIOSK_UNAVAILABLE, &none, arg);
	}
}

void
kiosk_remember(const unsigned char fp[CERT_FINGERPRINT_LEN], enum kiosk_status st,
    const struct kiosk_ref *ref)
{
	store(fp, st, ref);
}
