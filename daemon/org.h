/* The organisation as sipasd judges responses by it (protocol 1.1): the
 * centers' opening and closing days, their counters, the officers and
 * where they are posted, read from the database with the kiosk registry's
 * cadence and kept in state_dir for a start without it. */
#ifndef SIPASD_ORG_H
#define SIPASD_ORG_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "kiosk.h"
#include "response.h"

enum org_verdict {
	ORG_ACCEPTED,		/* counter_id and officer_id of the response set */
	ORG_INVALID,		/* a 400: err names "counter" or "officer" */
	ORG_CLOSED,		/* the kiosk's center was not open that day */
	ORG_UNAVAILABLE,	/* who served cannot be judged now: a 503 */
};

/* Judges r, sent by kiosk k, on the Vietnam day of its submitted_at, so
 * that an offline kiosk's queue is judged by the organisation as it was
 * when the person was served, at the center k stood at that day
 * (kiosk_placement). Sets r's center_id, counter_id and officer_id. The
 * counter k was fixed to is taken whatever r says, unless it was not
 * active that day (then none, logged once). While the organisation cannot
 * say (not read yet, too old, or without the center), a response naming
 * no officer, nor a counter for a kiosk not fixed to one, is taken on the
 * kiosk registry's word. */
enum org_verdict org_judge(const struct kiosk_ref *k, struct response *r,
    struct response_error *err);
/* The kiosk's context on the Vietnam day of now (µs since the epoch): the
 * members "center", "counter", "counters" and "officers" of the
 * questionnaire's reply, as one JSON object; NULL while unavailable. */
json_t *org_context(const struct kiosk_ref *k, int64_t now);

/* There is an organisation to judge by: read, or restored recently
 * enough (/healthz). */
bool org_known(void);
void org_start(void);			/* before db_start */
void org_run(struct event_base *base);	/* reads it now and then */
void org_stop(void);			/* after db_stop */
/* An organisation of centers open since always and nothing else, as if
 * the database had answered (the fuzzer). */
void org_remember_centers(const int *center_ids, size_t n);

#endif
