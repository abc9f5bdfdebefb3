/* Every validation rule of the protocol, one test each, valid and invalid,
 * and the content hash behind the duplicate/conflict rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "clock.h"
#include "fixture.h"
#include "response.h"

/* The server clock: 2026-11-26T02:16:02Z, a minute after the example. */
static const int64_t NOW = 1795659362LL * 1000000;
static const struct response_limits LIM = { 1795659362LL * 1000000,
	90LL * 86400 * 1000000 };

static json_t *
valid(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i,s:i,s:i,s:i, s:i,s:i,s:i,s:i,"
	    " s:i,s:i,s:i,s:i,s:i, s:i,s:i,s:i, s:i,s:n,s:i}, s:i, s:s, s:{s:s, s:s}}",
	    "id", "0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e",
	    "questionnaire", "sipas-dv-2023",
	    "submitted_at", "2026-11-26T09:15:02+07:00",
	    "service_area", "dat-dai",
	    "procedure", "1.004227",
	    "answers", "TC1", 4, "TC2", 5, "TC3", 4, "TC4", 3,
	    "TT1", 5, "TT2", 4, "TT3", 4, "TT4", 2,
	    "CC1", 5, "CC2", 5, "CC3", 4, "CC4", 4, "CC5", 5,
	    "KQ1", 4, "KQ2", 4, "KQ3", 5,
	    "PA1", 4, "PA2", "PA3", 3,
	    "overall", 4,
	    "comment", "Cán bộ hướng dẫn nhiệt tình.",
	    "respondent", "gender", "female", "age_group", "35-49");
}

/* Runs text through the whole path: JSON parsing, then validation. */
static bool
check_text(const char *text, struct response *r, struct response_error *err)
{
	json_t *doc = response_json_load(text, strlen(text), err);
	bool ok;

	if (doc == NULL)
		return false;
	ok = response_from_json(r, doc, cat, &LIM, err);
	json_decref(doc);
	return ok;
}

static bool
check(json_t *doc, struct response *r, struct response_error *err)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	bool ok = check_text(text, r, err);

	free(text);
	json_decref(doc);
	return ok;
}

/* Asserts that doc is refused for field. */
static void
refused(json_t *doc, const char *field)
{
	struct response r;
	struct response_error err;

	memset(&err, 0, sizeof err);
	assert_false(check(doc, &r, &err));
	assert_string_equal(err.field, field);
	assert_true(strlen(err.message) > 0);
}

static void
accepted(json_t *doc, struct response *r)
{
	struct response_error err;

	if (!check(doc, r, &err))
		fail_msg("refused: %s: %s", err.field, err.message);
}

static json_t *
with(const char *member, json_t *value)
{
	json_t *doc = valid();

	json_object_set_new(doc, member, value);
	return doc;
}

static json_t *
without(const char *member)
{
	json_t *doc = valid();

	json_object_del(doc, member);
	return doc;
}

static json_t *
with_answer(const char *code, json_t *value)
{
	json_t *doc = valid();

	json_object_set_new(json_object_get(doc, "answers"), code, value);
	return doc;
}

static void
test_example_response_is_accepted_with_every_field(void **state)
{
	struct response r;

	accepted(valid(), &r);
	assert_string_equal(r.id, "0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e");
	assert_string_equal(r.questionnaire->code, "sipas-dv-2023");
	assert_int_equal(r.submitted_at, 1795659302LL * 1000000);
	assert_string_equal(r.area->code, "dat-dai");
	assert_string_equal(r.procedure, "1.004227");
	assert_int_equal(r.answers[0], 4);
	assert_int_equal(r.answers[17], RESPONSE_NA);
	assert_int_equal(r.answers[18], 3);
	assert_int_equal(r.overall, 4);
	assert_string_equal(r.comment, "Cán bộ hướng dẫn nhiệt tình.");
	assert_string_equal(r.gender, "female");
	assert_string_equal(r.age_group, "35-49");
	assert_null(r.ethnicity);
	response_clear(&r);
}

