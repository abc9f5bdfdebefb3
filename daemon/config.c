/* The key table of sipasd.conf. Every key here is documented in
 * sipasd.conf(5) and etc/sipasd.conf; a test checks that they agree. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "xmalloc.h"

#define KEY(name, type, def, min, max) \
	{ #name, type, offsetof(struct config, name), def, min, max }

const struct conf_key config_keys[] = {
	KEY(listen, CONF_ADDRESS, "0.0.0.0:8443", 0, 0),
	KEY(admin_listen, CONF_ADDRESS, "127.0.0.1:9090", 0, 0),
	KEY(tls_cert, CONF_STRING, NULL, 0, 0),
	KEY(tls_key, CONF_STRING, NULL, 0, 0),
	KEY(client_ca, CONF_STRING, NULL, 0, 0),
	KEY(crl, CONF_STRING, NULL, 0, 0),
	KEY(db, CONF_STRING, "dbname=sipas", 0, 0),
	KEY(db_connections, CONF_INT, "4", 1, 64),
	KEY(db_timeout, CONF_SECONDS, "10s", 1, 3600),
	KEY(db_allow_privileged, CONF_BOOL, "no", 0, 0),
	KEY(user, CONF_STRING, NULL, 0, 0),
	KEY(spool_dir, CONF_STRING, "/var/lib/sipasd/spool", 0, 0),
	KEY(state_dir, CONF_STRING, "/var/lib/sipasd", 0, 0),
	KEY(spool_max_size, CONF_SIZE, "1g", 1024 * 1024, 1024LL * 1024 * 1024 * 1024),
	KEY(batch_size, CONF_INT, "200", 1, 5000),
	KEY(batch_wait, CONF_INT, "0", 0, 1000),
	KEY(shutdown_timeout, CONF_SECONDS, "10s", 1, 600),
	KEY(rollup_interval, CONF_SECONDS, "10s", 0, 86400),
	KEY(log_level, CONF_LOGLEVEL, "info", 0, 0),
	KEY(syslog, CONF_BOOL, "no", 0, 0),
	KEY(max_connections, CONF_INT, "10000", 1, 1000000),
	KEY(max_connections_per_ip, CONF_INT, "1000", 1, 1000000),
	KEY(new_connections_per_ip, CONF_INT, "200", 0, 1000000),
	KEY(max_connections_per_kiosk, CONF_INT, "32", 1, 1000000),
	KEY(max_body_size, CONF_SIZE, "64k", 1024, 16 * 1024 * 1024),
	KEY(max_batch_body_size, CONF_SIZE, "1m", 1024, 256 * 1024 * 1024),
	KEY(max_batch_items, CONF_INT, "500", 1, 100000),
	KEY(max_header_size, CONF_SIZE, "8k", 1024, 1024 * 1024),
	KEY(request_timeout, CONF_SECONDS, "10s", 1, 3600),
	KEY(idle_timeout, CONF_SECONDS, "60s", 1, 86400),
	KEY(max_age_days, CONF_INT, "90", 1, 3650),
	KEY(kiosk_cache_ttl, CONF_SECONDS, "5s", 0, 10),
	KEY(kiosk_offline_ttl, CONF_SECONDS, "24h", 10, 30 * 86400),
	KEY(rate_limit, CONF_INT, "20", 0, 1000000),
	KEY(rate_burst, CONF_INT, "100", 1, 1000000),
	{ NULL, 0, 0, NULL, 0, 0 },
};

const char *const config_restart_keys[] = { "listen", "admin_listen", "db",
	"db_connections", "spool_dir", "state_dir", "spool_max_size", "user", NULL };

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
	use_credentials(cfg);
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	conf_free(config_keys, cfg);
	free(cfg);
}
