/* The spool's record framing (spool-record.c), shared by the spool, what
 * it sets aside, and the operator's inspection. */
#ifndef SIPASD_SPOOL_RECORD_H
#define SIPASD_SPOOL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define SPOOL_RECORD_HEADER 16	/* magic, length, digest */

/* A record around doc, which it takes; NULL if doc cannot be written. */
unsigned char *spool_record_frame(json_t *doc, size_t *len);
/* The length of the whole, intact record at the start of buf (len bytes),
 * or 0 when there is none there. */
size_t spool_record_check(const unsigned char *buf, size_t len);
/* The intact record at off, read whole into *buf (caller frees; NUL after
 * it); its length, or 0 when there is none before end. */
size_t spool_record_read(int fd, off_t off, off_t end, unsigned char **buf);
/* Where the next intact record after the damage at off starts, or end. */
off_t spool_record_next(int fd, off_t off, off_t end);
bool spool_record_pread(int fd, off_t off, unsigned char *buf, size_t len)
    __attribute__((warn_unused_result));
/* All of buf, retrying on EINTR. */
bool spool_record_write(int fd, const unsigned char *buf, size_t len)
    __attribute__((warn_unused_result));

#endif