static void
test_only_required_members_are_needed(void **state)
{
	struct response r;
	json_t *doc = valid();

	json_object_del(doc, "procedure");
	json_object_del(doc, "overall");
	json_object_del(doc, "comment");
	json_object_del(doc, "respondent");
	accepted(doc, &r);
	assert_int_equal(r.overall, RESPONSE_NA);
	assert_null(r.comment);
	assert_string_equal(r.procedure, "");
	response_clear(&r);
}

static void
test_optional_members_given_as_null_are_absent(void **state)
{
	struct response r;
	json_t *doc = valid();

	json_object_set_new(doc, "procedure", json_null());
	json_object_set_new(doc, "overall", json_null());
	json_object_set_new(doc, "comment", json_null());
	json_object_set_new(doc, "respondent", json_null());
	accepted(doc, &r);
	assert_int_equal(r.overall, RESPONSE_NA);
	assert_null(r.comment);
	response_clear(&r);
}

static void
test_body_that_is_not_json_is_refused(void **state)
{
	struct response r;
	struct response_error err;

	assert_false(check_text("{\"id\": ", &r, &err));
	assert_string_equal(err.field, "");
	assert_false(check_text("", &r, &err));
	assert_false(check_text("\"just a string\"", &r, &err));
}

static void
test_body_that_is_not_an_object_is_refused(void **state)
{
	struct response r;
	struct response_error err;

	assert_false(check_text("[1, 2]", &r, &err));
	assert_string_equal(err.field, "");
}

static void
test_duplicate_member_names_are_refused(void **state)
{
	struct response r;
	struct response_error err;

	assert_false(check_text("{\"id\": \"a\", \"id\": \"b\"}", &r, &err));
	assert_non_null(strstr(err.message, "duplicate"));
	/* ...at any depth. */
	assert_false(check_text("{\"answers\": {\"TC1\": 4, \"TC1\": 5}}", &r, &err));
}

static void
test_unknown_member_is_refused_by_name(void **state)
{
	refused(with("center", json_string("ht")), "center");
	refused(with("ID", json_string("x")), "ID");
}

static void
test_errors_quoting_the_body_are_valid_utf8(void **state)
{
	struct response r;
	struct response_error err;
	char name[300] = "", text[400];
	json_t *f, *m;

	/* A member name of two-byte characters, longer than the field. */
	for (int i = 0; i < 120; i++)
		strcat(name, "é");
	snprintf(text, sizeof text, "{\"%s\": 1}", name);
	assert_false(check_text(text, &r, &err));
	f = json_string(err.field);
	m = json_string(err.message);
	assert_non_null(f);	/* jansson refuses invalid UTF-8 */
	assert_non_null(m);
	json_decref(f);
	json_decref(m);
	/* And raw invalid bytes in a broken body. */
	assert_false(check_text("{\"a\xff\xfe\": ", &r, &err));
	m = json_string(err.message);
	assert_non_null(m);
	json_decref(m);
}

static void
test_id_is_required(void **state)
{
	refused(without("id"), "id");
}

static void
test_id_must_be_a_canonical_uuid(void **state)
{
	refused(with("id", json_string("0193a4f27c1e7b3a9d5e2f4a6b8c0d1e")), "id");
	refused(with("id", json_string("0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1")), "id");
	refused(with("id", json_string("0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1g")), "id");
	refused(with("id", json_string("{0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e}")), "id");
	refused(with("id", json_integer(12)), "id");
}

static void
test_id_in_upper_case_is_accepted_and_lowered(void **state)
{
	struct response r;

	accepted(with("id", json_string("0193A4F2-7C1E-7B3A-9D5E-2F4A6B8C0D1E")), &r);
	assert_string_equal(r.id, "0193a4f2-7c1e-7b3a-9d5e-2f4a6b8c0d1e");
	response_clear(&r);
}

