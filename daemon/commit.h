/* Group commit: validated responses from every connection are queued and
 * written together, one transaction per group, while earlier groups are
 * still committing on the pipelined connections. When the database cannot
 * take them, they go to the spool instead. Each submission's done is told
 * its outcome; what that means on the wire is the caller's business. */
#ifndef SIPASD_COMMIT_H
#define SIPASD_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

#include "spool.h"
#include "submission.h"

struct db_failure;

void commit_start(struct event_base *base);
/* Queues s; s->done is called later from the event loop, never from here. */
void commit_submit(struct submission *s);
/* At the shutdown deadline: everything queued or in flight is spooled
 * (OUTCOME_SPOOLED, or OUTCOME_UNAVAILABLE when the spool cannot take it). */
void commit_abandon(void);
bool commit_idle(void);
void commit_stop(void);

/* --- for the spool's replay (replay.c), which calls this file and is
 * called back only through commit_group_ops and commit_set_replay --- */

struct commit_group;

/* How a group ended, told to whoever made it; commit.c frees it after. */
struct commit_group_ops {
	/* Every item has its outcome (counted in the metrics already). */
	void (*committed)(struct commit_group *g);
	/* The INSERT failed: f says whether that may pass. */
	void (*failed)(struct commit_group *g, const struct db_failure *f);
	/* The INSERT committed but the lookup of the ids it did not insert
	 * failed; NULL to take it as committed, those items unavailable. */
	void (*unknown)(struct commit_group *g, const struct db_failure *f);
};

/* The items of one INSERT, one transaction. */
struct commit_group {
	TAILQ_ENTRY(commit_group) entry;	/* on the groups in flight */
	const struct commit_group_ops *ops;
	size_t n;
	struct submission **subs;	/* live submissions, or */
	struct spooled **recs;		/* records replayed from the spool */
	struct spool_mark mark;		/* where the spool moves once they are in */
	enum outcome *outcome;		/* per item; unavailable until the
					 * database says otherwise */
	bool abandoned;			/* answered already, at shutdown */
	struct timespec sent;
};

/* Sends g (recs, n, ops and mark set; taken when true). */
bool commit_group_send(struct commit_group *g) __attribute__((warn_unused_result));
/* Frees g, releasing its records; for one never sent. */
void commit_group_free(struct commit_group *g);
/* A replay group may be sent: none is in flight, and a slot is free. */
bool commit_replay_room(void);
/* Runs a flush soon, at the end of this loop iteration. */
void commit_flush_soon(void);
/* replay runs at the end of every flush, once the live queue has had its
 * turn. */
void commit_set_replay(void (*replay)(void));

#endif
