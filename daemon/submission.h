/* A response on its way to the database, and what became of it. Shared by
 * the group commit, which stores submissions, and the spool, which keeps
 * them when the database cannot: neither needs the other's header. */
#ifndef SIPASD_SUBMISSION_H
#define SIPASD_SUBMISSION_H

#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

struct response;
struct kiosk_ref;

/* What became of a response. Those before OUTCOME_UNAVAILABLE are counted
 * in /metrics. */
enum outcome {
	OUTCOME_STORED,		/* inserted now */
	OUTCOME_DUPLICATE,	/* stored before with the same content */
	OUTCOME_CONFLICT,	/* stored before with other content */
	OUTCOME_DOSSIER_RATED,	/* another id rated its dossier already */
	OUTCOME_SPOOLED,	/* in the spool, fsync'ed: stored later */
	OUTCOME_UNAVAILABLE,	/* neither stored nor spooled: send it again */
	OUTCOME_COUNT
};

struct submission {
	TAILQ_ENTRY(submission) entry;	/* on the commit queue */
	const struct response *resp;	/* borrowed until done is called */
	const struct kiosk_ref *kiosk;	/* borrowed until done is called */
	void (*done)(struct submission *s, enum outcome o);
	void *arg;
	struct timespec queued;
	int64_t received_at;		/* µs since the epoch, wall clock */
};

#endif
