/* Validation of a response object, field by field in the order of the
 * protocol's table so the reported field is predictable, then the canonical
 * content hash. */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cert.h"
#include "clock.h"
#include "response.h"
#include "seal.h"
#include "utf8.h"
#include "xmalloc.h"

static const char *const genders[] = { "male", "female", "other", NULL };
static const char *const age_groups[] = { "18-25", "26-34", "35-49", "50-60",
	"60+", NULL };
static const char *const ethnicities[] = { "kinh", "other", NULL };
static const char *const educations[] = { "none", "primary", "lower-secondary",
	"upper-secondary", "vocational", "university", NULL };
static const char *const occupations[] = { "farmer", "worker", "public-sector",
	"business", "student", "retired", "other", NULL };

static const char *const members[] = { "id", "questionnaire", "submitted_at",
	"service_area", "procedure", "answers", "overall", "comment",
	"respondent", "counter", "officer", "dossier", NULL };

static const struct {
	const char *name;
	const char *const *set;
	size_t offset;
} respondent_fields[] = {
	{ "gender", genders, offsetof(struct response, gender) },
	{ "age_group", age_groups, offsetof(struct response, age_group) },
	{ "ethnicity", ethnicities, offsetof(struct response, ethnicity) },
	{ "education", educations, offsetof(struct response, education) },
	{ "occupation", occupations, offsetof(struct response, occupation) },
};
#define NRESPONDENT (sizeof respondent_fields / sizeof respondent_fields[0])

/* The members of protocol 1.1, as the spool's records keep them. */
static const struct {
	const char *name;
	size_t offset;
} code_fields[] = {
	{ "counter", offsetof(struct response, counter) },
	{ "officer", offsetof(struct response, officer) },
	{ "dossier", offsetof(struct response, dossier) },
};
#define NCODES (sizeof code_fields / sizeof code_fields[0])

static bool
fail(struct response_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail(struct response_error *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->field, sizeof err->field, "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	/* Both go back to the kiosk in JSON: they may quote its bytes (a
	 * parser message, a member name cut short by the buffer). */
	utf8_sanitize(err->field);
	utf8_sanitize(err->message);
	return false;
}

json_t *
response_json_load(const char *body, size_t len, struct response_error *err)
{
	json_error_t jerr;
	json_t *doc;

	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		fail(err, "", "not valid JSON: %s at byte %d", jerr.text,
		    jerr.position);
	return doc;
}

json_t *
response_batch_load(const char *body, size_t len, size_t max_items,
    struct response_error *err)
{
	json_t *doc, *item;
	size_t i;

	if ((doc = response_json_load(body, len, err)) == NULL)
		return NULL;
	if (!json_is_array(doc) || json_array_size(doc) > max_items) {
		json_decref(doc);
		fail(err, "", "a batch must be a JSON array of at most %zu "
		    "response objects", max_items);
		return NULL;
	}
	json_array_foreach(doc, i, item) {
		if (!json_is_object(item)) {
			char field[32];
			json_decref(doc);
			snprintf(field, sizeof field, "[%zu]", i);
			fail(err, field, "a batch must be a JSON array of response "
			    "objects");
			return NULL;
		}
	}
	return doc;
}

static const char *
one_of(const char *value, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(value, *set) == 0)
			return *set;
	return NULL;
}

static bool
valid_uuid(const char *s, char out[37])
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[36] = '\0';
	return true;
}

static bool
check_members(json_t *obj, struct response_error *err)
{
	const char *key;
	json_t *value;

	json_object_foreach(obj, key, value) {
		if (one_of(key, members) == NULL)
			return fail(err, key, "unknown member");
	}
	return true;
}

/* An optional member given as null is treated as absent. */
static json_t *
optional(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_null(v) ? NULL : v;
}

/* prefix and name make the field, built only for an error message. */
static bool
scale_value(const struct questionnaire *q, json_t *v, const char *prefix,
    const char *name, int *out, struct response_error *err)
{
	char field[96];
	json_int_t n;

	if (!json_is_integer(v)) {
		snprintf(field, sizeof field, "%s%s", prefix, name);
		return fail(err, field, "must be an integer from %d to %d%s",
		    q->scale_min, q->scale_max,
		    json_is_real(v) ? " (not a decimal)" : "");
	}
	n = json_integer_value(v);
	if (n < q->scale_min || n > q->scale_max) {
		snprintf(field, sizeof field, "%s%s", prefix, name);
		return fail(err, field, "%lld is outside the scale %d to %d",
		    (long long)n, q->scale_min, q->scale_max);
	}
	*out = (int)n;
	return true;
}

