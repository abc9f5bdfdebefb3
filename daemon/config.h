/* sipasd's configuration: the values, and the key table they are read with. */
#ifndef SIPASD_CONFIG_H
#define SIPASD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conffile.h"
#include "log.h"
#include "seal.h"

struct config {
	char *listen;
	bool proxy_protocol;
	char *proxy_protocol_from;
	char *admin_listen;
	char *tls_cert;
	char *tls_key;
	char *client_ca;
	char *crl;
	char *db;
	long long db_connections;
	long long db_timeout;
	bool db_allow_privileged;
	char *user;
	char *node_name;
	char *spool_dir;
	char *state_dir;
	long long spool_max_size;
	long long batch_size;
	long long batch_wait;
	long long shutdown_timeout;
	long long rollup_interval;
	enum log_level log_level;
	bool syslog;
	long long max_connections;
	long long max_connections_per_ip;
	long long new_connections_per_ip;
	long long max_connections_per_kiosk;
	long long max_body_size;
	long long max_batch_body_size;
	long long max_batch_items;
	long long max_header_size;
	long long request_timeout;
	long long idle_timeout;
	long long max_age_days;
	long long kiosk_cache_ttl;
	long long kiosk_offline_ttl;
	long long rate_limit;
	long long rate_burst;
	char *comment_seal_key;
	/* comment_seal_key decoded by config_load; seal: whether there is one */
	bool seal;
	unsigned char seal_pk[SEAL_KEY_LEN];
	/* proxy_protocol_from's addresses, decoded by config_load */
	struct sockaddr_storage *proxy_from;
	size_t nproxy_from;
};

/* Keys marked restart keep their running value on reload. */
extern const struct conf_key config_keys[];

/* Reads and checks the file; on failure err says what and where. */
struct config *config_load(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void config_free(struct config *cfg);

#endif
