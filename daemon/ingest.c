/* The kiosk endpoints: serve the questionnaire, and take responses from the
 * request body through validation into sipas_submit(), answering each only
 * once its transaction has committed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "sipasd.h"
#include "xmalloc.h"

#define SUBMIT_PARAMS 16

static const char submit_sql[] =
    "SELECT sipas_submit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
    "$13, $14, $15, $16)";

/* A submission's parameters in text form, kept alive until sent. */
struct submit_params {
	char ints[5][16];
	char submitted_at[64];
	char answers[CATALOG_MAX_CRITERIA * 4 + 8];
	const char *values[SUBMIT_PARAMS];
	int lengths[SUBMIT_PARAMS];
	int formats[SUBMIT_PARAMS];
};

static void
build_params(struct submit_params *p, const struct response *r,
    const struct kiosk_ref *k)
{
	time_t secs = (time_t)(r->submitted_at / 1000000);
	long usecs = (long)(r->submitted_at % 1000000);
	struct tm tm;
	size_t off = 0;

	if (usecs < 0) {
		secs--;
		usecs += 1000000;
	}
	gmtime_r(&secs, &tm);
	snprintf(p->submitted_at, sizeof p->submitted_at,
	    "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usecs);
	p->answers[off++] = '{';
	for (size_t i = 0; i < r->questionnaire->ncriteria; i++) {
		if (r->answers[i] == RESPONSE_NA)
			off += (size_t)snprintf(p->answers + off,
			    sizeof p->answers - off, "%sNULL", i ? "," : "");
		else
			off += (size_t)snprintf(p->answers + off,
			    sizeof p->answers - off, "%s%d", i ? "," : "",
			    r->answers[i]);
	}
	snprintf(p->answers + off, sizeof p->answers - off, "}");
	snprintf(p->ints[0], sizeof p->ints[0], "%d", k->id);
	snprintf(p->ints[1], sizeof p->ints[1], "%d", k->center_id);
	snprintf(p->ints[2], sizeof p->ints[2], "%d", r->area->id);
	snprintf(p->ints[3], sizeof p->ints[3], "%d", r->questionnaire->id);
	snprintf(p->ints[4], sizeof p->ints[4], "%d", r->overall);

	memset(p->lengths, 0, sizeof p->lengths);
	memset(p->formats, 0, sizeof p->formats);
	p->values[0] = r->id;
	p->values[1] = (const char *)r->hash;
	p->lengths[1] = RESPONSE_HASH_LEN;
	p->formats[1] = 1;
	p->values[2] = p->ints[0];
	p->values[3] = p->ints[1];
	p->values[4] = p->ints[2];
	p->values[5] = p->ints[3];
	p->values[6] = r->procedure[0] ? r->procedure : NULL;
	p->values[7] = p->submitted_at;
	p->values[8] = p->answers;
	p->values[9] = r->overall == RESPONSE_NA ? NULL : p->ints[4];
	p->values[10] = r->comment;
	p->values[11] = r->gender;
	p->values[12] = r->age_group;
	p->values[13] = r->ethnicity;
	p->values[14] = r->education;
	p->values[15] = r->occupation;
}

static bool
submit(const struct response *r, const struct kiosk_ref *k, db_cb *cb, void *arg)
{
	struct submit_params p;

	build_params(&p, r, k);
	return db_query(submit_sql, SUBMIT_PARAMS, p.values, p.lengths,
	    p.formats, cb, arg);
}

/* 201 stored, 200 duplicate, 409 conflict, 503 when nothing is known. */
static int
submit_status(PGresult *res, const char *error, struct request *req,
    const char *id)
{
	const char *outcome;

	if (res == NULL) {
		log_error("request %llu: storing response %s failed: %s",
		    (unsigned long long)req->id, id, error);
		return 503;
	}
	metrics_commit(seconds_since(&req->submitted));
	outcome = PQgetvalue(res, 0, 0);
	if (strcmp(outcome, "stored") == 0) {
		metrics_outcome(OUTCOME_STORED);
		return 201;
	}
	if (strcmp(outcome, "duplicate") == 0) {
		metrics_outcome(OUTCOME_DUPLICATE);
		return 200;
	}
	metrics_outcome(OUTCOME_CONFLICT);
	log_info("request %llu kiosk=%s: response %s: id conflict (stored before "
	    "with other content)", (unsigned long long)req->id, req->kiosk.code, id);
	return 409;
}

static struct response_limits
limits_now(void)
{
	struct response_limits lim;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	lim.now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	lim.max_age = server.cfg->max_age_days * 86400LL * 1000000;
	return lim;
}

static json_t *
invalid_json(const struct response_error *err)
{
	return json_pack("{s:s, s:o, s:s}", "error", "invalid",
	    "field", err->field[0] ? json_string(err->field) : json_null(),
	    "message", err->message);
}

static void
reply_json(struct request *req, int status, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);

	http_reply(req, status, text, status == 503 ? "Retry-After: 5\r\n" : NULL);
	free(text);
	json_decref(doc);
}

static void
reply_invalid(struct request *req, const struct response_error *err)
{
	reply_json(req, 400, invalid_json(err));
}

static const char *
body_text(struct request *req, size_t *len)
{
	*len = evbuffer_get_length(req->body);
	return (const char *)evbuffer_pullup(req->body, -1);
}

