/* Group commit: validated responses from every connection are queued and
 * written together, one transaction per batch, while earlier batches are
 * still committing on the pipelined connections. When the database cannot
 * take them, they go to the spool instead (202). */
#ifndef SIPASD_COMMIT_H
#define SIPASD_COMMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

struct response;
struct kiosk_ref;

struct submission {
	TAILQ_ENTRY(submission) entry;	/* on the commit queue */
	const struct response *resp;	/* borrowed until done is called */
	const struct kiosk_ref *kiosk;	/* borrowed until done is called */
	/* status: 201 stored, 200 duplicate, 409 conflict, 202 spooled, 503 */
	void (*done)(struct submission *s, int status);
	void *arg;
	struct timespec queued;
	int64_t received_at;		/* µs since the epoch, wall clock */
};

void commit_start(struct event_base *base);
/* Queues s; s->done is called later from the event loop, never from here. */
void commit_submit(struct submission *s);
/* At the shutdown deadline: everything queued or in flight is spooled and
 * answered 202 (or 503 when the spool cannot take it). */
void commit_abandon(void);
bool commit_idle(void);
void commit_stop(void);

#endif
