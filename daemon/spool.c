/* The spool file, DIR/responses.spool: a sequence of records (framed as
 * spool-record.c says), each payload the response and its kiosk as JSON,
 * appended with write() and made durable with one fdatasync() per group of
 * submissions before any of them is answered 202. Replay reads from a
 * position that moves forward as groups commit; when it reaches the end
 * the file is emptied. Replaying a record twice (after a crash mid-replay)
 * is harmless: the database answers "duplicate".
 *
 * A record that cannot be stored (its bytes damaged, its questionnaire or
 * area gone, refused by the database, its kiosk revoked before it came) is
 * never dropped and never blocks the records after it: it is set aside,
 * with the reason, in DIR/responses.aside (records of the same framing,
 * each payload {"reason", "set_aside_at", "spool_offset", "record" or
 * "bytes"}), for a person to look at with sipasd --spool-inspect
 * (spool-inspect.c).
 *
 * The directory is one daemon's: sipasd holds a write lock (fcntl) on
 * DIR/lock while it runs, so that a second one pointed at it (two nodes sharing a
 * volume, a copied configuration) refuses to start instead of interleaving
 * its appends and replays with the first's. */
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
#include "spool-record.h"
#include "spool.h"
#include "xmalloc.h"

#define ASIDE_CHUNK	(64 * 1024)	/* damaged bytes kept per aside record */

static struct {
	int fd;
	int aside_fd;		/* DIR/responses.aside, opened when first needed */
	int lock_fd;		/* DIR/lock, write-locked while we run */
	char *dir;
	char *path;
	char *aside_path;
	long long max_size;
	off_t end;		/* file size: where the next record goes */
	off_t replay;		/* first record not known to be in the database */
	size_t depth;		/* records from replay to end */
	size_t aside;		/* records set aside since start-up */
} spool = { .fd = -1, .aside_fd = -1, .lock_fd = -1 };

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

/* Keeps a damaged file for the operator and puts its readable records in a
 * fresh spool. */
