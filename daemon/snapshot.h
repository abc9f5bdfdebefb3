/* A snapshot of some tables, read whole from the database at start and
 * every kiosk_cache_ttl seconds, swapped in whole, and kept in state_dir
 * so that a start while the database is away serves by the last one read.
 * It serves for kiosk_offline_ttl after the last read that worked. The
 * kiosk registry and the organisation are each one; what differs (the
 * query, the rows, the text kept, the log lines) is their snapshot_kind. */
#ifndef SIPASD_SNAPSHOT_H
#define SIPASD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db.h"

/* What one kind of snapshot is. data is the kind's own, opaque here. */
struct snapshot_kind {
	const char *file;		/* its copy in state_dir */
	const char *statement;		/* the statement's name */
	const char *sql;		/* one query: one snapshot */
	const char *what;		/* "a kiosk registry", for the log */
	/* Read again every second, not every kiosk_cache_ttl, while none
	 * was read or the last read failed. */
	bool retry_each_second;
	void *(*from_result)(PGresult *res);
	char *(*dump)(const void *data);	/* the copy's text; caller frees */
	void *(*parse)(const char *text, size_t len);	/* NULL: not one */
	void (*free)(void *data);		/* accepts NULL */
	/* Restored from state_dir, as the database had it at written. */
	void (*restored)(const void *data, time_t written);
	/* Read and made current; old is the one it replaces (NULL: none), freed
	 * after; news: the first read, or the first since reads failed. */
	void (*loaded)(PGresult *res, const void *old, bool news);
	/* A read failed, or could not be sent (sent false: the database is not
	 * ready); was_failed: the one before had failed too. */
	void (*failed)(const struct db_failure *f, bool was_failed, bool sent);
	/* A read was sent at sent_us, wall clock (may be NULL). */
	void (*asked)(int64_t sent_us);
};

/* One snapshot; its fields are read-only outside snapshot.c. */
struct snapshot {
	const struct snapshot_kind *kind;
	void *current;		/* NULL until the first read */
	int64_t loaded_us;	/* when current was read, wall clock µs */
	bool reading;		/* a read is in flight */
	bool failed;		/* the last read failed: the database is away */
	struct event *tick;
	char *saved;		/* what state_dir holds, to write only changes */
};

void snapshot_start(struct snapshot *s);	/* before db_start */
/* Restores the copy in state_dir, then reads now and then. */
void snapshot_run(struct snapshot *s, struct event_base *base);
void snapshot_stop(struct snapshot *s);	/* after db_stop */
/* Sends a read, unless one is in flight. */
void snapshot_read(struct snapshot *s);
/* current may still be used: read, or restored, less than
 * kiosk_offline_ttl ago. */
bool snapshot_usable(const struct snapshot *s);
/* Makes data current as if the database had just answered (the fuzzer). */
void snapshot_set(struct snapshot *s, void *data);

#endif