void
ingest_questionnaire(struct request *req)
{
	const struct questionnaire *q = NULL;

	if (req->kiosk.questionnaire_id != 0)
		q = catalog_questionnaire_by_id(server.catalog,
		    req->kiosk.questionnaire_id);
	if (q == NULL)
		q = catalog_default_questionnaire(server.catalog);
	if (q == NULL) {
		http_reply_error(req, 503, "unavailable");
		return;
	}
	http_reply(req, 200, q->json, NULL);
}

static void
on_submitted(PGresult *res, const char *error, void *arg)
{
	struct request *req = arg;
	int status = submit_status(res, error, req, req->resp.id);

	switch (status) {
	case 201:
	case 200:
		reply_json(req, status, json_pack("{s:s, s:s}", "id", req->resp.id,
		    "status", status == 201 ? "stored" : "duplicate"));
		break;
	case 409:
		reply_json(req, 409, json_pack("{s:s, s:s}", "id", req->resp.id,
		    "error", "id_conflict"));
		break;
	default:
		http_reply_error(req, 503, "unavailable");
	}
}

void
ingest_response(struct request *req)
{
	struct response_limits lim = limits_now();
	struct response_error err;
	const char *body;
	size_t len;
	json_t *doc;
	bool ok;

	body = body_text(req, &len);
	if ((doc = response_json_load(body, len, &err)) == NULL) {
		reply_invalid(req, &err);
		return;
	}
	ok = response_from_json(&req->resp, doc, server.catalog, &lim, &err);
	json_decref(doc);
	if (!ok) {
		reply_invalid(req, &err);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &req->submitted);
	if (!submit(&req->resp, &req->kiosk, on_submitted, req))
		http_reply_error(req, 503, "unavailable");
}

static json_t *
batch_item_json(const struct batch_item *it)
{
	json_t *id = it->id[0] ? json_string(it->id) : json_null();

	switch (it->status) {
	case 201:
		return json_pack("{s:o, s:s}", "id", id, "status", "stored");
	case 200:
		return json_pack("{s:o, s:s}", "id", id, "status", "duplicate");
	case 400:
		return json_pack("{s:o, s:i, s:s, s:o, s:s}", "id", id,
		    "status", 400, "error", "invalid", "field",
		    it->error.field[0] ? json_string(it->error.field) : json_null(),
		    "message", it->error.message);
	case 409:
		return json_pack("{s:o, s:i, s:s}", "id", id, "status", 409,
		    "error", "id_conflict");
	default:
		return json_pack("{s:o, s:i, s:s}", "id", id, "status", 503,
		    "error", "unavailable");
	}
}

static void
batch_finish(struct request *req)
{
	json_t *out = json_array();

	for (size_t i = 0; i < req->nitems; i++)
		json_array_append_new(out, batch_item_json(&req->items[i]));
	reply_json(req, 200, out);
}

static void
on_item_submitted(PGresult *res, const char *error, void *arg)
{
	struct batch_item *it = arg;
	struct request *req = it->req;

	it->status = submit_status(res, error, req, it->resp.id);
	if (--req->pending == 0)
		batch_finish(req);
}

void
ingest_batch(struct request *req)
{
	struct response_limits lim = limits_now();
	struct response_error err;
	const char *body;
	size_t len, i;
	json_t *doc, *item;

	body = body_text(req, &len);
	if ((doc = response_json_load(body, len, &err)) == NULL) {
		reply_invalid(req, &err);
		return;
	}
	if (!json_is_array(doc) ||
	    json_array_size(doc) > (size_t)server.cfg->max_batch_items) {
		snprintf(err.field, sizeof err.field, "%s", "");
		snprintf(err.message, sizeof err.message, "a batch must be a JSON "
		    "array of at most %lld response objects",
		    server.cfg->max_batch_items);
		json_decref(doc);
		reply_invalid(req, &err);
		return;
	}
	json_array_foreach(doc, i, item) {
		if (!json_is_object(item)) {
			snprintf(err.field, sizeof err.field, "[%zu]", i);
			snprintf(err.message, sizeof err.message, "a batch must be "
			    "a JSON array of response objects");
			json_decref(doc);
			reply_invalid(req, &err);
			return;
		}
	}
	req->nitems = json_array_size(doc);
	req->items = xcalloc(req->nitems, sizeof *req->items);
	metrics_batch(req->nitems);
	clock_gettime(CLOCK_MONOTONIC, &req->submitted);
	/* Counts one extra until every item is sent, so that an answer
	 * arriving early cannot finish the batch under our feet. */
	req->pending = 1;
	json_array_foreach(doc, i, item) {
		struct batch_item *it = &req->items[i];
		json_t *id = json_object_get(item, "id");

		it->req = req;
		if (json_is_string(id))
			snprintf(it->id, sizeof it->id, "%s", json_string_value(id));
		if (!response_from_json(&it->resp, item, server.catalog, &lim,
		    &it->error)) {
			it->status = 400;
			continue;
		}
		if (submit(&it->resp, &req->kiosk, on_item_submitted, it))
			req->pending++;
		else
			it->status = 503;
	}
	json_decref(doc);
	if (--req->pending == 0)
		batch_finish(req);
}
