/* sipasd: start-up in order (config, TLS, catalog, listeners, database),
 * the event loop, reload on SIGHUP and shutdown on SIGTERM or SIGINT. */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "admin.h"
#include "clock.h"
#include "commit.h"
#include "db.h"
#include "http.h"
#include "kiosk.h"
#include "org.h"
#include "log.h"
#include "notify.h"
#include "peer.h"
#include "replay.h"
#include "rollup.h"
#include "sipasd.h"
#include "spool.h"
#include "state.h"
#include "tls.h"
#include "xmalloc.h"

struct server server;
static const char *config_path = SIPASD_CONF;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipasd [-t | --spool-inspect] [-c FILE]\n"
	    "\n"
	    "Receives satisfaction survey responses from kiosks over HTTPS with\n"
	    "mutual TLS and stores them in PostgreSQL. Runs in the foreground.\n"
	    "\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -t, --test         check the configuration and the TLS files, then exit\n"
	    "      --spool-inspect\n"
	    "                     print every record of the spool and of what was set\n"
	    "                     aside, one JSON object a line, then exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n"
	    "\n"
	    "See sipasd(8) and sipasd.conf(5).\n", SIPASD_CONF);
}

static void
help(void)
{
	usage(stdout);
	printf("\nConfiguration keys with their defaults; a reload keeps the running\n"
	    "value of those marked (restart):\n");
	conf_print_keys(config_keys, stdout);
}

/* A superuser or the owner of the tables could do anything a stolen kiosk
 * manages to make sipasd do; the daemon's role should only insert. Until
 * the database has said which role this is, nothing is written to it. */
static const char role_sql[] =
    "SELECT r.rolsuper, (SELECT count(*) FROM pg_tables WHERE schemaname = "
    "'public' AND tableowner = current_user) > 0, current_user "
    "FROM pg_roles r WHERE r.rolname = current_user";

static bool role_asked, catalog_asked;

static void
on_role(PGresult *res, const struct db_failure *f, void *arg)
{
	bool super, owner;

	role_asked = false;
	if (res == NULL || PQntuples(res) != 1) {
		/* Asked again soon: said once, not each time. */
		static char said[256];
		const char *why = res == NULL ? f->message : "no such role";
		if (strncmp(said, why, sizeof said - 1) != 0)
			log_error("cannot check the database role: %s", why);
		snprintf(said, sizeof said, "%s", why);
		return;
	}
	super = PQgetvalue(res, 0, 0)[0] == 't';
	owner = PQgetvalue(res, 0, 1)[0] == 't';
	if ((super || owner) && !server.cfg->db_allow_privileged)
		fatalx("the database role %s %s: connect as a role granted "
		    "sipas_ingest only (see docs/operations.md), or set "
		    "db_allow_privileged = yes", PQgetvalue(res, 0, 2),
		    super ? "is a superuser" : "owns the tables");
	if (super || owner)
		log_warn("the database role %s %s; db_allow_privileged = yes",
		    PQgetvalue(res, 0, 2), super ? "is a superuser" : "owns the tables");
	server.db_checked = true;
}

/* Catalogs replaced while sipasd runs: responses queued, in flight or read
 * back from the spool still point into them, so they live until exit. */
static struct catalog **retired;
static size_t nretired;

/* The catalog from the database, kept in state_dir for a start while the
 * database is away, replaces the one restored from there when it differs:
 * the database has the last word once it answers. */
static void
on_catalog(PGresult *res, const struct db_failure *f, void *arg)
{
	struct catalog *cat;
	const char *doc;
	size_t len, oldlen;
	time_t written;
	char err[512], *old;

	catalog_asked = false;
	if (res == NULL) {
		/* Asked again every second: said once, not every second. */
		static char said[256];
		if (strncmp(said, f->message, sizeof said - 1) != 0)
			log_error("cannot read the catalog: %s; has 'sipas db init' "
			    "been run?", f->message);
		snprintf(said, sizeof said, "%s", f->message);
		return;
	}
	doc = PQgetvalue(res, 0, 0);
	len = (size_t)PQgetlength(res, 0, 0);
	if (!catalog_parse(doc, len, &cat, err, sizeof err)) {
		log_error("the catalog in the database: %s", err);
		return;
	}
	server.catalog_current = true;
	old = state_read("catalog.json", &oldlen, &written);
	if (old == NULL || oldlen != len || memcmp(old, doc, len) != 0)
		(void)state_save("catalog.json", doc, len);
	else
		state_touch("catalog.json");
	if (server.catalog != NULL && old != NULL && oldlen == len &&
	    memcmp(old, doc, len) == 0) {
		catalog_free(cat);	/* the same as restored */
	} else {
		if (server.catalog != NULL) {
			retired = xreallocarray(retired, nretired + 1, sizeof *retired);
			retired[nretired++] = server.catalog;
			log_info("the catalog in the database differs from the one "
			    "kept in state_dir: serving the database's");
		}
		server.catalog = cat;
		log_info("catalog: %zu questionnaire(s), %zu service area(s)",
		    cat->nquestionnaires, cat->nareas);
	}
	free(old);
	notify("STATUS=serving");
}

