/* The operators' endpoints on the admin listener. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "db.h"
#include "metrics.h"
#include "sipasd.h"
#include "utf8.h"

static void
reply_health(struct request *req, const char *error)
{
	char reason[256];
	json_t *doc;
	char *text;

	snprintf(reason, sizeof reason, "%s", error ? error : "");
	utf8_sanitize(reason);	/* a server message, cut to size */
	doc = error == NULL ? json_pack("{s:s}", "status", "ok") :
	    json_pack("{s:s, s:s}", "status", "unavailable", "reason", reason);
	text = json_dumps(doc, JSON_COMPACT);

	http_reply(req, error == NULL ? 200 : 503, text, NULL);
	free(text);
	json_decref(doc);
}

static void
on_ping(PGresult *res, const struct db_failure *f, void *arg)
{
	reply_health(arg, res == NULL ? f->message : NULL);
}

void
admin_start(void)
{
	db_prepare("ping", "SELECT 1");
}

/* Healthy means a query made the round trip just now, not merely that a
 * connection object exists. */
void
admin_healthz(struct request *req)
{
	if (server.catalog == NULL) {
		reply_health(req, "the catalog has not been read from the database yet");
		return;
	}
	if (!server.catalog_current) {
		reply_health(req, db_ready() ? "reading the catalog" : db_error());
		return;
	}
	if (!server.db_checked) {
		reply_health(req, db_ready() ? "checking the database role" : db_error());
		return;
	}
	if (!db_query("ping", 0, NULL, NULL, NULL, on_ping, req))
		reply_health(req, db_error());
}

void
admin_metrics(struct request *req)
{
	struct evbuffer *out = evbuffer_new();
	size_t len;

	metrics_render(out);
	len = evbuffer_get_length(out);
	http_reply_typed(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(out, -1), len, NULL);
	evbuffer_free(out);
}
