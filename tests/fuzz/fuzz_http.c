/* libFuzzer: bytes from a connection through the whole request path of
 * daemon/http*.c (parsing, limits, routing, the kiosk check, validation,
 * batches, the group commit's queue) with the database down, over a
 * bufferevent pair instead of TLS. The first byte picks the connection: a
 * kiosk that is active, revoked or unknown, or the admin listener. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>

#include "admin.h"
#include "commit.h"
#include "fixture.h"
#include "http.h"
#include "kiosk.h"
#include "org.h"
#include "log.h"
#include "sipasd.h"

struct server server;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char fps[3][CERT_FINGERPRINT_LEN] = { { 1 }, { 2 }, { 3 } };

static void
setup(void)
{
	static struct kiosk_ref active = { 1, 3, 0, "K1", 0 }, revoked = { 2, 3, 0, "K2", 0 };
	char err[256];

	log_init("fuzz_http", LOG_LEVEL_ERROR + 100);
	log_set_level((enum log_level)0);	/* quiet: nothing is at level 0 */
	server.base = event_base_new();
	server.cfg = calloc(1, sizeof *server.cfg);
	if (!conf_defaults(config_keys, server.cfg, err, sizeof err))
		abort();
	server.cfg->rate_limit = 0;
	server.catalog = fixture_catalog();
	TAILQ_INIT(&server.conns);
	kiosk_start();
	admin_start();
	commit_start(server.base);
	kiosk_remember(fps[0], false, &active);
	kiosk_remember(fps[1], true, &revoked);
	org_remember_centers(&active.center_id, 1);
	/* fps[2] is in no registry: with the database down, 503. */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bufferevent *pair[2];
	unsigned who;

	if (server.base == NULL)
		setup();
	if (size < 1)
		return 0;
	who = data[0] % 4;
	if (bufferevent_pair_new(server.base, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS, pair) != 0)
		abort();
	http_conn_new(pair[0], who == 3, "fuzz", who == 3 ? NULL : fps[who]);
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	bufferevent_write(pair[1], data + 1, size - 1);
	for (int i = 0; i < 50; i++)
		event_base_loop(server.base, EVLOOP_NONBLOCK);
	/* The peer hangs up; whatever is left is torn down. */
	bufferevent_free(pair[1]);
	for (int i = 0; i < 10; i++)
		event_base_loop(server.base, EVLOOP_NONBLOCK);
	http_close_all(true);
	for (int i = 0; i < 5; i++)
		event_base_loop(server.base, EVLOOP_NONBLOCK);
	return 0;
}
