/* The spool: what is appended comes back after a restart, in order; a torn
 * tail is cut off; damage in the middle keeps the file aside; a full spool
 * or disk refuses and promises nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "fixture.h"
#include "log.h"
#include "spool.h"

#define NRESP 5

static char dir[64], path[96];
static struct response resps[NRESP];
static struct kiosk_ref kiosk = { 7, 3, 0, "K7", 0 };
static struct submission subs[NRESP];
static struct submission *ptrs[NRESP];

static off_t
file_size(void)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* A disk that fills when the file reaches size bytes, until disk_frees. */
static struct rlimit fsize;

static void
disk_fills_at(off_t size)
{
	struct rlimit lim;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &fsize), 0);
	lim = fsize;
	lim.rlim_cur = (rlim_t)size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void
disk_frees(void)
{
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &fsize), 0);
}

static int
setup_each(void **state)
{
	struct response_limits lim = { 1795659362LL * 1000000, 90LL * 86400 * 1000000 };
	struct response_error err;
	char text[1024];

	snprintf(dir, sizeof dir, "/tmp/sipas-spool-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/responses.spool", dir);
	for (int i = 0; i < NRESP; i++) {
		snprintf(text, sizeof text, "{\"id\": \"0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d%02d\","
		    "\"questionnaire\": \"quay-2023\", \"submitted_at\": "
		    "\"2026-11-26T09:15:02+07:00\", \"service_area\": \"ho-tich\","
		    "\"answers\": {\"QYTD\": %d, \"QYHD\": null, \"QYTG\": 3},"
		    "\"comment\": \"góp ý số %d\", \"respondent\": {\"gender\": \"male\"}}",
		    i, 1 + i % 3, i);
		json_t *doc = response_json_load(text, strlen(text), &err);
		assert_non_null(doc);
		assert_true(response_from_json(&resps[i], doc, cat, &lim, &err));
		json_decref(doc);
		resps[i].center_id = kiosk.center_id;	/* judged at receipt */
		subs[i].resp = &resps[i];
		subs[i].kiosk = &kiosk;
		ptrs[i] = &subs[i];
	}
	return 0;
}

static int
teardown_each(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	spool_close();
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	for (int i = 0; i < NRESP; i++)
		response_clear(&resps[i]);
	return 0;
}

static void
open_spool(long long max)
{
	char err[256];

	if (!spool_open(dir, max, err, sizeof err))
		fail_msg("spool_open: %s", err);
}

/* Reads everything and checks it is responses first..first+n-1. */
static void
expect_records(int first, size_t n)
{
	struct spooled *recs[NRESP + 1];
	struct spool_mark mark;
	size_t got = spool_read(recs, NRESP + 1, cat, &mark);

	assert_int_equal(got, n);
	for (size_t i = 0; i < got; i++) {
		const struct response *want = &resps[first + (int)i];
		assert_string_equal(recs[i]->resp.id, want->id);
		assert_memory_equal(recs[i]->resp.hash, want->hash, RESPONSE_HASH_LEN);
		assert_int_equal(recs[i]->resp.answers[0], want->answers[0]);
		assert_int_equal(recs[i]->resp.answers[1], RESPONSE_NA);
		assert_string_equal(recs[i]->resp.comment, want->comment);
		assert_string_equal(recs[i]->resp.gender, "male");
		assert_int_equal(recs[i]->kiosk.id, 7);
		assert_int_equal(recs[i]->kiosk.center_id, 3);
		assert_string_equal(recs[i]->kiosk.code, "K7");
	}
	spool_release(recs, got);
}

static void
test_records_come_back_in_order_after_a_restart(void **state)
{
	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 3));
	assert_true(spool_append(ptrs + 3, 2));
	assert_int_equal(spool_depth(), 5);
	spool_close();
	open_spool(1 << 20);
	assert_int_equal(spool_depth(), 5);
	expect_records(0, 5);
}

