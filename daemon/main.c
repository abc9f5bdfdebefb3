/* sipasd: start-up in order (config, TLS, catalog, listeners, database),
 * the event loop, and shutdown on SIGTERM or SIGINT. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "db.h"
#include "log.h"
#include "sipasd.h"
#include "tls.h"
#include "xmalloc.h"

#define SHUTDOWN_DEADLINE_S 10

struct server server;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipasd [-t] -c FILE\n"
	    "\n"
	    "Receives satisfaction survey responses from kiosks over HTTPS with\n"
	    "mutual TLS and stores them in PostgreSQL. Runs in the foreground.\n"
	    "\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -t, --test         check the configuration and the TLS files, then exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n"
	    "\n"
	    "See sipasd(8) and sipasd.conf(5).\n", SIPASD_CONF);
}

/* The daemon cannot validate without the catalog: wait for the database
 * once at start-up, telling the operator why we are waiting. */
static struct catalog *
load_catalog(const char *conninfo)
{
	struct catalog *cat = NULL;
	char err[512];
	unsigned attempt = 0;

	for (;;) {
		PGconn *conn = PQconnectdb(conninfo);
		if (PQstatus(conn) == CONNECTION_OK) {
			bool ok = catalog_load(conn, &cat, err, sizeof err);
			PQfinish(conn);
			if (ok)
				return cat;
			fatalx("%s; has 'sipas db init' been run?", err);
		}
		snprintf(err, sizeof err, "%s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(conn);
		if (attempt++ % 10 == 0)
			log_error("cannot reach the database (%s); retrying", err);
		sleep(1);
		if (server.stopping)
			exit(1);
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct timeval deadline = { SHUTDOWN_DEADLINE_S, 0 };

	if (server.stopping) {
		log_info("second signal: exiting now");
		event_base_loopbreak(server.base);
		return;
	}
	log_info("%s: stopping; finishing %u connection(s), at most %d s",
	    strsignal((int)sig), server.nconns, SHUTDOWN_DEADLINE_S);
	server.stopping = true;
	http_close_all(false);
	if (server.nconns == 0)
		event_base_loopexit(server.base, NULL);
	else
		event_base_loopexit(server.base, &deadline);
}

static void
check_spool_dir(const char *dir)
{
	if (access(dir, W_OK | X_OK) != 0)
		log_warn("spool_dir %s is not a writable directory", dir);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = SIPASD_CONF;
	bool test = false;
	struct event *sigterm, *sigint;
	char err[1024];
	int ch;

	log_init("sipasd", LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("sipasd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((server.cfg = config_load(path, err, sizeof err)) == NULL)
		fatalx("%s", err);
	log_set_level(server.cfg->log_level);
	if ((server.ssl_ctx = tls_ctx_new(server.cfg, err, sizeof err)) == NULL)
		fatalx("%s", err);
	if (test) {
		printf("sipasd: configuration %s is valid\n", path);
		SSL_CTX_free(server.ssl_ctx);
		config_free(server.cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	TAILQ_INIT(&server.conns);
	if ((server.base = event_base_new()) == NULL)
		fatalx("cannot create the event base");

	log_info("sipasd %s starting with %s", PACKAGE_VERSION, path);
	server.catalog = load_catalog(server.cfg->db);
	log_info("catalog: %zu questionnaire(s), %zu service area(s)",
	    server.catalog->nquestionnaires, server.catalog->nareas);
	check_spool_dir(server.cfg->spool_dir);
	if (!http_listen())
		fatalx("cannot listen; is another sipasd running?");
	db_start(server.base, server.cfg->db, (unsigned)server.cfg->db_connections);

	sigterm = evsignal_new(server.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(server.base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);

	event_base_dispatch(server.base);

	log_info("stopped; %u connection(s) still open were closed", server.nconns);
	event_free(sigterm);
	event_free(sigint);
	db_stop();		/* answers what is still in flight with 503 */
	http_close_all(true);
	kiosk_cache_clear();
	catalog_free(server.catalog);
	SSL_CTX_free(server.ssl_ctx);
	config_free(server.cfg);
	event_base_free(server.base);
	return 0;
}
