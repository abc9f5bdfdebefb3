/* The kiosk registry: which certificate belongs to which kiosk, read from
 * the database now and then and kept in state_dir for a start without it. */
#ifndef SIPASD_KIOSK_H
#define SIPASD_KIOSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "cert.h"

/* What the registry says about the kiosk a request came from. */
struct kiosk_ref {
	int id;
	int center_id;
	int questionnaire_id;	/* 0: the catalog's default */
	char code[65];
	int counter_id;		/* the counter it is fixed to; 0: none */
};

/* Where a kiosk stood on a day: its center, and the counter it was fixed
 * to (0: none). */
struct kiosk_place {
	int center_id;
	int counter_id;
};

enum kiosk_status {
	KIOSK_ACTIVE,
	KIOSK_REVOKED,
	KIOSK_UNKNOWN,		/* no such certificate in the registry */
	KIOSK_UNAVAILABLE,	/* the registry cannot say: database down */
};
typedef void kiosk_cb(enum kiosk_status st, const struct kiosk_ref *ref,
    void *arg);
/* Calls cb at once from the registry in memory, or, for a certificate not
 * in it, once the registry has been read again. ref is cb's to copy. */
void kiosk_resolve(const unsigned char fp[CERT_FINGERPRINT_LEN], kiosk_cb *cb,
    void *arg);
void kiosk_start(void);		/* before db_start */
void kiosk_run(struct event_base *base);	/* reads the registry now and then */
void kiosk_stop(void);		/* after db_stop */
/* There is a registry to answer kiosks by: read from the database or
 * restored from state_dir (/readyz). */
bool kiosk_registry_present(void);
/* The registry was read from the database after at (µs since the epoch),
 * so it knows of every revocation made before: what a kiosk sent at at may
 * be judged by it. */
bool kiosk_registry_covers(int64_t at);
/* True, with why, when the kiosk was revoked at or before at (µs since the
 * epoch): what it sent then must not be stored. */
bool kiosk_revoked_before(int kiosk_id, int64_t at, char *why, size_t whylen);
/* Where kiosk k stood on day (a Vietnam day, days since 1970-01-01), by
 * the registry's placements over time (kiosk_postings), so that what it
 * collected before a move counts where it was collected; k's own
 * placement when the registry has none for that day. */
struct kiosk_place kiosk_placement(const struct kiosk_ref *k, int day);
/* Adds an entry as if the database had answered (the fuzzer). */
void kiosk_remember(const unsigned char fp[CERT_FINGERPRINT_LEN], bool revoked,
    const struct kiosk_ref *ref);

#endif