static void
test_questionnaire_must_be_known_and_active(void **state)
{
	refused(without("questionnaire"), "questionnaire");
	refused(with("questionnaire", json_string("sipas-2099")), "questionnaire");
	refused(with("questionnaire", json_string("old-2019")), "questionnaire");
	refused(with("questionnaire", json_integer(1)), "questionnaire");
}

static void
test_submitted_at_must_be_rfc3339_with_offset(void **state)
{
	struct response r;

	refused(without("submitted_at"), "submitted_at");
	refused(with("submitted_at", json_string("2026-11-26T09:15:02")), "submitted_at");
	refused(with("submitted_at", json_string("2026-11-26 09:15:02+07:00")), "submitted_at");
	refused(with("submitted_at", json_string("2026-02-30T09:15:02+07:00")), "submitted_at");
	refused(with("submitted_at", json_string("2026-11-26T24:00:00Z")), "submitted_at");
	refused(with("submitted_at", json_string("2026-11-26T09:15:02+0700")), "submitted_at");
	refused(with("submitted_at", json_integer(1795659302)), "submitted_at");
	accepted(with("submitted_at", json_string("2026-11-26T02:15:02.250Z")), &r);
	assert_int_equal(r.submitted_at, 1795659302LL * 1000000 + 250000);
	response_clear(&r);
}

static void
test_rfc3339_offsets_name_the_same_instant(void **state)
{
	int64_t a, b, c;

	assert_true(rfc3339_parse("2026-11-26T09:15:02+07:00", &a));
	assert_true(rfc3339_parse("2026-11-26T02:15:02Z", &b));
	assert_true(rfc3339_parse("2026-11-25T21:15:02-05:00", &c));
	assert_int_equal(a, b);
	assert_int_equal(b, c);
	assert_true(rfc3339_parse("2024-02-29T00:00:00Z", &a));
	assert_false(rfc3339_parse("2023-02-29T00:00:00Z", &a));
}

static void
test_submitted_at_more_than_5_minutes_ahead_is_refused(void **state)
{
	struct response r;

	/* NOW + 4 min is fine, NOW + 6 min is not. */
	accepted(with("submitted_at", json_string("2026-11-26T09:20:02+07:00")), &r);
	response_clear(&r);
	refused(with("submitted_at", json_string("2026-11-26T09:22:02+07:00")), "submitted_at");
	(void)NOW;
}

static void
test_submitted_at_older_than_max_age_is_refused(void **state)
{
	struct response r;

	accepted(with("submitted_at", json_string("2026-09-01T09:00:00+07:00")), &r);
	response_clear(&r);
	refused(with("submitted_at", json_string("2026-08-27T09:00:00+07:00")), "submitted_at");
}

static void
test_service_area_must_be_known(void **state)
{
	refused(without("service_area"), "service_area");
	refused(with("service_area", json_string("Đất đai")), "service_area");
	refused(with("service_area", json_null()), "service_area");
}

static void
test_procedure_is_1_to_32_allowed_characters(void **state)
{
	struct response r;

	accepted(with("procedure", json_string("1.004227-AB.xy")), &r);
	response_clear(&r);
	accepted(with("procedure", json_string("12345678901234567890123456789012")), &r);
	response_clear(&r);
	refused(with("procedure", json_string("123456789012345678901234567890123")), "procedure");
	refused(with("procedure", json_string("")), "procedure");
	refused(with("procedure", json_string("1 004")), "procedure");
	refused(with("procedure", json_string("1;DROP TABLE responses")), "procedure");
	refused(with("procedure", json_integer(1004227)), "procedure");
}

static void
test_answers_are_required(void **state)
{
	refused(without("answers"), "answers");
	refused(with("answers", json_array()), "answers");
}

static void
test_every_criterion_must_be_answered(void **state)
{
	json_t *doc = valid();

	json_object_del(json_object_get(doc, "answers"), "KQ2");
	refused(doc, "answers.KQ2");
}

static void
test_unknown_criterion_is_refused(void **state)
{
	refused(with_answer("TC9", json_integer(4)), "answers.TC9");
	/* A criterion of another questionnaire is unknown here. */
	refused(with_answer("QYTD", json_integer(2)), "answers.QYTD");
}

