/* The spool: responses accepted while PostgreSQL cannot take them, written
 * to spool_dir and fsync'ed before their 202, replayed in order once the
 * database is back (replay.c), and found again after a restart. spool.c
 * holds the file and what it sets aside; spool-inspect.c the operator's
 * view; spool-record.c the framing both use. */
#ifndef SIPASD_SPOOL_H
#define SIPASD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kiosk.h"
#include "response.h"
#include "submission.h"

/* A response read back from the spool for replay. */
struct spooled {
	struct response resp;
	struct kiosk_ref kiosk;
	int64_t received_at;	/* µs since the epoch; 0 in records before 0.9 */
	off_t start, end;	/* its record's place in the file */
};

/* How far a spool_read went: the spool moves there once the records it
 * returned are stored (records set aside on the way included). */
struct spool_mark {
	off_t end;
	size_t consumed;	/* records read or set aside */
};

/* Opens (creating) DIR/responses.spool and checks every record: a torn
 * record at the end is cut off; a damaged record elsewhere makes the file
 * be kept aside as responses.spool.damaged-TIME and its readable records
 * copied to a fresh spool. max_size bounds the file. */
bool spool_open(const char *dir, long long max_size, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void spool_close(void);
/* Appends one record per submission and fdatasyncs once. False, with
 * nothing promised, when the spool is full or the write failed. */
bool spool_append(struct submission *const *subs, size_t n)
    __attribute__((warn_unused_result));
/* Records not yet replayed (for /metrics). */
size_t spool_depth(void);
/* The spool is open and not full: a response may be spooled (/readyz). */
bool spool_writable(void);
/* Something is left to replay: what replay goes by, not the count. */
bool spool_pending(void);
/* Reads up to max records from the replay position into out (caller frees
 * them with spool_release); returns how many, and in mark how far they
 * go. A record that cannot be decoded, or damage, at the replay position is
 * set aside and passed at once; after a record returned, it ends the read. */
size_t spool_read(struct spooled **out, size_t max, const struct catalog *cat,
    struct spool_mark *mark);
/* Keeps rec's bytes and the reason in DIR/responses.aside, fsync'ed. False
 * when that failed: then rec must stay in the spool. Only for a record at
 * the replay position, passed right after with spool_done. */
bool spool_set_aside(const struct spooled *rec, const char *reason)
    __attribute__((warn_unused_result));
/* Records set aside since start-up. */
size_t spool_aside_count(void);
/* What spool_read returned is in the database, or set aside: move past
 * it, and empty the file once everything is replayed. */
void spool_done(const struct spool_mark *mark);
void spool_release(struct spooled **recs, size_t n);
/* For the operator: every record of DIR's spool and of what was set
 * aside, one JSON object a line, on out. Read-only; safe while sipasd
 * runs. */
bool spool_inspect(const char *dir, FILE *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