static bool
keep_damaged_file(const unsigned char *buf, const size_t *starts, const size_t *lens,
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
		ok = spool_record_write(fd, buf + starts[i], lens[i]);
	ok = ok && fsync(fd) == 0;
	close(fd);
	/* A link, not a rename: at every moment responses.spool holds either
	 * the damaged file or the recovered one, never nothing. */
	if (!ok || link(spool.path, aside) == -1 || rename(tmp, spool.path) == -1 ||
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
		size_t rl = spool_record_check(buf + off, len - off);
		if (rl == 0) {
			/* Resynchronise on the next intact record, if any. */
			size_t next = off + 1;
			while (next < len &&
			    spool_record_check(buf + next, len - next) == 0)
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
		ok = keep_damaged_file(buf, starts, lens, nrec, err, errlen);
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

/* A POSIX record lock on DIR/lock, a regular file opened read-write: it
 * holds on NFS too (a flock on a directory opened read-only fails there
 * with EBADF). It goes with the process: released when sipasd exits,
 * however. */
static bool
lock_dir(char *err, size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char *path;

	xasprintf(&path, "%s/lock", spool.dir);
	spool.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (spool.lock_fd == -1) {
		snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
		free(path);
		return false;
	}
	free(path);
	if (fcntl(spool.lock_fd, F_SETLK, &fl) == 0)
		return true;
	if (errno == EACCES || errno == EAGAIN)
		snprintf(err, errlen, "spool directory %s is in use by another "
		    "sipasd: each node needs a spool_dir of its own", spool.dir);
	else
		snprintf(err, errlen, "spool %s: cannot lock: %s", spool.dir,
		    strerror(errno));
	return false;
}

bool
spool_open(const char *dir, long long max_size, char *err, size_t errlen)
{
	spool.dir = xstrdup(dir);
	xasprintf(&spool.path, "%s/responses.spool", dir);
	xasprintf(&spool.aside_path, "%s/responses.aside", dir);
	spool.max_size = max_size;
	if (!lock_dir(err, errlen)) {
		spool_close();
		return false;
	}
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
	if (spool.aside_fd != -1)
		close(spool.aside_fd);
	if (spool.lock_fd != -1)
		close(spool.lock_fd);
	spool.fd = spool.aside_fd = spool.lock_fd = -1;
	free(spool.dir);
	free(spool.path);
	free(spool.aside_path);
	spool.dir = spool.path = spool.aside_path = NULL;
	spool.end = spool.replay = 0;
	spool.depth = spool.aside = 0;
}

bool
spool_writable(void)
{
	return spool.fd != -1 && spool.end < spool.max_size;
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

	json_object_set_new(rec, "kiosk", json_integer(k->id));
	json_object_set_new(rec, "kiosk_code", json_string(k->code));
	/* What was judged at receipt, the 202's promise: stored as it is,
	 * whatever the registry and the organisation say by the replay. */
	json_object_set_new(rec, "center", json_integer(s->resp->center_id));
	json_object_set_new(rec, "counter_id", json_integer(s->resp->counter_id));
	json_object_set_new(rec, "officer_id", json_integer(s->resp->officer_id));
	json_object_set_new(rec, "received_at", json_integer(s->received_at));
	return spool_record_frame(rec, len);
}

static size_t count_records(off_t from, off_t to);

/* The true end of the file, when a failed write could not be cut back:
 * what lies between is replayed or set aside, never cut off unread. */
static void
resync_end(void)
{
	struct stat st;

	if (fstat(spool.fd, &st) == 0 && st.st_size != spool.end) {
		log_error("spool %s ends at byte %lld, not %lld: the bytes between "
		    "will be replayed or set aside", spool.path,
		    (long long)st.st_size, (long long)spool.end);
		spool.depth += count_records(spool.end, st.st_size);
		spool.end = st.st_size;
	}
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
		if (rec == NULL) {
			log_error("spool %s: cannot encode response %s", spool.path,
			    subs[i]->resp->id);
			ok = false;
		} else if (spool.end + (off_t)len > spool.max_size) {
			log_error("spool %s is full (spool_max_size %lld); refusing "
			    "responses", spool.path, spool.max_size);
			ok = false;
		} else if (!spool_record_write(spool.fd, rec, len)) {
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
		spool.end = start;
		if (ftruncate(spool.fd, start) == -1) {
			log_error("spool %s: cannot cut back a failed write: %s",
			    spool.path, strerror(errno));
			resync_end();
		}
		return false;
	}
	spool.depth += n;
	return true;
}

/* Records, and stretches of damage, from from to to: one each. */
static size_t
count_records(off_t from, off_t to)
{
	size_t n = 0;
	unsigned char *buf;

	while (from < to) {
		size_t len = spool_record_read(spool.fd, from, to, &buf);
		free(buf);
		from = len > 0 ? from + (off_t)len :
		    spool_record_next(spool.fd, from, to);
		n++;
	}
	return n;
}

/* Opened when first needed, and again if the operator has moved or
 * deleted the file since: what is set aside must land in a file that is
 * there, its directory entry synced. */
static bool
aside_open(void)
{
	struct stat a, b;

	if (spool.aside_fd != -1 && (fstat(spool.aside_fd, &a) == -1 ||
	    stat(spool.aside_path, &b) == -1 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)) {
		close(spool.aside_fd);
		spool.aside_fd = -1;
	}
	if (spool.aside_fd != -1)
		return true;
	spool.aside_fd = open(spool.aside_path, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600);
	if (spool.aside_fd == -1 || !sync_dir()) {
		log_error("spool: cannot open %s: %s", spool.aside_path,
		    strerror(errno));
		if (spool.aside_fd != -1)
			close(spool.aside_fd);
		spool.aside_fd = -1;
		return false;
	}
	return true;
}

/* Keeps bytes (a record's payload when payload is true, else damaged
 * bytes) with the reason, durably, before the spool may move past them. */
static bool
keep_aside(const unsigned char *bytes, size_t len, bool payload, off_t off,
    const char *reason)
{
	char when[32];
	time_t now = time(NULL);
	json_t *doc, *rec = NULL;
	unsigned char *framed;
	size_t flen;
	bool ok;

	if (!aside_open())
		return false;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	doc = json_pack("{s:s, s:s, s:I}", "reason", reason, "set_aside_at", when,
	    "spool_offset", (json_int_t)off);
	if (payload)
		rec = json_loadb((const char *)bytes, len, 0, NULL);
	if (rec != NULL) {
		json_object_set_new(doc, "record", rec);
	} else {
		/* Not JSON (damage): its bytes, so that nothing is lost. */
		char *b64 = xmalloc(4 * ((len + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)b64, bytes, (int)len);
		json_object_set_new(doc, "bytes", json_string(b64));
		free(b64);
	}
	if ((framed = spool_record_frame(doc, &flen)) == NULL)
		return false;
	{
		struct stat st;
		off_t before = fstat(spool.aside_fd, &st) == 0 ? st.st_size : -1;
		ok = before >= 0 && spool_record_write(spool.aside_fd, framed, flen) &&
		    fdatasync(spool.aside_fd) == 0;
		/* A torn record in the aside file would read as damage. */
		if (!ok && before >= 0 && ftruncate(spool.aside_fd, before) == -1)
			log_error("spool: cannot cut back %s", spool.aside_path);
	}
	free(framed);
	if (!ok) {
		log_error("spool: cannot write to %s: %s; the record stays in the "
		    "spool", spool.aside_path, strerror(errno));
		return false;
	}
	spool.aside++;
	log_error("spool %s: record at byte %lld set aside in %s: %s", spool.path,
	    (long long)off, spool.aside_path, reason);
	return true;
}

bool
spool_set_aside(const struct spooled *rec, const char *reason)
{
	unsigned char *buf;
	size_t len = spool_record_read(spool.fd, rec->start, spool.end, &buf);
	bool ok;

	if (len == 0) {
		log_error("spool %s: record at byte %lld cannot be read again",
		    spool.path, (long long)rec->start);
		return false;
	}
	ok = keep_aside(buf + SPOOL_RECORD_HEADER, len - SPOOL_RECORD_HEADER,
	    true, rec->start, reason);
	free(buf);
	return ok;
}

size_t
spool_aside_count(void)
{
	return spool.aside;
}

static bool
decode(struct spooled *sp, const unsigned char *payload, size_t plen,
    const struct catalog *cat)
{
	json_error_t jerr;
	json_t *rec = json_loadb((const char *)payload, plen, 0, &jerr);
	json_int_t kiosk, center, received = 0, fixed = 0, counter = -1,
	    officer = 0;
	const char *code = NULL;
	bool ok;

	/* Records before protocol 1.1 have no counter; the first ones of
	 * 1.1 only the counter the kiosk was fixed to (kiosk_counter), the
	 * one they are stored with. */
	ok = rec != NULL && json_unpack(rec, "{s:I, s:I, s?s, s?I, s?I, s?I, s?I}",
	    "kiosk", &kiosk, "center", &center, "kiosk_code", &code,
	    "received_at", &received, "kiosk_counter", &fixed, "counter_id",
	    &counter, "officer_id", &officer) == 0 && kiosk > 0 &&
	    kiosk <= INT32_MAX && center > 0 && center <= INT32_MAX &&
	    fixed >= 0 && fixed <= INT32_MAX && counter >= -1 &&
	    counter <= INT32_MAX && officer >= 0 && officer <= INT32_MAX &&
	    response_from_record(&sp->resp, rec, cat);
	if (ok) {
		sp->kiosk.id = (int)kiosk;
		sp->kiosk.center_id = (int)center;
		sp->kiosk.counter_id = (int)fixed;
		sp->resp.center_id = (int)center;
		sp->resp.counter_id = (int)(counter >= 0 ? counter : fixed);
		sp->resp.officer_id = (int)officer;
		snprintf(sp->kiosk.code, sizeof sp->kiosk.code, "%s", code ? code : "-");
		sp->received_at = received;
	}
	json_decref(rec);
	return ok;
}

/* Moves the replay position past a record set aside at its head. */
static void
skip_head(off_t to)
{
	spool.replay = to;
	spool.depth -= spool.depth > 0;
}

size_t
spool_read(struct spooled **out, size_t max, const struct catalog *cat,
    struct spool_mark *mark)
{
	off_t off = spool.replay;
	size_t n = 0;

	/* What cannot be read back is set aside only at the replay position,
	 * which then moves past it at once: a retry of the batch, or a
	 * restart, cannot set it aside a second time. */
	while (n < max && off < spool.end) {
		unsigned char *buf;
		size_t len = spool_record_read(spool.fd, off, spool.end, &buf);
		struct spooled *sp;

		if (len == 0) {
			/* Damage since the file was opened (a write that could
			 * not be cut back): keep the bytes, go on after them. */
			off_t next = spool_record_next(spool.fd, off, spool.end);
			bool ok = true;
			if (n > 0)
				break;
			for (off_t at = off; ok && at < next; at += ASIDE_CHUNK) {
				size_t chunk = next - at < ASIDE_CHUNK ?
				    (size_t)(next - at) : ASIDE_CHUNK;
				unsigned char *bytes = xmalloc(chunk);
				ok = spool_record_pread(spool.fd, at, bytes, chunk) &&
				    keep_aside(bytes, chunk, false, at, "damaged bytes");
				free(bytes);
			}
			if (!ok)
				break;
			skip_head(next);
			off = next;
			continue;
		}
		sp = xcalloc(1, sizeof *sp);
		sp->start = off;
		sp->end = off + (off_t)len;
		if (!decode(sp, buf + SPOOL_RECORD_HEADER,
		    len - SPOOL_RECORD_HEADER, cat)) {
			bool ok = n == 0 && keep_aside(buf + SPOOL_RECORD_HEADER,
			    len - SPOOL_RECORD_HEADER, true, off, "cannot be read back: its "
			    "questionnaire or service area is unknown or changed, or "
			    "its fields are wrong");
			free(buf);
			free(sp);
			if (!ok)
				break;
			skip_head(off + (off_t)len);
		} else {
			free(buf);
			out[n++] = sp;
		}
		off += (off_t)len;
	}
	mark->end = n > 0 ? out[n - 1]->end : spool.replay;
	mark->consumed = n;
	return n;
}

bool
spool_pending(void)
{
	return spool.replay < spool.end;
}

void
spool_done(const struct spool_mark *mark)
{
	struct stat st;

	spool.replay = mark->end;
	spool.depth -= mark->consumed < spool.depth ? mark->consumed : spool.depth;
	if (spool.replay < spool.end)
		return;
	/* Emptied only when the file holds nothing past what was replayed. */
	if (fstat(spool.fd, &st) == -1 || st.st_size != spool.end) {
		resync_end();
		return;
	}
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

