/* The daemon's core structures: the server, a connection, a request. Each
 * state value says where an object in that state is and who holds it. */
#ifndef SIPASD_H
#define SIPASD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <openssl/ssl.h>

#include "catalog.h"
#include "cert.h"
#include "commit.h"
#include "config.h"
#include "response.h"

struct server {
	struct event_base *base;
	struct config *cfg;
	SSL_CTX *ssl_ctx;
	struct catalog *catalog;	/* NULL until known: kiosks get 503 */
	struct evconnlistener *kiosk_listener;
	struct evconnlistener *admin_listener;
	TAILQ_HEAD(, conn) conns;	/* every open connection */
	unsigned nconns;
	uint64_t next_request_id;
	bool db_checked;		/* the database role may be written with */
	bool catalog_current;		/* catalog read from the database, not state_dir */
	bool stopping;			/* SIGTERM or SIGINT received */
	bool abandoned;			/* the shutdown deadline has come */
	struct event *stop_timer;
};

extern struct server server;

enum conn_state {
	CONN_HANDSHAKE,	/* TLS handshake in progress; no request yet */
	CONN_READING,	/* reading and parsing; req is NULL or being read */
	CONN_BUSY,	/* req is being served (kiosk lookup, database); parsing paused */
	CONN_CLOSING,	/* last reply queued; freed once the output has drained */
	CONN_LINGERING,	/* reply sent after an error; input discarded until EOF or timeout */
};

struct conn {
	TAILQ_ENTRY(conn) entry;	/* on server.conns */
	enum conn_state state;
	bool admin;			/* the operators' plain-HTTP listener */
	bool in_parse;			/* conn_parse() is on the stack */
	bool linger;			/* drain input before closing (see on_write) */
	bool replied;			/* a reply was sent: later requests' clocks
					 * start at their first byte */
	struct bufferevent *bev;
	struct event *timer;		/* request, idle or closing deadline */
	char peer[64];			/* address:port, for log lines */
	struct peer *from;		/* its address's slot while in the handshake */
	struct peer_cert *cert;		/* its certificate's limits once identified */
	unsigned char fingerprint[CERT_FINGERPRINT_LEN];	/* of the kiosk's certificate */
	http_parser parser;
	struct request *req;		/* the request being read or served */
};

enum route {
	ROUTE_NONE,
	ROUTE_QUESTIONNAIRE,	/* GET /v1/questionnaire */
	ROUTE_RESPONSES,	/* POST /v1/responses */
	ROUTE_BATCH,		/* POST /v1/responses/batch */
	ROUTE_HEALTHZ,		/* GET /healthz, admin listener */
	ROUTE_METRICS,		/* GET /metrics, admin listener */
};

/* What the registry says about the kiosk a request came from. */
struct kiosk_ref {
	int id;
	int center_id;
	int questionnaire_id;	/* 0: the catalog's default */
	char code[65];
};

struct batch_item {
	struct request *req;	/* the batch it belongs to */
	int status;		/* HTTP status it would have had alone; 0 while pending */
	char id[37];		/* as sent, when it was a string */
	struct response_error error;
	struct response resp;
	struct submission sub;
};

struct request {
	struct conn *conn;	/* NULL once the connection has gone: drop the reply */
	uint64_t id;
	struct timespec started;
	enum route route;
	int method;
	char path[256];
	size_t pathlen;
	bool path_too_long;

	/* Header parsing: the name being read and the values that matter. */
	char hname[32];
	size_t hnamelen;
	bool in_value;
	char content_type[128];
	size_t ctlen;
	char expect[32];
	size_t expectlen;
	size_t header_bytes;
	bool headers_done;	/* set by the parser */
	bool headers_seen;	/* the headers stage has run */
	int reject_status;	/* answer at the end of the message, if not 0 */
	char retry_after[32];	/* its Retry-After header, for 429 */
	const char *reject_error;
	const char *reject_extra;

	struct evbuffer *body;
	size_t body_limit;
	bool too_large;

	struct kiosk_ref kiosk;
	struct response resp;		/* POST /v1/responses */
	struct submission sub;
	struct batch_item *items;	/* POST /v1/responses/batch */
	size_t nitems;
	size_t pending;			/* database answers still to come */
};

/* http.c */
/* The event base, with the priorities the kiosk listener uses. */
struct event_base *http_base_new(void);
bool http_listen(void) __attribute__((warn_unused_result));
/* Serves requests on bev, which it takes over: a TLS bufferevent still in
 * its handshake (fingerprint NULL), or, for the admin listener and the
 * fuzzer, one ready to read. */
struct conn *http_conn_new(struct bufferevent *bev, bool admin,
    const char *peer, const unsigned char *fingerprint);
void http_close_all(bool force);
/* Queues the reply (body is JSON, extra is more header lines ending in
 * "\r\n" or NULL) and frees req. Safe when the connection has gone. */
void http_reply(struct request *req, int status, const char *body,
    const char *extra);
void http_reply_typed(struct request *req, int status, const char *ctype,
    const char *body, size_t len, const char *extra);
void http_reply_error(struct request *req, int status, const char *error);

/* ingest.c */
void ingest_questionnaire(struct request *req);
void ingest_response(struct request *req);
void ingest_batch(struct request *req);

/* admin.c */
void admin_start(void);
void admin_healthz(struct request *req);
void admin_metrics(struct request *req);

/* rollup.c */
void rollup_start(struct event_base *base);
void rollup_stop(void);

/* kiosk.c */
enum kiosk_status {
	KIOSK_ACTIVE,
	KIOSK_REVOKED,
	KIOSK_UNKNOWN,		/* no such certificate in the registry */
	KIOSK_UNAVAILABLE,	/* the registry cannot say: database down */
};
typedef void kiosk_cb(enum kiosk_status st, const struct kiosk_ref *ref,
    void *arg);
/* Calls cb at once from the registry in memory, or, for a certificate not
 * in it, once the registry has been read again. ref is cb's to copy. */
void kiosk_resolve(const unsigned char fp[CERT_FINGERPRINT_LEN], kiosk_cb *cb,
    void *arg);
void kiosk_start(void);		/* before db_start */
void kiosk_run(struct event_base *base);	/* reads the registry now and then */
void kiosk_stop(void);		/* after db_stop */
/* The registry was read from the database after at (µs since the epoch),
 * so it knows of every revocation made before: what a kiosk sent at at may
 * be judged by it. */
bool kiosk_registry_covers(int64_t at);
/* True, with why, when the kiosk was revoked at or before at (µs since the
 * epoch): what it sent then must not be stored. */
bool kiosk_revoked_before(int kiosk_id, int64_t at, char *why, size_t whylen);
/* Adds an entry as if the database had answered (the fuzzer). */
void kiosk_remember(const unsigned char fp[CERT_FINGERPRINT_LEN], bool revoked,
    const struct kiosk_ref *ref);

#endif
