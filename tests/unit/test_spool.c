/* The spool: what is appended comes back after a restart, in order; a torn
 * tail is cut off; damage in the middle keeps the file aside; a full spool
 * or disk refuses and promises nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "spool.h"

#define NRESP 5

static char dir[64], path[96];
static struct response resps[NRESP];
static struct kiosk_ref kiosk = { 7, 3, 0, "K7" };
static struct submission subs[NRESP];
static struct submission *ptrs[NRESP];

static off_t
file_size(void)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
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
	size_t got = spool_read(recs, NRESP + 1, cat);

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

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 5));
	assert_int_equal(spool_read(recs, 2, cat), 2);
	spool_done(recs[1], 2);
	spool_release(recs, 2);
	assert_int_equal(spool_depth(), 3);
	expect_records(2, 3);
	assert_int_equal(spool_read(recs, NRESP, cat), 3);
	spool_done(recs[2], 3);
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
		assert_int_equal(spool_read(recs, 3, cat), 2);
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
	struct rlimit old, lim;
	off_t one;

	open_spool(1 << 20);
	assert_true(spool_append(ptrs, 1));
	one = file_size();
	/* The file may not grow past one and a half records: a disk that fills
	 * in the middle of a write. */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)(one + one / 2);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_false(spool_append(ptrs + 1, 1));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(spool_depth(), 1);
	assert_int_equal(file_size(), one);
	spool_close();
	open_spool(1 << 20);
	expect_records(0, 1);
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
	};

	log_init("test_spool", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