static void
test_answer_must_be_an_integer_on_the_scale(void **state)
{
	refused(with_answer("TT4", json_integer(6)), "answers.TT4");
	refused(with_answer("TT4", json_integer(0)), "answers.TT4");
	refused(with_answer("TT4", json_integer(-1)), "answers.TT4");
	refused(with_answer("TT4", json_real(4.0)), "answers.TT4");
	refused(with_answer("TT4", json_string("4")), "answers.TT4");
	refused(with_answer("TT4", json_true()), "answers.TT4");
}

static void
test_answer_may_be_null_for_not_applicable(void **state)
{
	struct response r;

	accepted(with_answer("TC1", json_null()), &r);
	assert_int_equal(r.answers[0], RESPONSE_NA);
	response_clear(&r);
}

static void
test_scale_follows_the_questionnaire(void **state)
{
	struct response r;
	json_t *doc = valid();

	json_object_set_new(doc, "questionnaire", json_string("quay-2023"));
	json_object_set_new(doc, "answers", json_pack("{s:i, s:i, s:n}",
	    "QYTD", 3, "QYHD", 1, "QYTG"));
	json_object_set_new(doc, "overall", json_integer(3));
	accepted(doc, &r);
	assert_int_equal(r.answers[0], 3);
	response_clear(&r);

	doc = valid();
	json_object_set_new(doc, "questionnaire", json_string("quay-2023"));
	json_object_set_new(doc, "answers", json_pack("{s:i, s:i, s:i}",
	    "QYTD", 4, "QYHD", 1, "QYTG", 1));
	json_object_del(doc, "overall");
	refused(doc, "answers.QYTD");
}

static void
test_overall_is_an_integer_on_the_scale(void **state)
{
	refused(with("overall", json_integer(6)), "overall");
	refused(with("overall", json_real(4.5)), "overall");
	refused(with("overall", json_string("4")), "overall");
}

static void
test_huge_numbers_are_refused(void **state)
{
	struct response r;
	struct response_error err;
	const char *text = "{\"overall\": 123456789012345678901234567890}";

	assert_false(check_text(text, &r, &err));
	refused(with_answer("TT4", json_integer(4294967300LL)), "answers.TT4");
}

static void
test_comment_is_at_most_2000_bytes(void **state)
{
	struct response r;
	char text[2002];

	memset(text, 'a', sizeof text);
	text[2000] = '\0';
	accepted(with("comment", json_string(text)), &r);
	response_clear(&r);
	text[2000] = 'a';
	text[2001] = '\0';
	refused(with("comment", json_string(text)), "comment");
}

static void
test_comment_allows_newline_and_tab_only_among_controls(void **state)
{
	struct response r;

	accepted(with("comment", json_string("dòng 1\ndòng 2\tcuối")), &r);
	response_clear(&r);
	refused(with("comment", json_string("bell\x07")), "comment");
	refused(with("comment", json_string("cr\r")), "comment");
	refused(with("comment", json_string("del\x7f")), "comment");
	refused(with("comment", json_string("c1 \xc2\x85")), "comment");
	refused(with("comment", json_integer(5)), "comment");
}

static void
test_comment_must_be_valid_utf8_without_nul(void **state)
{
	struct response r;
	struct response_error err;
	char *text;
	json_t *doc = valid();

	json_object_set_new(doc, "comment", json_string("PLACEHOLDER"));
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	char *at = strstr(text, "PLACEHOLDER");

	memcpy(at, "\xff\xfe bad     ", 11);
	assert_false(check_text(text, &r, &err));
	memcpy(at, "a\\u0000b   ", 11);
	assert_false(check_text(text, &r, &err));
	free(text);
}

