/* The daemon's one global: the server, what every module may read. */
#ifndef SIPASD_H
#define SIPASD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "catalog.h"
#include "config.h"

struct conn;

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

#endif
