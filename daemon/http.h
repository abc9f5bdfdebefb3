/* HTTP on both listeners: a connection, the request it is reading or
 * serving, and the replies handlers make. The layer is three files, each
 * calling only the ones after it: http.c the connections, http-request.c
 * a request from its first byte to its reply, http-parse.c the parser's
 * callbacks. Routing is route.c's; each state value says where an object
 * in that state is and who holds it. */
#ifndef SIPASD_HTTP_H
#define SIPASD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <http_parser.h>
#include <jansson.h>

#include "cert.h"
#include "kiosk.h"
#include "response.h"
#include "submission.h"

struct route;

/* What waits to be parsed: past this much libevent stops reading. */
#define HTTP_INPUT_HIGH_WATER (64 * 1024)
/* Pending output past which no further request is parsed. The largest
 * replies are the questionnaire (about 6 KiB), the kiosk page's largest
 * file (kiosk.js, about 15 KiB) and a batch's (up to some 100 KiB for 500
 * refused items): a few questionnaires, or a hundred
 * 201s, let a pipelining kiosk that reads keep the line full, while one
 * that does not read costs at most this plus one reply. */
#define HTTP_OUTPUT_LIMIT (32 * 1024)

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


struct batch_item {
	struct request *req;	/* the batch it belongs to */
	int status;		/* HTTP status it would have had alone; 0 while pending */
	enum outcome outcome;	/* what the commit said, once it did */
	char id[37];		/* as sent, when it was a string */
	struct response_error error;
	struct response resp;
	struct submission sub;
};

struct request {
	struct conn *conn;	/* NULL once the connection has gone: drop the reply */
	uint64_t id;
	struct timespec started;
	const struct route *route;	/* NULL until routed */
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
	char if_none_match[128];	/* the kiosk page's revalidation */
	size_t inmlen;			/* sizeof if_none_match: too long, ignored */
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

/* The event base, with the priorities the kiosk listener uses. */
struct event_base *http_base_new(void);
bool http_listen(void) __attribute__((warn_unused_result));
/* Serves requests on bev, which it takes over: a TLS bufferevent still in
 * its handshake (fingerprint NULL), or, for the admin listener and the
 * fuzzer, one ready to read. */
struct conn *http_conn_new(struct bufferevent *bev, bool admin,
    const char *peer, const unsigned char *fingerprint);
void http_close_all(bool force);

/* The replies a handler makes, each exactly once per request: each queues
 * the reply and frees req, and is safe when the connection has gone.
 * extra is more header lines ending in "\r\n", or NULL. */
#define HTTP_JSON_TYPE "application/json"
#define HTTP_RETRY_AFTER "Retry-After: 5\r\n"
/* doc (taken) serialized compactly; a document that cannot be serialized
 * is a bug, answered 500. */
void http_reply_json(struct request *req, int status, json_t *doc,
    const char *extra);
/* {"error":error}, error being one of the protocol's fixed codes; a 503
 * says when to come back. */
void http_reply_error(struct request *req, int status, const char *error);
/* A body serialized already: the catalog's questionnaire, the metrics. */
void http_reply_raw(struct request *req, int status, const char *ctype,
    const char *body, size_t len);
/* A file a browser may keep (the kiosk page): cache is its Cache-Control
 * value, in place of every other reply's no-store, and extra its other
 * header lines. A 304 carries the headers and Content-Length the 200 would
 * have, and no body (RFC 9110 15.4.5), as a reply to HEAD does. */
void http_reply_file(struct request *req, int status, const char *ctype,
    const char *body, size_t len, const char *cache, const char *extra);

/* --- inside the HTTP layer only --- */

/* The callbacks http-request.c feeds the parser with (http-parse.c). */
extern const http_parser_settings http_parse_settings;
/* Feeds buffered input to the parser and runs each stage it reaches, while
 * the connection stays readable; http.c calls it when input arrives and
 * when the client has read enough of its replies. */
void http_conn_parse(struct conn *c);
/* The last reply, then closing once the client has read it; the input is
 * read and dropped meanwhile. */
void http_conn_refuse(struct conn *c, int status, const char *error,
    const char *extra);
/* The same, logged: for errors in a request we cannot make sense of. */
void http_conn_fail(struct conn *c, int status, const char *error,
    const char *extra);
void http_request_free(struct request *req);

/* Sets the connection's one deadline (see http.c). */
static inline void
http_conn_arm(struct conn *c, long long seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_add(c->timer, &tv);
}

#endif
