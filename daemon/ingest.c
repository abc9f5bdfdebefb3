/* The kiosk endpoints: serve the questionnaire, and take responses from the
 * request body through validation to the group commit (commit.c), answering
 * each once its transaction has committed or it is in the spool. The
 * commit layer says what became of a response; this says it in HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "commit.h"
#include "http.h"
#include "log.h"
#include "ingest.h"
#include "metrics.h"
#include "org.h"
#include "sipasd.h"
#include "utf8.h"
#include "xmalloc.h"

static struct response_limits
limits_now(void)
{
	struct response_limits lim;

	lim.now = clock_wall_us();
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
reply_invalid(struct request *req, const struct response_error *err)
{
	http_reply_json(req, 400, invalid_json(err), NULL);
}

static const char *
body_text(struct request *req, size_t *len)
{
	*len = evbuffer_get_length(req->body);
	return (const char *)evbuffer_pullup(req->body, -1);
}

/* Nothing can be validated before the catalog is known (a first start
 * while the database is away). */
static bool
catalog_known(struct request *req)
{
	if (server.catalog != NULL)
		return true;
	http_reply_error(req, 503, "unavailable");
	return false;
}

void
ingest_questionnaire(struct request *req)
{
	const struct questionnaire *q = NULL;
	struct evbuffer *body;
	json_t *context;
	char *ctx;
	size_t qlen;

	if (!catalog_known(req))
		return;
	if (req->kiosk.questionnaire_id != 0)
		q = catalog_questionnaire_by_id(server.catalog,
		    req->kiosk.questionnaire_id);
	if (q == NULL)
		q = catalog_default_questionnaire(server.catalog);
	if (q == NULL || (context = org_context(&req->kiosk,
	    clock_wall_us())) == NULL) {
		http_reply_error(req, 503, "unavailable");
		return;
	}
	/* The questionnaire's members as they were, then the kiosk's own. */
	ctx = json_dumps(context, JSON_COMPACT);
	json_decref(context);
	qlen = strlen(q->json);
	body = evbuffer_new();
	evbuffer_add(body, q->json, qlen - 1);
	evbuffer_add_printf(body, ",%s", ctx + 1);
	free(ctx);
	http_reply_raw(req, 200, HTTP_JSON_TYPE,
	    (const char *)evbuffer_pullup(body, -1), evbuffer_get_length(body));
	evbuffer_free(body);
}

/* The HTTP status of an outcome: the reply to it alone, or its item's in a
 * batch. */
static int
outcome_status(enum outcome o)
{
	switch (o) {
	case OUTCOME_STORED:
		return 201;
	case OUTCOME_DUPLICATE:
		return 200;
	case OUTCOME_CONFLICT:
	case OUTCOME_DOSSIER_RATED:
		return 409;
	case OUTCOME_SPOOLED:
		return 202;
	case OUTCOME_UNAVAILABLE:
	case OUTCOME_COUNT:
		break;
	}
	return 503;
}

static const char *
conflict_error(enum outcome o)
{
	return o == OUTCOME_DOSSIER_RATED ? "dossier_already_rated" :
	    "id_conflict";
}

/* The organisation's rules (org.c) on a valid response: false when they
 * refuse it, with the status and what to say in err. */
static bool
judged(struct request *req, struct response *r, int *status,
    struct response_error *err)
{
	switch (org_judge(&req->kiosk, r, err)) {
	case ORG_ACCEPTED:
		return true;
	case ORG_INVALID:
		*status = 400;
		break;
	case ORG_CLOSED:
		/* The kiosk's center was closed (or not open yet) that day:
		 * the kiosk must stop and call the administrator. */
		*status = 403;
		break;
	case ORG_UNAVAILABLE:
	default:
		*status = 503;
		break;
	}
	response_clear(r);
	return false;
}

/* The comment sealed with comment_seal_key, or the response refused 503
 * (the kiosk keeps it and retries): never stored in the clear. */