static void
test_respondent_members_take_listed_values(void **state)
{
	struct response r;

	accepted(with("respondent", json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "gender", "other", "age_group", "60+", "ethnicity", "kinh",
	    "education", "lower-secondary", "occupation", "public-sector")), &r);
	assert_string_equal(r.occupation, "public-sector");
	response_clear(&r);
	refused(with("respondent", json_pack("{s:s}", "gender", "f")), "respondent.gender");
	refused(with("respondent", json_pack("{s:s}", "age_group", "17")), "respondent.age_group");
	refused(with("respondent", json_pack("{s:s}", "ethnicity", "Kinh")), "respondent.ethnicity");
	refused(with("respondent", json_pack("{s:s}", "education", "phd")), "respondent.education");
	refused(with("respondent", json_pack("{s:i}", "occupation", 1)), "respondent.occupation");
	refused(with("respondent", json_pack("{s:s}", "name", "Nguyễn Văn A")), "respondent.name");
	refused(with("respondent", json_string("female")), "respondent");
}

static void
hash_of(json_t *doc, unsigned char out[RESPONSE_HASH_LEN])
{
	struct response r;

	accepted(doc, &r);
	memcpy(out, r.hash, RESPONSE_HASH_LEN);
	response_clear(&r);
}

static void
test_hash_ignores_member_order_spacing_and_offset(void **state)
{
	unsigned char a[RESPONSE_HASH_LEN], b[RESPONSE_HASH_LEN];
	struct response r;
	struct response_error err;
	char *text;
	json_t *doc = valid();

	hash_of(valid(), a);
	/* Same instant in UTC, explicit nulls for absent members. */
	json_object_set_new(doc, "submitted_at", json_string("2026-11-26T02:15:02Z"));
	hash_of(doc, b);
	assert_memory_equal(a, b, RESPONSE_HASH_LEN);

	doc = valid();
	text = json_dumps(doc, JSON_INDENT(3) | JSON_SORT_KEYS);
	json_decref(doc);
	assert_true(check_text(text, &r, &err));
	assert_memory_equal(a, r.hash, RESPONSE_HASH_LEN);
	response_clear(&r);
	free(text);

	doc = without("procedure");
	hash_of(doc, a);
	doc = with("procedure", json_null());
	hash_of(doc, b);
	assert_memory_equal(a, b, RESPONSE_HASH_LEN);
}

static void
test_hash_changes_with_any_content(void **state)
{
	unsigned char base[RESPONSE_HASH_LEN], other[RESPONSE_HASH_LEN];

	hash_of(valid(), base);
	hash_of(with("comment", json_string("Cán bộ hướng dẫn nhiệt tình!")), other);
	assert_memory_not_equal(base, other, RESPONSE_HASH_LEN);
	hash_of(with_answer("PA2", json_integer(4)), other);
	assert_memory_not_equal(base, other, RESPONSE_HASH_LEN);
	hash_of(with("overall", json_integer(5)), other);
	assert_memory_not_equal(base, other, RESPONSE_HASH_LEN);
	hash_of(with("service_area", json_string("ho-tich")), other);
	assert_memory_not_equal(base, other, RESPONSE_HASH_LEN);
	hash_of(with("submitted_at", json_string("2026-11-26T09:15:03+07:00")), other);
	assert_memory_not_equal(base, other, RESPONSE_HASH_LEN);
	/* Moving text between fields is not the same content. */
	hash_of(with("respondent", json_pack("{s:s}", "gender", "female")), other);
	assert_memory_not_equal(base, other, RESPONSE_HASH_LEN);
}

/* Protocol 1.1: who served the person, and the dossier. */
static void
test_counter_officer_and_dossier_are_kept_as_sent(void **state)
{
	struct response r;
	json_t *doc = valid();

	json_object_set_new(doc, "counter", json_string("Q-01"));
	json_object_set_new(doc, "officer", json_string("cc.0042"));
	json_object_set_new(doc, "dossier", json_string("000.00.22.H25-251126-0001/A_b"));
	accepted(doc, &r);
	assert_string_equal(r.counter, "Q-01");
	assert_string_equal(r.officer, "cc.0042");
	assert_string_equal(r.dossier, "000.00.22.H25-251126-0001/A_b");
	response_clear(&r);

	accepted(valid(), &r);
	assert_string_equal(r.counter, "");
	assert_string_equal(r.officer, "");
	assert_string_equal(r.dossier, "");
	response_clear(&r);
	/* null is absent, as for every optional member. */
	accepted(with("dossier", json_null()), &r);
	assert_string_equal(r.dossier, "");
	response_clear(&r);
}

