/* The spool file, DIR/responses.spool: a sequence of records, each
 *
 *	"SPL1" | payload length, u32 little-endian | first 8 bytes of the
 *	payload's SHA-256 | payload: the response and its kiosk as JSON
 *
 * appended with write() and made durable with one fdatasync() per group of
 * submissions before any of them is answered 202. Replay reads from a
 * position that moves forward as batches commit; when it reaches the end
 * the file is emptied. Replaying a record twice (after a crash mid-replay)
 * is harmless: the database answers "duplicate". */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define SPOOL_MAGIC	"SPL1"
#define HEADER_LEN	16
#define RECORD_MAX	(256 * 1024)	/* a response is at most a few KiB */

static struct {
	int fd;
	char *dir;
	char *path;
	long long max_size;
	off_t end;		/* file size: where the next record goes */
	off_t replay;		/* first record not known to be in the database */
	size_t depth;		/* records from replay to end */
} spool = { .fd = -1 };

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

/* Checks the record at off in buf (len bytes from off to the end). Returns
 * its total length, or 0 when there is no whole, intact record there. */
static size_t
record_at(const unsigned char *buf, size_t len)
{
	unsigned char d[8];
	uint32_t plen;

	if (len < HEADER_LEN || memcmp(buf, SPOOL_MAGIC, 4) != 0)
		return 0;
	plen = get_u32(buf + 4);
	if (plen == 0 || plen > RECORD_MAX || plen > len - HEADER_LEN)
		return 0;
	digest8(buf + HEADER_LEN, plen, d);
	if (memcmp(d, buf + 8, 8) != 0)
		return 0;
	return HEADER_LEN + plen;
}