static void
test_replay_moves_forward_and_empties_the_file_at_the_end(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 5));
	assert_int_equal(spool_read(recs, 2, cat, &mark), 2);
	spool_done(&mark);
	spool_release(recs, 2);
	assert_int_equal(spool_depth(), 3);
	expect_records(2, 3);
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 3);
	spool_done(&mark);
	spool_release(recs, 3);
	assert_int_equal(spool_depth(), 0);
	assert_int_equal(file_size(), 0);
}

static void
test_torn_tail_is_cut_off_and_earlier_records_kept(void **state)
{
	off_t two;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 2));
	two = file_size();
	assert_true(spool_append(ptrs + 2, 1));
	spool_close();
	/* Power lost in the middle of the third record. */
	assert_int_equal(truncate(path, file_size() - 7), 0);
	open_spool(1 << 20);
	assert_int_equal(spool_depth(), 2);
	assert_int_equal(file_size(), two);
	expect_records(0, 2);
	/* And the spool goes on from there. */
	assert_true(spool_append(ptrs + 2, 1));
	expect_records(0, 3);
}

static void
test_garbage_at_the_end_is_cut_off(void **state)
{
	off_t size;
	int fd;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 2));
	size = file_size();
	spool_close();
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "SPL1\x10\x00", 6), 6);
	close(fd);
	open_spool(1 << 20);
	assert_int_equal(spool_depth(), 2);
	assert_int_equal(file_size(), size);
}

static void
test_flipped_bit_in_the_middle_keeps_the_file_aside(void **state)
{
	off_t one, two;
	unsigned char byte;
	int fd, aside = 0;
	DIR *d;
	struct dirent *e;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	one = file_size();
	assert_true(spool_append(ptrs + 1, 1));
	two = file_size();
	assert_true(spool_append(ptrs + 2, 1));
	spool_close();
	fd = open(path, O_RDWR);
	assert_int_equal(pread(fd, &byte, 1, one + (two - one) / 2), 1);
	byte ^= 0x04;
	assert_int_equal(pwrite(fd, &byte, 1, one + (two - one) / 2), 1);
	close(fd);

	open_spool(1 << 20);
	/* The first and third records survive; the second is lost, loudly. */
	assert_int_equal(spool_depth(), 2);
	{
		struct spooled *recs[3];
		struct spool_mark mark;
		assert_int_equal(spool_read(recs, 3, cat, &mark), 2);
		assert_string_equal(recs[0]->resp.id, resps[0].id);
		assert_string_equal(recs[1]->resp.id, resps[2].id);
		spool_release(recs, 2);
	}
	d = opendir(dir);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "responses.spool.damaged-", 24) == 0)
			aside++;
	closedir(d);
	assert_int_equal(aside, 1);
}

static void
test_full_spool_refuses_and_promises_nothing(void **state)
{
	off_t one;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	one = file_size();
	spool_close();
	/* Room for one more record, not two. */
	open_spool((long long)one * 2 + 10);
	assert_false(spool_append(ptrs + 1, 2));
	assert_int_equal(spool_depth(), 1);
	assert_int_equal(file_size(), one);
	assert_true(spool_append(ptrs + 1, 1));
	assert_int_equal(spool_depth(), 2);
}

static void
test_full_disk_refuses_and_promises_nothing(void **state)
{
	off_t one;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	one = file_size();
	/* The file may not grow past one and a half records: a disk that fills
	 * in the middle of a write. */
	disk_fills_at(one + one / 2);
	assert_false(spool_append(ptrs + 1, 1));
	disk_frees();
	assert_int_equal(spool_depth(), 1);
	assert_int_equal(file_size(), one);
	spool_close();
	open_spool(1 << 20);
	expect_records(0, 1);
}


/* Wrapped at link time (-Wl,--wrap=ftruncate): a file system that cannot
 * cut a file back. */
int __real_ftruncate(int fd, off_t len);
int __wrap_ftruncate(int fd, off_t len);
static bool ftruncate_fails;

int
__wrap_ftruncate(int fd, off_t len)
{
	if (ftruncate_fails) {
		errno = EIO;
		return -1;
	}
	return __real_ftruncate(fd, len);
}

