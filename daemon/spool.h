/* The spool: responses accepted while PostgreSQL cannot take them, written
 * to spool_dir and fsync'ed before their 202, replayed in order once the
 * database is back, and found again after a restart. */
#ifndef SIPASD_SPOOL_H
#define SIPASD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "commit.h"
#include "response.h"
#include "sipasd.h"

/* A response read back from the spool for replay. */
struct spooled {
	struct response resp;
	struct kiosk_ref kiosk;
	off_t end;		/* file offset just past its record */
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
/* Records not yet replayed. */
size_t spool_depth(void);
/* Reads up to max records from the replay position into out (caller frees
 * them with spool_release); returns how many. */
size_t spool_read(struct spooled **out, size_t max, const struct catalog *cat);
/* The n records read, ending with last, are in the database: move past
 * them, and empty the file once everything is replayed. */
void spool_done(const struct spooled *last, size_t n);
void spool_release(struct spooled **recs, size_t n);

#endif
