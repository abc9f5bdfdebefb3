/* A spool record, the framing of both DIR/responses.spool and
 * DIR/responses.aside:
 *
 *	"SPL1" | payload length, u32 little-endian | first 8 bytes of the
 *	payload's SHA-256 | payload: JSON
 *
 * made, checked and read back here, with the plain I/O they need. Nothing
 * here knows which file or what the payload means. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "spool-record.h"
#include "xmalloc.h"

#define SPOOL_MAGIC	"SPL1"
#define RECORD_MAX	(256 * 1024)	/* a response is at most a few KiB */

static void
digest8(const unsigned char *payload, size_t len, unsigned char out[8])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	EVP_Digest(payload, len, md, &mdlen, EVP_sha256(), NULL);
	memcpy(out, md, 8);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

size_t
spool_record_check(const unsigned char *buf, size_t len)
{
	unsigned char d[8];
	uint32_t plen;

	if (len < SPOOL_RECORD_HEADER || memcmp(buf, SPOOL_MAGIC, 4) != 0)
		return 0;
	plen = get_u32(buf + 4);
	if (plen == 0 || plen > RECORD_MAX || plen > len - SPOOL_RECORD_HEADER)
		return 0;
	digest8(buf + SPOOL_RECORD_HEADER, plen, d);
	if (memcmp(d, buf + 8, 8) != 0)
		return 0;
	return SPOOL_RECORD_HEADER + plen;
}

bool
spool_record_write(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

unsigned char *
spool_record_frame(json_t *doc, size_t *len)
{
	char *payload = json_dumps(doc, JSON_COMPACT);
	unsigned char *buf;
	size_t plen;

	json_decref(doc);
	if (payload == NULL)
		return NULL;
	plen = strlen(payload);
	buf = xmalloc(SPOOL_RECORD_HEADER + plen);
	memcpy(buf, SPOOL_MAGIC, 4);
	put_u32(buf + 4, (uint32_t)plen);
	digest8((unsigned char *)payload, plen, buf + 8);
	memcpy(buf + SPOOL_RECORD_HEADER, payload, plen);
	free(payload);
	*len = SPOOL_RECORD_HEADER + plen;
	return buf;
}

bool
spool_record_pread(int fd, off_t off, unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, off);
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return true;
}

size_t
spool_record_read(int fd, off_t off, off_t end, unsigned char **buf)
{
	unsigned char header[SPOOL_RECORD_HEADER];
	size_t plen;

	*buf = NULL;
	if (end - off < SPOOL_RECORD_HEADER ||
	    !spool_record_pread(fd, off, header, SPOOL_RECORD_HEADER) ||
	    memcmp(header, SPOOL_MAGIC, 4) != 0)
		return 0;
	plen = get_u32(header + 4);
	if (plen == 0 || plen > RECORD_MAX ||
	    (off_t)plen > end - off - SPOOL_RECORD_HEADER)
		return 0;
	*buf = xmalloc(SPOOL_RECORD_HEADER + plen + 1);
	if (!spool_record_pread(fd, off, *buf, SPOOL_RECORD_HEADER + plen) ||
	    spool_record_check(*buf, SPOOL_RECORD_HEADER + plen) == 0) {
		free(*buf);
		*buf = NULL;
		return 0;
	}
	(*buf)[SPOOL_RECORD_HEADER + plen] = '\0';
	return SPOOL_RECORD_HEADER + plen;
}

off_t
spool_record_next(int fd, off_t off, off_t end)
{
	unsigned char *buf;

	for (off++; off < end; off++) {
		if (spool_record_read(fd, off, end, &buf) > 0) {
			free(buf);
			return off;
		}
	}
	return end;
}