/* Appends a framed record of the given payload, as sipasd would. */
static void
append_raw(const char *payload)
{
	unsigned char header[16], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t len = strlen(payload);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd != -1);
	memcpy(header, "SPL1", 4);
	header[4] = (unsigned char)len;
	header[5] = (unsigned char)(len >> 8);
	header[6] = header[7] = 0;
	EVP_Digest(payload, len, md, &mdlen, EVP_sha256(), NULL);
	memcpy(header + 8, md, 8);
	assert_int_equal(write(fd, header, 16), 16);
	assert_int_equal(write(fd, payload, len), (ssize_t)len);
	close(fd);
}

/* The lines sipasd --spool-inspect prints. */
static char *
inspect(void)
{
	static char out[65536];
	char err[256];
	FILE *f = fmemopen(out, sizeof out, "w");

	assert_non_null(f);
	assert_true(spool_inspect(dir, f, err, sizeof err));
	fclose(f);
	return out;
}

static void
test_a_record_that_cannot_be_read_back_is_set_aside_and_the_next_replayed(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;
	char *lines;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	spool_close();
	/* Written last year, for a questionnaire since removed. */
	append_raw("{\"id\":\"0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0dff\",\"hash\":"
	    "\"00000000000000000000000000000000000000000000000000000000000000aa\","
	    "\"questionnaire\":\"gone-2019\",\"submitted_at\":1,\"service_area\":"
	    "\"ho-tich\",\"procedure\":null,\"answers\":[1],\"overall\":null,"
	    "\"comment\":null,\"kiosk\":7,\"center\":3,\"kiosk_code\":\"K7\"}");
	open_spool(1 << 20);
	assert_true(spool_append(ptrs + 1, 2));
	assert_int_equal(spool_depth(), 4);

	/* The read ends before it, so that it is set aside only when the
	 * spool moves past it at once. */
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 1);
	assert_string_equal(recs[0]->resp.id, resps[0].id);
	assert_int_equal(spool_aside_count(), 0);
	spool_done(&mark);
	spool_release(recs, 1);
	/* Read again and again (a batch that failed): set aside once. */
	for (int attempt = 0; attempt < 3; attempt++) {
		assert_int_equal(spool_read(recs, NRESP, cat, &mark), 2);
		assert_string_equal(recs[0]->resp.id, resps[1].id);
		assert_string_equal(recs[1]->resp.id, resps[2].id);
		spool_release(recs, 2);
	}
	assert_int_equal(spool_aside_count(), 1);
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 2);
	assert_int_equal(mark.consumed, 2);
	spool_done(&mark);
	spool_release(recs, 2);
	assert_int_equal(spool_depth(), 0);
	assert_false(spool_pending());
	assert_int_equal(file_size(), 0);

	lines = inspect();
	assert_non_null(strstr(lines, "\"state\":\"set aside\""));
	assert_non_null(strstr(lines, "gone-2019"));
	assert_non_null(strstr(lines, "cannot be read back"));
}

static void
test_a_record_set_aside_at_replay_keeps_its_bytes_and_the_reason(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;
	char *lines;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 2));
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 2);
	assert_true(spool_set_aside(recs[1], "kiosk K7 was revoked"));
	spool_done(&mark);
	spool_release(recs, 2);
	lines = inspect();
	assert_non_null(strstr(lines, "kiosk K7 was revoked"));
	assert_non_null(strstr(lines, resps[1].id));
	assert_null(strstr(lines, resps[0].id));
}

static void
test_a_write_that_cannot_be_cut_back_loses_nothing_answered_later(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;
	off_t one;
	size_t got = 0;
	bool second = false;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	one = file_size();
	/* The disk fills in the middle of the second record, and the file
	 * cannot be cut back. */
	disk_fills_at(one + one / 2);
	ftruncate_fails = true;
	assert_false(spool_append(ptrs + 1, 1));
	disk_frees();
	ftruncate_fails = false;
	/* Room again: the third is answered 202. */
	assert_true(spool_append(ptrs + 2, 1));

	/* Replay to the end returns it: the file is not emptied before. */
	while (spool_pending()) {
		size_t n = spool_read(recs, NRESP, cat, &mark);
		assert_true(mark.consumed > 0);
		for (size_t i = 0; i < n; i++)
			second |= strcmp(recs[i]->resp.id, resps[2].id) == 0;
		got += n;
		spool_done(&mark);
		spool_release(recs, n);
	}
	assert_true(second);
	assert_int_equal(file_size(), 0);
	assert_true(got >= 2);
}

