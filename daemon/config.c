/* The key table of sipasd.conf. Every key here is documented in
 * sipasd.conf(5) and etc/sipasd.conf; a test checks that they agree. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

/* A row per key: its name, type, whether a reload applies it (RELOAD) or
 * it keeps the running value until a restart (RESTART), its default, its
 * bounds and one line of help. */
#define KEY(name, type, when, def, min, max, help) \
	{ #name, type, offsetof(struct config, name), def, min, max, when, help }
#define RELOAD	false
#define RESTART	true

const struct conf_key config_keys[] = {
	KEY(listen, CONF_ADDRESS, RESTART, "0.0.0.0:8443", 0, 0,
	    "kiosk listener, HTTPS with mutual TLS"),
	KEY(proxy_protocol, CONF_BOOL, RESTART, "no", 0, 0,
	    "kiosk connections begin with a PROXY protocol v2 header"),
	KEY(proxy_protocol_from, CONF_STRING, RESTART, NULL, 0, 0,
	    "the balancers' addresses, the only senders of that header"),
	KEY(admin_listen, CONF_ADDRESS, RESTART, "127.0.0.1:9090", 0, 0,
	    "operators' listener, plain HTTP: keep it on loopback"),
	KEY(tls_cert, CONF_STRING, RELOAD, NULL, 0, 0,
	    "PEM server certificate and its chain; required"),
	KEY(tls_key, CONF_STRING, RELOAD, NULL, 0, 0,
	    "PEM server private key; required"),
	KEY(client_ca, CONF_STRING, RELOAD, NULL, 0, 0,
	    "PEM CA certificate(s) issuing kiosk certificates; required"),
	KEY(crl, CONF_STRING, RELOAD, NULL, 0, 0,
	    "PEM revocation list of the kiosk CA, optional"),
	KEY(db, CONF_STRING, RESTART, "dbname=sipas", 0, 0,
	    "libpq connection string"),
	KEY(db_connections, CONF_INT, RESTART, "4", 1, 64,
	    "connections kept to PostgreSQL, each pipelined"),
	KEY(db_timeout, CONF_SECONDS, RELOAD, "10s", 1, 3600,
	    "longest wait for a reply or a connection"),
	KEY(db_allow_privileged, CONF_BOOL, RELOAD, "no", 0, 0,
	    "start even as a superuser or the tables' owner"),
	KEY(user, CONF_STRING, RESTART, NULL, 0, 0,
	    "user to become once started as root"),
	KEY(node_name, CONF_STRING, RELOAD, NULL, 0, 0,
	    "this node's name in the metrics; unset, the host name"),
	KEY(spool_dir, CONF_STRING, RESTART, "/var/lib/sipasd/spool", 0, 0,
	    "directory of the spool kept while the database is away"),
	KEY(state_dir, CONF_STRING, RESTART, "/var/lib/sipasd", 0, 0,
	    "directory of the catalog and registry last read"),
	KEY(spool_max_size, CONF_SIZE, RESTART, "1g", 1024 * 1024,
	    1024LL * 1024 * 1024 * 1024,
	    "size beyond which the spool refuses responses"),
	KEY(batch_size, CONF_INT, RELOAD, "200", 1, 5000,
	    "most responses in one transaction"),
	KEY(batch_wait, CONF_INT, RELOAD, "0", 0, 1000,
	    "milliseconds a response may wait for others to join"),
	KEY(shutdown_timeout, CONF_SECONDS, RELOAD, "10s", 1, 600,
	    "time requests in progress get on SIGTERM"),
	KEY(rollup_interval, CONF_SECONDS, RELOAD, "10s", 0, 86400,
	    "how often to fold stored responses into the rollup"),
	KEY(log_level, CONF_LOGLEVEL, RELOAD, "info", 0, 0,
	    "error, warn, info or debug"),
	KEY(syslog, CONF_BOOL, RELOAD, "no", 0, 0,
	    "log to syslog instead of standard error"),
	KEY(max_connections, CONF_INT, RELOAD, "10000", 1, 1000000,
	    "open connections on both listeners together"),
	KEY(max_connections_per_ip, CONF_INT, RELOAD, "1000", 1, 1000000,
	    "TLS handshakes in progress per source address"),
	KEY(new_connections_per_ip, CONF_INT, RELOAD, "200", 0, 1000000,
	    "new connections a second per source address"),
	KEY(max_connections_per_kiosk, CONF_INT, RELOAD, "32", 1, 1000000,
	    "connections one kiosk certificate may hold"),
	KEY(max_body_size, CONF_SIZE, RELOAD, "64k", 1024, 16 * 1024 * 1024,
	    "largest body of POST /v1/responses"),
	KEY(max_batch_body_size, CONF_SIZE, RELOAD, "1m", 1024, 256 * 1024 * 1024,
	    "largest body of POST /v1/responses/batch"),
	KEY(max_batch_items, CONF_INT, RELOAD, "500", 1, 100000,
	    "most responses in one batch request"),
	KEY(max_header_size, CONF_SIZE, RELOAD, "8k", 1024, 1024 * 1024,
	    "request line and headers together"),
	KEY(request_timeout, CONF_SECONDS, RELOAD, "10s", 1, 3600,
	    "time allowed for a whole request"),
	KEY(idle_timeout, CONF_SECONDS, RELOAD, "60s", 1, 86400,
	    "time a kept-alive connection may stay silent"),
	KEY(max_age_days, CONF_INT, RELOAD, "90", 1, 3650,
	    "oldest submitted_at accepted, in days"),
	KEY(kiosk_cache_ttl, CONF_SECONDS, RELOAD, "5s", 0, 10,
	    "how often the kiosk registry is read again"),
	KEY(kiosk_offline_ttl, CONF_SECONDS, RELOAD, "24h", 10, 30 * 86400,
	    "how long the registry is trusted with the database away"),
	KEY(rate_limit, CONF_INT, RELOAD, "20", 0, 1000000,
	    "requests a second each kiosk may send on average"),
	KEY(rate_burst, CONF_INT, RELOAD, "100", 1, 1000000,
	    "requests a kiosk may send at once after a quiet spell"),
	KEY(comment_seal_key, CONF_STRING, RELOAD, NULL, 0, 0,
	    "X25519 public key (base64) that comments are sealed to before they are stored"),
	{ NULL, 0, 0, NULL, 0, 0, false, NULL },
};

/* Under systemd, LoadCredential=tls_key:FILE hands us a copy of the key
 * that the service user can read while FILE stays root's; it wins over the
 * configured path. */
static void
use_credentials(struct config *cfg)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path;

	if (dir == NULL)
		return;
	xasprintf(&path, "%s/tls_key", dir);
	if (access(path, F_OK) == 0) {
		free(cfg->tls_key);
		cfg->tls_key = path;
	} else {
		free(path);
	}
}