static bool
check_answers(struct response *r, json_t *answers, struct response_error *err)
{
	const struct questionnaire *q = r->questionnaire;
	bool given[CATALOG_MAX_CRITERIA] = { false };
	char field[96];
	const char *key;
	json_t *value;
	int i;

	if (!json_is_object(answers))
		return fail(err, "answers", "must be an object of criterion codes");
	size_t n = 0;

	json_object_foreach(answers, key, value) {
		/* Kiosks send the criteria in order: try that first. */
		if (n < q->ncriteria && strcmp(q->criteria[n].code, key) == 0)
			i = (int)n;
		else if ((i = questionnaire_criterion(q, key)) < 0) {
			snprintf(field, sizeof field, "answers.%s", key);
			return fail(err, field, "unknown criterion for %s", q->code);
		}
		n++;
		given[i] = true;
		if (json_is_null(value))
			r->answers[i] = RESPONSE_NA;
		else if (!scale_value(q, value, "answers.", key, &r->answers[i], err))
			return false;
	}
	for (size_t c = 0; c < q->ncriteria; c++) {
		if (!given[c]) {
			snprintf(field, sizeof field, "answers.%s",
			    q->criteria[c].code);
			return fail(err, field, "missing: every criterion must "
			    "be answered, null when not applicable");
		}
	}
	return true;
}

static bool
check_respondent(struct response *r, json_t *resp, struct response_error *err)
{
	char field[96];
	const char *key;
	json_t *value;
	size_t i;

	if (!json_is_object(resp))
		return fail(err, "respondent", "must be an object");
	json_object_foreach(resp, key, value) {
		snprintf(field, sizeof field, "respondent.%s", key);
		for (i = 0; i < NRESPONDENT; i++)
			if (strcmp(key, respondent_fields[i].name) == 0)
				break;
		if (i == NRESPONDENT)
			return fail(err, field, "unknown member");
		if (json_is_null(value))
			continue;
		const char **slot = (const char **)((char *)r +
		    respondent_fields[i].offset);
		if (!json_is_string(value) || (*slot = one_of(
		    json_string_value(value), respondent_fields[i].set)) == NULL)
			return fail(err, field, "not one of the allowed values");
	}
	return true;
}

static bool
check_procedure(struct response *r, json_t *v, struct response_error *err)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return fail(err, "procedure", "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < 1 || len > 32)
		return fail(err, "procedure", "must be 1 to 32 characters");
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return fail(err, "procedure", "may hold only 0-9, A-Z, "
			    "a-z, '.' and '-'");
	memcpy(r->procedure, s, len + 1);
	return true;
}

/* counter and officer: a registry code ([A-Za-z0-9._-], as the schema
 * has it); dossier: the one-stop system's code, '/' allowed too. Whether
 * the code names anything is the organisation's to say (org.c). */
static bool
check_code(char *out, json_t *v, const char *field, const char *allowed,
    struct response_error *err)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return fail(err, field, "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < 1 || len > RESPONSE_CODE_MAX)
		return fail(err, field, "must be 1 to %d characters",
		    RESPONSE_CODE_MAX);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    (s[i] == '\0' || strchr(allowed, s[i]) == NULL))
			return fail(err, field, "may hold only 0-9, A-Z, a-z "
			    "and any of \"%s\"", allowed);
	memcpy(out, s, len + 1);
	return true;
}

static bool
check_comment(struct response *r, json_t *v, struct response_error *err)
{
	size_t len;

	if (!json_is_string(v))
		return fail(err, "comment", "must be a string");
	len = json_string_length(v);
	if (len > RESPONSE_COMMENT_MAX)
		return fail(err, "comment", "is %zu bytes, the limit is %d",
		    len, RESPONSE_COMMENT_MAX);
	/* jansson has checked UTF-8 and refused NUL; control characters remain. */
	if (utf8_has_control(json_string_value(v), len))
		return fail(err, "comment", "holds a control character other "
		    "than newline or tab");
	r->comment = xstrndup(json_string_value(v), len);
	return true;
}

/* Strings are length-prefixed so that no two contents hash alike by
 * shifting bytes between fields. */
static void
hash_str(EVP_MD_CTX *ctx, const char *s)
{
	uint32_t len = s == NULL ? UINT32_MAX : (uint32_t)strlen(s);
	unsigned char be[4] = { len >> 24, len >> 16, len >> 8, len };

	EVP_DigestUpdate(ctx, be, sizeof be);
	if (s != NULL)
		EVP_DigestUpdate(ctx, s, len);
}

/* A member of protocol 1.1, hashed only when present and under its name:
 * a response without them hashes as in version 1, so that a kiosk retrying
 * an id stored before the upgrade still gets its duplicate. */
static void
hash_tagged(EVP_MD_CTX *ctx, const char *tag, const char *s)
{
	if (s[0] == '\0')
		return;
	hash_str(ctx, tag);
	hash_str(ctx, s);
}

