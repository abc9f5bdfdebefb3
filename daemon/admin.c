/* The operators' endpoints on the admin listener. /metrics is the counters
 * metrics.c keeps and the gauges read here, from the modules that hold
 * them, at the time of the scrape. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "admin.h"
#include "db.h"
#include "http.h"
#include "kiosk.h"
#include "metrics.h"
#include "org.h"
#include "peer.h"
#include "sipasd.h"
#include "spool.h"
#include "utf8.h"

#define ADMIN_PING "admin_ping"

static void
reply_health(struct request *req, const char *error)
{
	char reason[256];
	json_t *doc;

	snprintf(reason, sizeof reason, "%s", error ? error : "");
	utf8_sanitize(reason);	/* a server message, cut to size */
	doc = error == NULL ? json_pack("{s:s}", "status", "ok") :
	    json_pack("{s:s, s:s}", "status", "unavailable", "reason", reason);
	http_reply_json(req, error == NULL ? 200 : 503, doc, NULL);
}

static void
on_ping(PGresult *res, const struct db_failure *f, void *arg)
{
	reply_health(arg, res == NULL ? f->message : NULL);
}

void
admin_start(void)
{
	db_prepare(ADMIN_PING, "SELECT 1");
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
	if (!org_known()) {
		reply_health(req, db_ready() ? "reading the organisation" : db_error());
		return;
	}
	if (!db_query(ADMIN_PING, 0, NULL, NULL, NULL, on_ping, req))
		reply_health(req, db_error());
}

/* Ready means this node can answer kiosks now: 201 while the database
 * takes their responses, 202 (the spool) while it cannot. A balancer
 * checks this, not /healthz, so that an outage of the database does not
 * take every node out of service and leave the kiosks nowhere to go.
 * Without a registry a kiosk is looked up in the database, so only the
 * two missing together make the node unready. */
void
admin_readyz(struct request *req)
{
	const char *why = NULL;
	json_t *doc;

	if (server.stopping)
		why = "stopping";
	else if (server.catalog == NULL)
		why = "the catalog has not been read from the database yet";
	else if (!kiosk_registry_present() && !db_ready())
		why = "the kiosk registry has not been read from the database yet";
	else if (!db_ready() && !spool_writable())
		why = "the database is away and the spool cannot take responses";
	doc = why == NULL ? json_pack("{s:s}", "status", "ready") :
	    json_pack("{s:s, s:s}", "status", "unavailable", "reason", why);
	http_reply_json(req, why == NULL ? 200 : 503, doc, NULL);
}

void
admin_metrics(struct request *req)
{
	struct metrics_gauges g = {
		.spool_records = spool_depth(),
		.spool_aside = spool_aside_count(),
		.connections = server.nconns,
		.queries_in_flight = db_inflight(),
		.database_up = db_ready(),
		.kiosk_connections_max = peer_cert_max_held(),
		.node = server.cfg->node_name,
	};
	struct evbuffer *out = evbuffer_new();
	size_t len;

	metrics_render(out, &g);
	len = evbuffer_get_length(out);
	http_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}