static bool
sync_dir(void)
{
	int fd = open(spool.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok;

	if (fd == -1)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

static bool
read_all(int fd, unsigned char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) == -1)
		return false;
	*len = (size_t)st.st_size;
	*buf = xmalloc(*len + 1);
	while (got < *len) {
		ssize_t n = pread(fd, *buf + got, *len - got, (off_t)got);
		if (n <= 0) {
			free(*buf);
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

static bool
write_all(int fd, const unsigned char *buf, size_t len)
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

/* Keeps a damaged file for the operator and puts its readable records in a
 * fresh spool. */
static bool
set_aside(const unsigned char *buf, const size_t *starts, const size_t *lens,
    size_t nrec, char *err, size_t errlen)
{
	char *aside, *tmp;
	int fd;
	bool ok = true;

	xasprintf(&aside, "%s.damaged-%lld", spool.path, (long long)time(NULL));
	xasprintf(&tmp, "%s.new", spool.path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		ok = false;
		goto out;
	}
	for (size_t i = 0; ok && i < nrec; i++)
		ok = write_all(fd, buf + starts[i], lens[i]);
	ok = ok && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(spool.path, aside) == -1 || rename(tmp, spool.path) == -1 ||
	    !sync_dir()) {
		snprintf(err, errlen, "recovering the spool into %s: %s", tmp,
		    strerror(errno));
		ok = false;
		goto out;
	}
	log_error("spool %s was damaged; kept it as %s and recovered %zu record(s) "
	    "into a fresh spool", spool.path, aside, nrec);
out:
	free(aside);
	free(tmp);
	return ok;
}

/* Reads the whole file once: intact records are kept; a bad stretch at the
 * end is a write cut short (power loss) and is cut off; a bad stretch
 * followed by intact records is damage. */
static bool
check_file(char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len, off = 0, good_end = 0, nrec = 0, cap = 0;
	size_t *starts = NULL, *lens = NULL;
	bool damaged = false, ok = true;

	if (!read_all(spool.fd, &buf, &len)) {
		snprintf(err, errlen, "reading %s: %s", spool.path, strerror(errno));
		return false;
	}
	while (off < len) {
		size_t rl = record_at(buf + off, len - off);
		if (rl == 0) {
			/* Resynchronise on the next intact record, if any. */
			size_t next = off + 1;
			while (next < len && record_at(buf + next, len - next) == 0)
				next++;
			if (next < len) {
				log_error("spool %s: damaged bytes %zu to %zu",
				    spool.path, off, next);
				damaged = true;
			}
			off = next;
			continue;
		}
		if (nrec == cap) {
			cap = cap ? cap * 2 : 64;
			starts = xreallocarray(starts, cap, sizeof *starts);
			lens = xreallocarray(lens, cap, sizeof *lens);
		}
		starts[nrec] = off;
		lens[nrec++] = rl;
		off += rl;
		good_end = off;
	}
	if (damaged) {
		ok = set_aside(buf, starts, lens, nrec, err, errlen);
		if (ok) {
			close(spool.fd);
			spool.fd = open(spool.path, O_RDWR | O_APPEND | O_CLOEXEC);
			ok = spool.fd != -1;
		}
		good_end = 0;
		for (size_t i = 0; i < nrec; i++)
			good_end += lens[i];
	} else if (good_end < len) {
		log_warn("spool %s: an incomplete record at byte %zu (a write cut "
		    "short); dropping its %zu byte(s)", spool.path, good_end,
		    len - good_end);
		if (ftruncate(spool.fd, (off_t)good_end) == -1 || fsync(spool.fd) == -1) {
			snprintf(err, errlen, "truncating %s: %s", spool.path,
			    strerror(errno));
			ok = false;
		}
	}
	spool.end = (off_t)good_end;
	spool.replay = 0;
	spool.depth = nrec;
	free(starts);
	free(lens);
	free(buf);
	return ok;
}

bool
spool_open(const char *dir, long long max_size, char *err, size_t errlen)
{
	spool.dir = xstrdup(dir);
	xasprintf(&spool.path, "%s/responses.spool", dir);
	spool.max_size = max_size;
	spool.fd = open(spool.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (spool.fd == -1 || !sync_dir()) {
		snprintf(err, errlen, "spool %s: %s", spool.path, strerror(errno));
		spool_close();
		return false;
	}
	if (!check_file(err, errlen)) {
		spool_close();
		return false;
	}
	if (spool.depth > 0)
		log_info("spool %s holds %zu response(s) to replay", spool.path,
		    spool.depth);
	return true;
}

void
spool_close(void)
{
	if (spool.fd != -1)
		close(spool.fd);
	spool.fd = -1;
	free(spool.dir);
	free(spool.path);
	spool.dir = spool.path = NULL;
	spool.end = spool.replay = 0;
	spool.depth = 0;
}

size_t
spool_depth(void)
{
	return spool.depth;
}

static unsigned char *
encode(const struct submission *s, size_t *len)
{
	const struct kiosk_ref *k = s->kiosk;
	json_t *rec = response_to_record(s->resp);
	unsigned char *buf;
	char *payload;
	size_t plen;

	json_object_set_new(rec, "kiosk", json_integer(k->id));
	json_object_set_new(rec, "kiosk_code", json_string(k->code));
	json_object_set_new(rec, "center", json_integer(k->center_id));
	payload = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	plen = strlen(payload);
	buf = xmalloc(HEADER_LEN + plen);
	memcpy(buf, SPOOL_MAGIC, 4);
	put_u32(buf + 4, (uint32_t)plen);
	digest8((unsigned char *)payload, plen, buf + 8);
	memcpy(buf + HEADER_LEN, payload, plen);
	free(payload);
	*len = HEADER_LEN + plen;
	return buf;
}

bool
spool_append(struct submission *const *subs, size_t n)
{
	off_t start = spool.end;
	bool ok = true;

	if (spool.fd == -1)
		return false;
	for (size_t i = 0; ok && i < n; i++) {
		size_t len;
		unsigned char *rec = encode(subs[i], &len);
		if (spool.end + (off_t)len > spool.max_size) {
			log_error("spool %s is full (spool_max_size %lld); refusing "
			    "responses", spool.path, spool.max_size);
			ok = false;
		} else if (!write_all(spool.fd, rec, len)) {
			log_error("spool %s: write failed: %s", spool.path,
			    strerror(errno));
			ok = false;
		} else {
			spool.end += (off_t)len;
		}
		free(rec);
	}
	if (ok && fdatasync(spool.fd) == -1) {
		log_error("spool %s: fdatasync failed: %s", spool.path, strerror(errno));
		ok = false;
	}
	if (!ok) {
		/* Promise nothing: drop whatever part of the group was written. */
		if (ftruncate(spool.fd, start) == -1)
			log_error("spool %s: cannot cut back a failed write: %s",
			    spool.path, strerror(errno));
		spool.end = start;
		return false;
	}
	spool.depth += n;
	return true;
}

size_t
spool_read(struct spooled **out, size_t max, const struct catalog *cat)
{
	unsigned char header[HEADER_LEN], *payload;
	off_t off = spool.replay;
	size_t n = 0;

	while (n < max && off < spool.end) {
		json_t *rec;
		json_error_t jerr;
		uint32_t plen;
		struct spooled *sp;

		if (pread(spool.fd, header, HEADER_LEN, off) != HEADER_LEN)
			break;
		plen = get_u32(header + 4);
		payload = xmalloc(plen + 1);
		if (pread(spool.fd, payload, plen, off + HEADER_LEN) != (ssize_t)plen) {
			free(payload);
			break;
		}
		sp = xcalloc(1, sizeof *sp);
		sp->end = off + HEADER_LEN + plen;
		rec = json_loadb((char *)payload, plen, 0, &jerr);
		free(payload);
		if (rec == NULL || !response_from_record(&sp->resp, rec, cat) ||
		    json_unpack(rec, "{s:i, s:i}", "kiosk", &sp->kiosk.id,
		    "center", &sp->kiosk.center_id) != 0) {
			log_error("spool %s: record at byte %lld cannot be replayed "
			    "(unknown questionnaire or area?); it stays in the file",
			    spool.path, (long long)off);
			json_decref(rec);
			free(sp);
			break;
		}
		snprintf(sp->kiosk.code, sizeof sp->kiosk.code, "%s",
		    json_string_value(json_object_get(rec, "kiosk_code")) ?
		    json_string_value(json_object_get(rec, "kiosk_code")) : "-");
		json_decref(rec);
		out[n++] = sp;
		off = sp->end;
	}
	return n;
}

void
spool_done(const struct spooled *last, size_t n)
{
	spool.replay = last->end;
	spool.depth -= n < spool.depth ? n : spool.depth;
	if (spool.replay < spool.end)
		return;
	if (ftruncate(spool.fd, 0) == -1 || fdatasync(spool.fd) == -1) {
		log_error("spool %s: cannot empty it: %s", spool.path,
		    strerror(errno));
		return;
	}
	spool.replay = spool.end = 0;
	spool.depth = 0;
	log_info("spool %s replayed completely", spool.path);
}

void
spool_release(struct spooled **recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		response_clear(&recs[i]->resp);
		free(recs[i]);
	}
}