static void
hash_int(EVP_MD_CTX *ctx, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	hash_str(ctx, buf);
}

/* The hash covers the content as validated, not the bytes sent: member order,
 * whitespace, the timestamp's offset and an optional member sent as null do
 * not make two submissions different. */
static void
response_hash(struct response *r)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	hash_str(ctx, "sipas-response-v1");
	hash_str(ctx, r->id);
	hash_str(ctx, r->questionnaire->code);
	hash_int(ctx, r->submitted_at);
	hash_str(ctx, r->area->code);
	hash_str(ctx, r->procedure[0] ? r->procedure : NULL);
	for (size_t i = 0; i < r->questionnaire->ncriteria; i++) {
		hash_str(ctx, r->questionnaire->criteria[i].code);
		hash_int(ctx, r->answers[i]);
	}
	hash_int(ctx, r->overall);
	hash_str(ctx, r->comment);
	hash_str(ctx, r->gender);
	hash_str(ctx, r->age_group);
	hash_str(ctx, r->ethnicity);
	hash_str(ctx, r->education);
	hash_str(ctx, r->occupation);
	hash_tagged(ctx, "counter", r->counter);
	hash_tagged(ctx, "officer", r->officer);
	hash_tagged(ctx, "dossier", r->dossier);
	EVP_DigestFinal_ex(ctx, r->hash, &len);
	EVP_MD_CTX_free(ctx);
}

static bool
validate(struct response *r, json_t *obj, const struct catalog *cat,
    const struct response_limits *lim, struct response_error *err)
{
	json_t *v;
	const char *s;

	if (!json_is_object(obj))
		return fail(err, "", "a response must be a JSON object");
	if (!check_members(obj, err))
		return false;

	v = json_object_get(obj, "id");
	if (v == NULL)
		return fail(err, "id", "required");
	if (!json_is_string(v) || !valid_uuid(json_string_value(v), r->id))
		return fail(err, "id", "must be a UUID in canonical text form");

	v = json_object_get(obj, "questionnaire");
	if (v == NULL)
		return fail(err, "questionnaire", "required");
	if (!json_is_string(v))
		return fail(err, "questionnaire", "must be a string");
	r->questionnaire = catalog_questionnaire(cat, json_string_value(v));
	if (r->questionnaire == NULL || !r->questionnaire->active)
		return fail(err, "questionnaire", "not an active questionnaire");

	v = json_object_get(obj, "submitted_at");
	if (v == NULL)
		return fail(err, "submitted_at", "required");
	if (!json_is_string(v) ||
	    !rfc3339_parse(json_string_value(v), &r->submitted_at))
		return fail(err, "submitted_at", "must be an RFC 3339 timestamp "
		    "with offset, like 2026-11-26T09:15:02+07:00");
	if (r->submitted_at > lim->now + RESPONSE_FUTURE_SLACK_S * 1000000LL)
		return fail(err, "submitted_at", "more than 5 minutes in the "
		    "future of the server clock");
	if (r->submitted_at < lim->now - lim->max_age)
		return fail(err, "submitted_at", "older than %lld days",
		    (long long)(lim->max_age / 86400000000LL));

	v = json_object_get(obj, "service_area");
	if (v == NULL)
		return fail(err, "service_area", "required");
	if (!json_is_string(v))
		return fail(err, "service_area", "must be a string");
	s = json_string_value(v);
	if ((r->area = catalog_area(cat, s)) == NULL)
		return fail(err, "service_area", "not a known service area");

	if ((v = optional(obj, "procedure")) != NULL &&
	    !check_procedure(r, v, err))
		return false;

	v = json_object_get(obj, "answers");
	if (v == NULL)
		return fail(err, "answers", "required");
	if (!check_answers(r, v, err))
		return false;

	if ((v = optional(obj, "overall")) != NULL &&
	    !scale_value(r->questionnaire, v, "", "overall", &r->overall, err))
		return false;
	if ((v = optional(obj, "comment")) != NULL && !check_comment(r, v, err))
		return false;
	if ((v = optional(obj, "respondent")) != NULL &&
	    !check_respondent(r, v, err))
		return false;
	if ((v = optional(obj, "counter")) != NULL &&
	    !check_code(r->counter, v, "counter", "._-", err))
		return false;
	if ((v = optional(obj, "officer")) != NULL &&
	    !check_code(r->officer, v, "officer", "._-", err))
		return false;
	if ((v = optional(obj, "dossier")) != NULL &&
	    !check_code(r->dossier, v, "dossier", "._-/", err))
		return false;
	return true;
}

/* With comment_seal_key, the comment is sealed after the content hash and
 * before anything stores it: the spool and the database hold only the box,
 * and the duplicate rule compares the hash of what was sent. */