static void
test_counter_and_officer_must_be_codes(void **state)
{
	char long_code[66];

	memset(long_code, 'a', 65);
	long_code[65] = '\0';
	refused(with("counter", json_integer(1)), "counter");
	refused(with("counter", json_string("")), "counter");
	refused(with("counter", json_string("quầy 1")), "counter");
	refused(with("counter", json_string(long_code)), "counter");
	refused(with("officer", json_integer(42)), "officer");
	refused(with("officer", json_string("")), "officer");
	refused(with("officer", json_string("a/b")), "officer");
	refused(with("officer", json_string(long_code)), "officer");
}

static void
test_dossier_is_1_to_64_allowed_characters(void **state)
{
	char code[66];
	struct response r;

	memset(code, '7', 65);
	code[65] = '\0';
	refused(with("dossier", json_string(code)), "dossier");
	code[64] = '\0';
	accepted(with("dossier", json_string(code)), &r);
	response_clear(&r);
	refused(with("dossier", json_string("")), "dossier");
	refused(with("dossier", json_string("H25 0001")), "dossier");
	refused(with("dossier", json_string("H25:0001")), "dossier");
	refused(with("dossier", json_integer(250001)), "dossier");
}

/* A version 1 kiosk retrying an id stored before the upgrade must get
 * 200 duplicate: the hash of a response without the new members is the
 * one version 1 computed, byte for byte. */