/* Asks the database for what sipasd needs of it, as soon as it answers;
 * stops asking once it has both. */
static void
on_check(evutil_socket_t fd, short what, void *arg)
{
	struct event **self = arg;

	if (server.db_checked && server.catalog_current) {
		event_del(*self);
		return;
	}
	if (!db_ready())
		return;
	if (!server.db_checked && !role_asked)
		role_asked = db_query("main_role", 0, NULL, NULL, NULL, on_role, NULL);
	if (!server.catalog_current && !catalog_asked)
		catalog_asked = db_query("main_catalog", 0, NULL, NULL, NULL, on_catalog,
		    NULL);
}

/* The catalog kept by the last run, to serve until the database answers. */
static void
restore_catalog(void)
{
	size_t len;
	time_t written;
	char *doc = state_read("catalog.json", &len, &written), err[512];
	char when[32];

	if (doc == NULL) {
		log_warn("no catalog kept in state_dir %s yet (first start): kiosks "
		    "get 503 until the database answers", server.cfg->state_dir);
		return;
	}
	if (!catalog_parse(doc, len, &server.catalog, err, sizeof err)) {
		log_error("state_dir %s: catalog.json: %s; ignoring it",
		    server.cfg->state_dir, err);
		server.catalog = NULL;
	} else {
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&written));
		log_info("catalog: %zu questionnaire(s), %zu service area(s), as the "
		    "database had them at %s", server.catalog->nquestionnaires,
		    server.catalog->nareas, when);
	}
	free(doc);
}

/* After binding, before touching anything else: read the keys as root, serve
 * as nobody in particular. */
static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if (user == NULL)
		fatalx("refusing to run as root: set user = sipasd (an unprivileged "
		    "user) in the configuration");
	if ((pw = getpwnam(user)) == NULL)
		fatalx("user %s: no such user", user);
	if (pw->pw_uid == 0)
		fatalx("user %s is root; name an unprivileged user", user);
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot become user %s", user);
	if (setuid(0) != -1)
		fatalx("could become root again after dropping privileges");
	log_info("running as user %s", user);
}

/* Every connection is a descriptor; the soft limit is often 1024. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)server.cfg->max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_warn("open files limited to %llu, fewer than max_connections "
		    "%lld needs; raise LimitNOFILE or ulimit -n",
		    (unsigned long long)rl.rlim_cur, server.cfg->max_connections);
}

/* While stopping: done once no connection is left and nothing waits for
 * the database; at the deadline, what still waits is spooled (202). */
static void
on_stopping(evutil_socket_t fd, short what, void *arg)
{
	struct timespec *since = arg;
	double left = (double)server.cfg->shutdown_timeout - clock_seconds_since(since);

	if (server.nconns == 0 && commit_idle()) {
		event_base_loopexit(server.base, NULL);
		return;
	}
	if (left <= 1.0 && !server.abandoned) {
		log_warn("shutdown deadline: spooling what the database has not "
		    "answered, closing %u connection(s)", server.nconns);
		server.abandoned = true;
		commit_abandon();
	}
	if (left <= 0)
		event_base_loopexit(server.base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	static struct timespec since;
	static struct event *check;
	struct timeval tick = { 0, 100000 };

	if (server.stopping) {
		log_info("second signal: exiting now");
		event_base_loopbreak(server.base);
		return;
	}
	log_info("%s: stopping; finishing %u connection(s), at most %lld s",
	    strsignal((int)sig), server.nconns, server.cfg->shutdown_timeout);
	notify("STOPPING=1");
	server.stopping = true;
	http_close_all(false);
	clock_gettime(CLOCK_MONOTONIC, &since);
	check = event_new(server.base, -1, EV_PERSIST, on_stopping, &since);
	event_add(check, &tick);
	server.stop_timer = check;
}

/* A reload that changes how the comments from now on are stored says so:
 * removing comment_seal_key stores them in plain text, which must not go
 * unnoticed; a new key means the old secret key no longer opens them. */
static void
reload_log_sealing(const struct config *old, const struct config *new)
{
	if (old->seal && !new->seal)
		log_warn("reload: comment_seal_key removed: comments are now stored "
		    "in plain text");
	else if (!old->seal && new->seal)
		log_info("reload: comment_seal_key set: comments are now sealed");
	else if (old->seal && memcmp(old->seal_pk, new->seal_pk, sizeof old->seal_pk) != 0)
		log_info("reload: comment_seal_key changed: comments are now sealed to "
		    "the new key; those stored before stay sealed to the old one");
}

/* New state is built whole and swapped in only if all of it is valid; on
 * any error the running configuration stays. Connections are kept: each
 * holds a reference to the TLS context it was accepted with. */
static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct config *cfg;
	SSL_CTX *ctx;
	char err[1024];

	notify("RELOADING=1");
	log_info("SIGHUP: reloading %s", config_path);
	if ((cfg = config_load(config_path, err, sizeof err)) == NULL ||
	    (ctx = tls_ctx_new(cfg, err, sizeof err)) == NULL) {
		log_error("reload failed, keeping the running configuration: %s", err);
		config_free(cfg);
		notify("READY=1\nSTATUS=reload failed: %s", err);
		return;
	}
	/* What runs is what the old value set up: keep saying so. */
	for (const struct conf_key *k = config_keys; k->name != NULL; k++) {
		if (k->restart && conf_copy_key(k, cfg, server.cfg))
			log_warn("reload: %s changed; it takes effect at the next "
			    "restart", k->name);
	}
	reload_log_sealing(server.cfg, cfg);
	SSL_CTX_free(server.ssl_ctx);
	server.ssl_ctx = ctx;
	config_free(server.cfg);
	server.cfg = cfg;
	log_set_level(cfg->log_level);
	log_use_syslog(cfg->syslog);
	log_info("reloaded %s", config_path);
	notify("READY=1\nSTATUS=serving");
}

