/* The response object of the kiosk protocol: every validation rule of
 * docs/protocol.md, and the content hash behind the duplicate/conflict rule.
 * Pure functions, no I/O: unit-tested and fuzzed on their own. */
#ifndef SIPASD_RESPONSE_H
#define SIPASD_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catalog.h"

#define RESPONSE_NA		(-1)	/* an answer given as null */
#define RESPONSE_HASH_LEN	32
#define RESPONSE_COMMENT_MAX	2000
#define RESPONSE_CODE_MAX	64	/* counter, officer, dossier */
#define RESPONSE_FUTURE_SLACK_S	300	/* submitted_at may be this far ahead */

struct response_error {
	char field[96];		/* "" when the error is about the body as a whole */
	char message[160];
};

struct response {
	char id[37];				/* canonical, lower case */
	const struct questionnaire *questionnaire;	/* borrowed from the catalog */
	const struct service_area *area;		/* borrowed from the catalog */
	int64_t submitted_at;			/* microseconds since the epoch */
	char procedure[33];			/* "" when absent */
	int answers[CATALOG_MAX_CRITERIA];	/* by criterion position, or RESPONSE_NA */
	int overall;				/* RESPONSE_NA when absent */
	char *comment;				/* owned; NULL when absent */
	/* Respondent fields point to static strings; NULL when absent. */
	const char *gender, *age_group, *ethnicity, *education, *occupation;
	/* Protocol 1.1, as the kiosk sent them; "" when absent. */
	char counter[RESPONSE_CODE_MAX + 1];
	char officer[RESPONSE_CODE_MAX + 1];
	char dossier[RESPONSE_CODE_MAX + 1];
	unsigned char hash[RESPONSE_HASH_LEN];
	/* What the registry and the organisation (org.c) make of it on its
	 * day, set when it is judged at receipt and kept in the spool with
	 * it: the kiosk's center then, the counter and officer (0: none).
	 * Not hashed: they come from the registry, not from the kiosk. */
	int center_id, counter_id, officer_id;
};

struct response_limits {
	int64_t now;		/* microseconds since the epoch */
	int64_t max_age;	/* microseconds */
};

/* Parses a request body into JSON, refusing duplicate member names. Returns
 * NULL and fills err on failure. */
json_t *response_json_load(const char *body, size_t len,
    struct response_error *err);
/* Parses a batch body: a JSON array of at most max_items objects. Returns
 * NULL and fills err when the batch is refused whole. */
json_t *response_batch_load(const char *body, size_t len, size_t max_items,
    struct response_error *err);
/* Validates one response object and computes its hash. On failure r is
 * cleared and err says which field and why. */
bool response_from_json(struct response *r, json_t *obj,
    const struct catalog *cat, const struct response_limits *lim,
    struct response_error *err) __attribute__((warn_unused_result));
/* Seals the comment to pk (NULL: no sealing). False when it cannot be
 * sealed: the response must then be refused, never stored in the clear. */
bool response_seal(struct response *r, const unsigned char *pk)
    __attribute__((warn_unused_result));
void response_clear(struct response *r);

/* The validated response as a JSON object, and back: how the spool keeps
 * it. from_record checks what it reads against the catalog. */
json_t *response_to_record(const struct response *r);
bool response_from_record(struct response *r, json_t *rec,
    const struct catalog *cat) __attribute__((warn_unused_result));

#endif