static void
test_hash_without_the_new_members_is_the_version_1_hash(void **state)
{
	static const char v1[] =
	    "6d0a537fc94425689cd6ff4e1c0f3e6f40b68e507906ffdd8261bed3822879fe";
	unsigned char h[RESPONSE_HASH_LEN];
	char hex[2 * RESPONSE_HASH_LEN + 1];

	hash_of(valid(), h);
	for (int i = 0; i < RESPONSE_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	assert_string_equal(hex, v1);
}

static void
test_hash_changes_with_counter_officer_and_dossier(void **state)
{
	unsigned char base[RESPONSE_HASH_LEN], a[RESPONSE_HASH_LEN],
	    b[RESPONSE_HASH_LEN];

	hash_of(valid(), base);
	hash_of(with("counter", json_string("Q1")), a);
	assert_memory_not_equal(base, a, RESPONSE_HASH_LEN);
	/* Tagged: the same code as another member is another content. */
	hash_of(with("officer", json_string("Q1")), b);
	assert_memory_not_equal(a, b, RESPONSE_HASH_LEN);
	hash_of(with("dossier", json_string("Q1")), b);
	assert_memory_not_equal(a, b, RESPONSE_HASH_LEN);
	assert_memory_not_equal(base, b, RESPONSE_HASH_LEN);
}

/* The spool's record keeps the new members; a record of version 1,
 * without them, still reads back. */
static void
test_record_keeps_counter_officer_and_dossier(void **state)
{
	struct response r, back;
	json_t *doc = valid(), *rec;

	json_object_set_new(doc, "counter", json_string("Q1"));
	json_object_set_new(doc, "officer", json_string("CC7"));
	json_object_set_new(doc, "dossier", json_string("H25/1"));
	accepted(doc, &r);
	rec = response_to_record(&r);
	assert_true(response_from_record(&back, rec, cat));
	assert_string_equal(back.counter, "Q1");
	assert_string_equal(back.officer, "CC7");
	assert_string_equal(back.dossier, "H25/1");
	assert_memory_equal(back.hash, r.hash, RESPONSE_HASH_LEN);
	response_clear(&back);

	json_object_del(rec, "counter");
	json_object_del(rec, "officer");
	json_object_del(rec, "dossier");
	assert_true(response_from_record(&back, rec, cat));
	assert_string_equal(back.counter, "");
	assert_string_equal(back.dossier, "");
	response_clear(&back);
	json_decref(rec);
	response_clear(&r);
}

/* The rules on counters and officers go by Vietnam days (UTC+7), as
 * days since 1970-01-01: 20783 is 2026-11-26. */
static void
test_vietnam_day_starts_at_17_utc(void **state)
{
	int64_t t;

	assert_true(rfc3339_parse("2026-11-25T16:59:59.999999Z", &t));
	assert_int_equal(clock_vn_day(t), 20782);
	assert_true(rfc3339_parse("2026-11-26T00:00:00+07:00", &t));
	assert_int_equal(clock_vn_day(t), 20783);
	assert_true(rfc3339_parse("2026-11-26T23:59:59+07:00", &t));
	assert_int_equal(clock_vn_day(t), 20783);
	assert_true(rfc3339_parse("1969-12-31T16:59:59Z", &t));
	assert_int_equal(clock_vn_day(t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_response_is_accepted_with_every_field),
		cmocka_unit_test(test_only_required_members_are_needed),
		cmocka_unit_test(test_optional_members_given_as_null_are_absent),
		cmocka_unit_test(test_body_that_is_not_json_is_refused),
		cmocka_unit_test(test_body_that_is_not_an_object_is_refused),
		cmocka_unit_test(test_duplicate_member_names_are_refused),
		cmocka_unit_test(test_unknown_member_is_refused_by_name),
		cmocka_unit_test(test_errors_quoting_the_body_are_valid_utf8),
		cmocka_unit_test(test_id_is_required),
		cmocka_unit_test(test_id_must_be_a_canonical_uuid),
		cmocka_unit_test(test_id_in_upper_case_is_accepted_and_lowered),
		cmocka_unit_test(test_questionnaire_must_be_known_and_active),
		cmocka_unit_test(test_submitted_at_must_be_rfc3339_with_offset),
		cmocka_unit_test(test_rfc3339_offsets_name_the_same_instant),
		cmocka_unit_test(test_submitted_at_more_than_5_minutes_ahead_is_refused),
		cmocka_unit_test(test_submitted_at_older_than_max_age_is_refused),
		cmocka_unit_test(test_service_area_must_be_known),
		cmocka_unit_test(test_procedure_is_1_to_32_allowed_characters),
		cmocka_unit_test(test_answers_are_required),
		cmocka_unit_test(test_every_criterion_must_be_answered),
		cmocka_unit_test(test_unknown_criterion_is_refused),
		cmocka_unit_test(test_answer_must_be_an_integer_on_the_scale),
		cmocka_unit_test(test_answer_may_be_null_for_not_applicable),
		cmocka_unit_test(test_scale_follows_the_questionnaire),
		cmocka_unit_test(test_overall_is_an_integer_on_the_scale),
		cmocka_unit_test(test_huge_numbers_are_refused),
		cmocka_unit_test(test_comment_is_at_most_2000_bytes),
		cmocka_unit_test(test_comment_allows_newline_and_tab_only_among_controls),
		cmocka_unit_test(test_comment_must_be_valid_utf8_without_nul),
		cmocka_unit_test(test_respondent_members_take_listed_values),
		cmocka_unit_test(test_hash_ignores_member_order_spacing_and_offset),
		cmocka_unit_test(test_hash_changes_with_any_content),
		cmocka_unit_test(test_counter_officer_and_dossier_are_kept_as_sent),
		cmocka_unit_test(test_counter_and_officer_must_be_codes),
		cmocka_unit_test(test_dossier_is_1_to_64_allowed_characters),
		cmocka_unit_test(test_hash_without_the_new_members_is_the_version_1_hash),
		cmocka_unit_test(test_hash_changes_with_counter_officer_and_dossier),
		cmocka_unit_test(test_record_keeps_counter_officer_and_dossier),
		cmocka_unit_test(test_vietnam_day_starts_at_17_utc),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