static void
test_records_written_before_a_failed_group_are_all_replayed(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;
	off_t one;
	bool seen[NRESP] = { false };

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	one = file_size();
	/* A group of three of which two are written whole before the disk
	 * fills, and the file cannot be cut back. */
	disk_fills_at(one * 3 + one / 2);
	ftruncate_fails = true;
	assert_false(spool_append(ptrs + 1, 3));
	disk_frees();
	ftruncate_fails = false;
	assert_true(spool_append(ptrs + 4, 1));
	/* Replayed a record at a time, as after a refused batch. */
	while (spool_pending()) {
		size_t n = spool_read(recs, 1, cat, &mark);
		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < NRESP; j++)
				seen[j] |= strcmp(recs[i]->resp.id, resps[j].id) == 0;
		spool_done(&mark);
		spool_release(recs, n);
	}
	assert_true(seen[0]);
	assert_true(seen[4]);
	assert_int_equal(spool_depth(), 0);
	assert_int_equal(file_size(), 0);
}

/* A record written by the version before protocol 1.1 has no counter,
 * officer, dossier nor kiosk counter: it still replays, without them. */
static void
test_a_record_of_the_previous_version_still_replays(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;

	open_spool(1 << 20);
	spool_close();
	append_raw("{\"id\":\"0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e\",\"hash\":"
	    "\"6d0a537fc94425689cd6ff4e1c0f3e6f40b68e507906ffdd8261bed3822879fe\","
	    "\"questionnaire\":\"quay-2023\",\"submitted_at\":1795659302000000,"
	    "\"service_area\":\"ho-tich\",\"procedure\":null,\"answers\":[3,null,2],"
	    "\"overall\":null,\"comment\":null,\"gender\":\"male\",\"age_group\":null,"
	    "\"ethnicity\":null,\"education\":null,\"occupation\":null,"
	    "\"kiosk\":7,\"kiosk_code\":\"K7\",\"center\":3,"
	    "\"received_at\":1795659303000000}");
	open_spool(1 << 20);
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 1);
	assert_string_equal(recs[0]->resp.id, "0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e");
	assert_string_equal(recs[0]->resp.counter, "");
	assert_string_equal(recs[0]->resp.officer, "");
	assert_string_equal(recs[0]->resp.dossier, "");
	assert_int_equal(recs[0]->kiosk.id, 7);
	assert_int_equal(recs[0]->kiosk.counter_id, 0);
	assert_int_equal(recs[0]->resp.center_id, 3);
	assert_int_equal(recs[0]->resp.counter_id, 0);
	assert_int_equal(recs[0]->resp.officer_id, 0);
	assert_int_equal(recs[0]->received_at, 1795659303000000LL);
	spool_done(&mark);
	spool_release(recs, 1);
	assert_int_equal(spool_aside_count(), 0);
}

/* What protocol 1.1 adds comes back from the spool: the members as sent,
 * and what was judged at receipt (the center of the kiosk on the
 * response's day, the counter and officer), stored as it is at replay. */
static void
test_a_record_keeps_what_was_judged_at_receipt(void **state)
{
	struct kiosk_ref moved = { 8, 5, 0, "K8", 41 };
	struct response r;
	struct submission sub, *p = &sub;
	struct spooled *recs[NRESP];
	struct spool_mark mark;

	r = resps[0];
	r.comment = NULL;
	snprintf(r.counter, sizeof r.counter, "Q2");
	snprintf(r.officer, sizeof r.officer, "CC9");
	snprintf(r.dossier, sizeof r.dossier, "H25/77");
	r.center_id = 3;	/* where K8 stood that day, before its move */
	r.counter_id = 12;
	r.officer_id = 9;
	memset(&sub, 0, sizeof sub);
	sub.resp = &r;
	sub.kiosk = &moved;
	open_spool(1 << 20);
	assert_true(spool_append(&p, 1));
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 1);
	assert_string_equal(recs[0]->resp.counter, "Q2");
	assert_string_equal(recs[0]->resp.officer, "CC9");
	assert_string_equal(recs[0]->resp.dossier, "H25/77");
	assert_int_equal(recs[0]->resp.center_id, 3);
	assert_int_equal(recs[0]->resp.counter_id, 12);
	assert_int_equal(recs[0]->resp.officer_id, 9);
	spool_release(recs, 1);
}

