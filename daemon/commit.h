/* Group commit: validated responses from every connection are queued and
 * written together, one transaction per group, while earlier groups are
 * still committing on the pipelined connections. When the database cannot
 * take them, they go to the spool instead. Each submission's done is told
 * its outcome; what that means on the wire is the caller's business. */
#ifndef SIPASD_COMMIT_H
#define SIPASD_COMMIT_H

#include <stdbool.h>

#include <event2/event.h>

#include "submission.h"

void commit_start(struct event_base *base);
/* Queues s; s->done is called later from the event loop, never from here. */
void commit_submit(struct submission *s);
/* At the shutdown deadline: everything queued or in flight is spooled
 * (OUTCOME_SPOOLED, or OUTCOME_UNAVAILABLE when the spool cannot take it). */
void commit_abandon(void);
bool commit_idle(void);
void commit_stop(void);

#endif