/* Several sipasd serve one database; their metrics say which one is which.
 * Unset, a node is its host name. The name goes into a label value as it
 * is, so it is kept to characters that need no quoting there. */
static bool
set_node_name(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char host[256];

	if (cfg->node_name == NULL) {
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "sipasd");
		host[sizeof host - 1] = '\0';
		cfg->node_name = xstrdup(host);
	}
	if (cfg->node_name[strspn(cfg->node_name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789.-_")] != '\0') {
		snprintf(err, errlen, "%s: node_name %s: use letters, digits, '.', "
		    "'-' and '_' only", path, cfg->node_name);
		return false;
	}
	return true;
}

/* Whoever sends the PROXY header chooses the address sipasd believes: with
 * proxy_protocol, the balancers that may are named, and others refused. */
static bool
set_proxy_from(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *list, *word, *save = NULL;

	if (cfg->proxy_protocol && cfg->proxy_protocol_from == NULL) {
		snprintf(err, errlen, "%s: proxy_protocol = yes needs proxy_protocol_from, "
		    "the addresses of the balancers that send the header", path);
		return false;
	}
	if (cfg->proxy_protocol_from == NULL)
		return true;
	list = xstrdup(cfg->proxy_protocol_from);
	for (word = strtok_r(list, ", \t", &save); word != NULL;
	    word = strtok_r(NULL, ", \t", &save)) {
		struct sockaddr_storage ss = { 0 };
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, word, &s4->sin_addr) == 1) {
			ss.ss_family = AF_INET;
		} else if (inet_pton(AF_INET6, word, &s6->sin6_addr) == 1) {
			ss.ss_family = AF_INET6;
		} else {
			snprintf(err, errlen, "%s: proxy_protocol_from: '%s' is not an "
			    "address", path, word);
			free(list);
			return false;
		}
		cfg->proxy_from = xreallocarray(cfg->proxy_from, cfg->nproxy_from + 1,
		    sizeof *cfg->proxy_from);
		cfg->proxy_from[cfg->nproxy_from++] = ss;
	}
	free(list);
	return true;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	const char *missing = NULL;

	if (!conf_load(path, config_keys, cfg, err, errlen)) {
		config_free(cfg);
		return NULL;
	}
	if (cfg->tls_cert == NULL)
		missing = "tls_cert";
	else if (cfg->tls_key == NULL)
		missing = "tls_key";
	else if (cfg->client_ca == NULL)
		missing = "client_ca";
	if (missing != NULL) {
		snprintf(err, errlen, "%s: %s is required", path, missing);
		config_free(cfg);
		return NULL;
	}
	if (cfg->comment_seal_key != NULL) {
		char why[128];
		if (!seal_public_key_parse(cfg->comment_seal_key, cfg->seal_pk, why, sizeof why)) {
			snprintf(err, errlen, "%s: comment_seal_key: %s", path, why);
			config_free(cfg);
			return NULL;
		}
		cfg->seal = true;
	}
	if (!set_node_name(cfg, path, err, errlen) ||
	    !set_proxy_from(cfg, path, err, errlen)) {
		config_free(cfg);
		return NULL;
	}
	use_credentials(cfg);
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	conf_free(config_keys, cfg);
	free(cfg->proxy_from);
	free(cfg);
}