/* The first records of protocol 1.1 carry only the counter the kiosk was
 * fixed to: they are stored with it. */
static void
test_a_record_with_only_the_kiosk_counter_is_stored_with_it(void **state)
{
	struct spooled *recs[NRESP];
	struct spool_mark mark;

	open_spool(1 << 20);
	spool_close();
	append_raw("{\"id\":\"0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e\",\"hash\":"
	    "\"6d0a537fc94425689cd6ff4e1c0f3e6f40b68e507906ffdd8261bed3822879fe\","
	    "\"questionnaire\":\"quay-2023\",\"submitted_at\":1795659302000000,"
	    "\"service_area\":\"ho-tich\",\"procedure\":null,\"answers\":[3,null,2],"
	    "\"overall\":null,\"comment\":null,\"gender\":\"male\",\"age_group\":null,"
	    "\"ethnicity\":null,\"education\":null,\"occupation\":null,"
	    "\"kiosk\":7,\"kiosk_code\":\"K7\",\"center\":3,\"kiosk_counter\":41,"
	    "\"received_at\":1795659303000000}");
	open_spool(1 << 20);
	assert_int_equal(spool_read(recs, NRESP, cat, &mark), 1);
	assert_int_equal(recs[0]->resp.center_id, 3);
	assert_int_equal(recs[0]->resp.counter_id, 41);
	assert_int_equal(recs[0]->resp.officer_id, 0);
	spool_release(recs, 1);
}

/* The lock is a POSIX record lock on DIR/lock (it holds on NFS, where a
 * flock on the directory fails): a process holding it, another sipasd,
 * keeps spool_open from taking the directory, with the reason. */
static void
test_a_spool_locked_by_another_process_is_refused(void **state)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int ready[2], go[2], status;
	char lock[128], err[256], c;
	pid_t child;

	snprintf(lock, sizeof lock, "%s/lock", dir);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child != -1);
	if (child == 0) {
		/* Holds the lock until killed, or until this process ends. */
		int fd = open(lock, O_RDWR | O_CREAT, 0600);
		close(go[1]);
		_exit(fd == -1 || fcntl(fd, F_SETLK, &fl) == -1 ||
		    write(ready[1], "l", 1) != 1 || read(go[0], &c, 1) == -1);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_false(spool_open(dir, 1 << 20, err, sizeof err));
	assert_non_null(strstr(err, "is in use by another sipasd"));
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	close(ready[0]);
	close(go[1]);
	/* Released with the process that held it. */
	open_spool(1 << 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_come_back_in_order_after_a_restart, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_replay_moves_forward_and_empties_the_file_at_the_end, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_torn_tail_is_cut_off_and_earlier_records_kept, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_garbage_at_the_end_is_cut_off, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_flipped_bit_in_the_middle_keeps_the_file_aside, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_full_spool_refuses_and_promises_nothing, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_full_disk_refuses_and_promises_nothing, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_record_that_cannot_be_read_back_is_set_aside_and_the_next_replayed, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_record_set_aside_at_replay_keeps_its_bytes_and_the_reason, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_write_that_cannot_be_cut_back_loses_nothing_answered_later, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_records_written_before_a_failed_group_are_all_replayed, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_record_of_the_previous_version_still_replays, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_record_keeps_what_was_judged_at_receipt, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_record_with_only_the_kiosk_counter_is_stored_with_it, setup_each, teardown_each),
		cmocka_unit_test_setup_teardown(test_a_spool_locked_by_another_process_is_refused, setup_each, teardown_each),
	};

	log_init("test_spool", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
