/* Sealed comments (lib/seal.c): what sipasd seals only the secret key
 * opens, every box is new, and nothing altered opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seal.h"

static void
pair(unsigned char pk[SEAL_KEY_LEN], unsigned char sk[SEAL_KEY_LEN])
{
	char p[SEAL_KEY_B64], s[SEAL_KEY_B64], err[128];

	seal_keypair(p, s);
	assert_true(seal_public_key_parse(p, pk, err, sizeof err));
	assert_true(seal_key_parse(s, sk, err, sizeof err));
}

static void
test_the_secret_key_opens_what_the_public_key_sealed(void **state)
{
	unsigned char pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
	const char *text = "Cán bộ hướng dẫn nhiệt tình, 0912 345 678";
	char *box, *back;

	(void)state;
	pair(pk, sk);
	box = seal_text(text, pk);
	assert_true(seal_is_sealed(box));
	assert_null(strstr(box, "0912"));
	back = seal_open(box, sk);
	assert_string_equal(back, text);
	free(back);
	free(box);
}

static void
test_the_same_comment_never_seals_the_same_way(void **state)
{
	unsigned char pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
	char *a, *b;

	(void)state;
	pair(pk, sk);
	a = seal_text("Tốt", pk);
	b = seal_text("Tốt", pk);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void
test_another_key_or_an_altered_box_opens_nothing(void **state)
{
	unsigned char pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN], sk2[SEAL_KEY_LEN];
	char *box;
	size_t mid;

	(void)state;
	pair(pk, sk);
	pair(pk2, sk2);
	box = seal_text("Chờ lâu quá", pk);
	assert_null(seal_open(box, sk2));
	mid = strlen(box) / 2;
	box[mid] = box[mid] == 'A' ? 'B' : 'A';
	assert_null(seal_open(box, sk));
	assert_null(seal_open("not sealed", sk));
	assert_null(seal_open("sealed:", sk));
	free(box);
}

static void
test_a_key_must_be_32_bytes_of_base64(void **state)
{
	unsigned char k[SEAL_KEY_LEN];
	char err[128];

	(void)state;
	assert_false(seal_key_parse("", k, err, sizeof err));
	assert_false(seal_key_parse("c2hvcnQ=", k, err, sizeof err));
	assert_false(seal_key_parse("!!!!", k, err, sizeof err));
	assert_non_null(strstr(err, "base64 of 32 bytes"));
	assert_true(seal_key_parse("  AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n", k, err,
	    sizeof err));
}

/* A low-order point (all zeros here) makes every box fail: refused as a
 * public key when read, and a seal with it fails instead of aborting. */
static void
test_a_low_order_public_key_is_refused_and_seals_nothing(void **state)
{
	unsigned char k[SEAL_KEY_LEN];
	char err[128];

	(void)state;
	assert_false(seal_public_key_parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", k,
	    err, sizeof err));
	assert_non_null(strstr(err, "not a usable public key"));
	memset(k, 0, sizeof k);
	assert_null(seal_text("Chờ lâu quá", k));
	assert_true(seal_public_key_parse("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", k,
	    err, sizeof err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_secret_key_opens_what_the_public_key_sealed),
		cmocka_unit_test(test_the_same_comment_never_seals_the_same_way),
		cmocka_unit_test(test_another_key_or_an_altered_box_opens_nothing),
		cmocka_unit_test(test_a_key_must_be_32_bytes_of_base64),
		cmocka_unit_test(test_a_low_order_public_key_is_refused_and_seals_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