/* Longer than the others on purpose: it is the start-up order (listen
 * before dropping privileges, the spool before the group commit, the
 * commit before the replay and the database), the loop, and the teardown
 * in reverse, read top to bottom in one place. */
/* The loop's own events. */
static struct {
	struct event *sigterm, *sigint, *sighup, *check;
} loop;

/* In order: listen, drop privileges, what was kept, the spool, then every
 * part that works in the loop, and tell systemd. */
static void
start(void)
{
	struct timeval tenth = { 0, 100000 };
	char err[1024];

	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);	/* until the loop can reload */
	TAILQ_INIT(&server.conns);
	if ((server.base = http_base_new()) == NULL)
		fatalx("cannot create the event base");

	log_info("sipasd %s starting with %s", PACKAGE_VERSION, config_path);
	if (!http_listen())
		fatalx("cannot listen; is another sipasd running?");
	drop_privileges(server.cfg->user);
	state_init(server.cfg->state_dir);
	restore_catalog();
	if (!spool_open(server.cfg->spool_dir, server.cfg->spool_max_size, err,
	    sizeof err))
		fatalx("%s; check spool_dir", err);
	db_prepare("main_role", role_sql);
	db_prepare("main_catalog", catalog_sql);
	kiosk_start();
	org_start();
	admin_start();
	commit_start(server.base);
	replay_start();
	rollup_start(server.base);
	db_start(server.base, server.cfg->db, (unsigned)server.cfg->db_connections);
	kiosk_run(server.base);
	org_run(server.base);
	loop.check = event_new(server.base, -1, EV_PERSIST, on_check, &loop.check);
	event_add(loop.check, &tenth);
	loop.sigterm = evsignal_new(server.base, SIGTERM, on_signal, NULL);
	loop.sigint = evsignal_new(server.base, SIGINT, on_signal, NULL);
	loop.sighup = evsignal_new(server.base, SIGHUP, on_reload, NULL);
	evsignal_add(loop.sigterm, NULL);
	evsignal_add(loop.sigint, NULL);
	evsignal_add(loop.sighup, NULL);
	/* Ready once listening: with the database away it serves from what
	 * it kept (or says it has nothing yet) rather than make systemd wait. */
	if (server.catalog == NULL)
		notify("READY=1\nSTATUS=first start: waiting for the database to "
		    "read the catalog; kiosks get 503");
	else
		notify("READY=1\nSTATUS=starting: serving from the catalog kept in "
		    "state_dir until the database answers");
}

/* The reverse, once the loop has ended. */
static void
stop(void)
{
	log_info("stopped; %u connection(s) still open were closed", server.nconns);
	event_free(loop.sigterm);
	event_free(loop.sigint);
	event_free(loop.sighup);
	event_free(loop.check);
	if (server.stop_timer != NULL)
		event_free(server.stop_timer);
	rollup_stop();
	db_stop();		/* fails what is still in flight */
	kiosk_stop();
	org_stop();
	http_close_all(true);
	commit_stop();
	spool_close();
	peer_clear();
	catalog_free(server.catalog);
	for (size_t i = 0; i < nretired; i++)
		catalog_free(retired[i]);
	free(retired);
	SSL_CTX_free(server.ssl_ctx);
	config_free(server.cfg);
	event_base_free(server.base);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "spool-inspect", no_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool test = false, inspect = false;
	char err[1024];
	int ch;

	log_init("sipasd", LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'S':
			inspect = true;
			break;
		case 'V':
			printf("sipasd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			help();
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
	if ((server.cfg = config_load(config_path, err, sizeof err)) == NULL)
		fatalx("%s", err);
	if (inspect) {
		bool ok = spool_inspect(server.cfg->spool_dir, stdout, err, sizeof err);
		if (!ok)
			log_error("%s", err);
		config_free(server.cfg);
		return ok ? 0 : 1;
	}
	log_set_level(server.cfg->log_level);
	log_use_syslog(server.cfg->syslog && !test);
	if ((server.ssl_ctx = tls_ctx_new(server.cfg, err, sizeof err)) == NULL)
		fatalx("%s", err);
	if (test) {
		printf("sipasd: configuration %s is valid\n", config_path);
		SSL_CTX_free(server.ssl_ctx);
		config_free(server.cfg);
		return 0;
	}
	start();
	event_base_dispatch(server.base);
	stop();
	return 0;
}