bool
response_seal(struct response *r, const unsigned char *pk)
{
	char *sealed;

	if (pk == NULL || r->comment == NULL || r->comment[0] == '\0')
		return true;
	if ((sealed = seal_text(r->comment, pk)) == NULL)
		return false;
	explicit_bzero(r->comment, strlen(r->comment));
	free(r->comment);
	r->comment = sealed;
	return true;
}

bool
response_from_json(struct response *r, json_t *obj, const struct catalog *cat,
    const struct response_limits *lim, struct response_error *err)
{
	memset(r, 0, sizeof *r);
	r->overall = RESPONSE_NA;
	if (!validate(r, obj, cat, lim, err)) {
		response_clear(r);
		return false;
	}
	response_hash(r);
	return true;
}

void
response_clear(struct response *r)
{
	free(r->comment);
	memset(r, 0, sizeof *r);
	r->overall = RESPONSE_NA;
}


static json_t *
string_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
response_to_record(const struct response *r)
{
	char hash[2 * RESPONSE_HASH_LEN + 1];
	json_t *answers = json_array(), *rec;

	for (size_t i = 0; i < r->questionnaire->ncriteria; i++)
		json_array_append_new(answers, r->answers[i] == RESPONSE_NA ?
		    json_null() : json_integer(r->answers[i]));
	hex_encode(r->hash, RESPONSE_HASH_LEN, hash);
	rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:o}",
	    "id", r->id, "hash", hash, "questionnaire", r->questionnaire->code,
	    "submitted_at", (json_int_t)r->submitted_at, "service_area",
	    r->area->code, "procedure", string_or_null(r->procedure),
	    "answers", answers, "overall", r->overall == RESPONSE_NA ?
	    json_null() : json_integer(r->overall),
	    "comment", string_or_null(r->comment));
	for (size_t i = 0; i < NRESPONDENT; i++)
		json_object_set_new(rec, respondent_fields[i].name, string_or_null(
		    *(const char *const *)((const char *)r + respondent_fields[i].offset)));
	for (size_t i = 0; i < NCODES; i++)
		json_object_set_new(rec, code_fields[i].name, string_or_null(
		    (const char *)r + code_fields[i].offset));
	return rec;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
response_from_record(struct response *r, json_t *rec, const struct catalog *cat)
{
	const char *id = NULL, *hash = NULL, *q = NULL, *area = NULL;
	json_t *procedure = NULL, *answers = NULL, *overall = NULL, *comment = NULL;
	json_int_t submitted = 0;
	json_t *v;
	size_t i;

	memset(r, 0, sizeof *r);
	r->overall = RESPONSE_NA;
	if (json_unpack(rec, "{s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:o}",
	    "id", &id, "hash", &hash, "questionnaire", &q, "submitted_at",
	    &submitted, "service_area", &area, "procedure", &procedure,
	    "answers", &answers, "overall", &overall, "comment", &comment) != 0 ||
	    !valid_uuid(id, r->id) || strlen(hash) != 2 * RESPONSE_HASH_LEN ||
	    (r->questionnaire = catalog_questionnaire(cat, q)) == NULL ||
	    (r->area = catalog_area(cat, area)) == NULL ||
	    !json_is_array(answers) ||
	    json_array_size(answers) != r->questionnaire->ncriteria)
		goto bad;
	for (i = 0; i < RESPONSE_HASH_LEN; i++) {
		int hi = hexval(hash[2 * i]), lo = hexval(hash[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		r->hash[i] = (unsigned char)(hi << 4 | lo);
	}
	r->submitted_at = submitted;
	json_array_foreach(answers, i, v) {
		if (json_is_null(v))
			r->answers[i] = RESPONSE_NA;
		else if (json_is_integer(v))
			r->answers[i] = (int)json_integer_value(v);
		else
			goto bad;
	}
	if (json_is_string(procedure) && json_string_length(procedure) < sizeof r->procedure)
		memcpy(r->procedure, json_string_value(procedure),
		    json_string_length(procedure) + 1);
	if (json_is_integer(overall))
		r->overall = (int)json_integer_value(overall);
	if (json_is_string(comment))
		r->comment = xstrdup(json_string_value(comment));
	for (i = 0; i < NRESPONDENT; i++) {
		v = json_object_get(rec, respondent_fields[i].name);
		if (json_is_string(v))
			*(const char **)((char *)r + respondent_fields[i].offset) =
			    one_of(json_string_value(v), respondent_fields[i].set);
	}
	/* Absent from the records of version 1. */
	for (i = 0; i < NCODES; i++) {
		v = json_object_get(rec, code_fields[i].name);
		if (json_is_string(v) && json_string_length(v) <= RESPONSE_CODE_MAX)
			memcpy((char *)r + code_fields[i].offset,
			    json_string_value(v), json_string_length(v) + 1);
	}
	return true;
bad:
	response_clear(r);
	return false;
}