static bool
sealed(struct response *r, int *status)
{
	if (response_seal(r, server.cfg->seal ? server.cfg->seal_pk : NULL))
		return true;
	log_error("response %s refused: its comment cannot be sealed with "
	    "comment_seal_key", r->id);
	*status = 503;
	response_clear(r);
	return false;
}

static void
reply_refused(struct request *req, int status, const struct response_error *err)
{
	if (status == 400)
		reply_invalid(req, err);
	else
		http_reply_error(req, status, status == 403 ? "kiosk_revoked" :
		    "unavailable");
}

static void
on_stored(struct submission *s, enum outcome o)
{
	struct request *req = s->arg;
	int status = outcome_status(o);

	switch (status) {
	case 201:
	case 200:
	case 202:
		http_reply_json(req, status, json_pack("{s:s, s:s}", "id",
		    req->resp.id, "status", status == 201 ? "stored" :
		    status == 200 ? "duplicate" : "queued"), NULL);
		break;
	case 409:
		http_reply_json(req, 409, json_pack("{s:s, s:s}", "id",
		    req->resp.id, "error", conflict_error(o)), NULL);
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
	int status = 503;

	if (!catalog_known(req))
		return;
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
	if (!judged(req, &req->resp, &status, &err) || !sealed(&req->resp, &status)) {
		reply_refused(req, status, &err);
		return;
	}
	req->sub.resp = &req->resp;
	req->sub.kiosk = &req->kiosk;
	req->sub.done = on_stored;
	req->sub.arg = req;
	commit_submit(&req->sub);
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
	case 202:
		return json_pack("{s:o, s:s}", "id", id, "status", "queued");
	case 400:
		return json_pack("{s:o, s:i, s:s, s:o, s:s}", "id", id,
		    "status", 400, "error", "invalid", "field",
		    it->error.field[0] ? json_string(it->error.field) : json_null(),
		    "message", it->error.message);
	case 403:
		return json_pack("{s:o, s:i, s:s}", "id", id, "status", 403,
		    "error", "kiosk_revoked");
	case 409:
		return json_pack("{s:o, s:i, s:s}", "id", id, "status", 409,
		    "error", conflict_error(it->outcome));
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
	http_reply_json(req, 200, out, NULL);
}

static void
on_item_stored(struct submission *s, enum outcome o)
{
	struct batch_item *it = s->arg;
	struct request *req = it->req;

	it->status = outcome_status(o);
	it->outcome = o;
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

	if (!catalog_known(req))
		return;
	body = body_text(req, &len);
	if ((doc = response_batch_load(body, len,
	    (size_t)server.cfg->max_batch_items, &err)) == NULL) {
		reply_invalid(req, &err);
		return;
	}
	req->nitems = json_array_size(doc);
	req->items = xcalloc(req->nitems, sizeof *req->items);
	metrics_batch_items(req->nitems);
	json_array_foreach(doc, i, item) {
		struct batch_item *it = &req->items[i];
		json_t *id = json_object_get(item, "id");

		it->req = req;
		if (json_is_string(id)) {
			snprintf(it->id, sizeof it->id, "%s", json_string_value(id));
			utf8_sanitize(it->id);	/* cut to size, maybe mid-character */
		}
		if (!response_from_json(&it->resp, item, server.catalog, &lim,
		    &it->error)) {
			it->status = 400;
			continue;
		}
		if (!judged(req, &it->resp, &it->status, &it->error) ||
		    !sealed(&it->resp, &it->status))
			continue;
		it->sub.resp = &it->resp;
		it->sub.kiosk = &req->kiosk;
		it->sub.done = on_item_stored;
		it->sub.arg = it;
		req->pending++;
		commit_submit(&it->sub);	/* answered later, never from here */
	}
	json_decref(doc);
	if (req->pending == 0)
		batch_finish(req);
}
