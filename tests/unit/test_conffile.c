/* The config file reader and sipasd's key table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"

static char path[64];

static struct config *
load(const char *text, char *err, size_t errlen)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/sipas-test-conf.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	struct config *cfg = config_load(path, err, errlen);
	unlink(path);
	return cfg;
}

#define REQUIRED "tls_cert = /c.pem\ntls_key = /k.pem\nclient_ca = /ca.pem\n"

static void
test_defaults_apply_to_keys_not_set(void **state)
{
	char err[256];
	struct config *cfg = load(REQUIRED, err, sizeof err);

	assert_non_null(cfg);
	assert_string_equal(cfg->listen, "0.0.0.0:8443");
	assert_string_equal(cfg->admin_listen, "127.0.0.1:9090");
	assert_null(cfg->crl);
	assert_int_equal(cfg->max_body_size, 64 * 1024);
	assert_int_equal(cfg->max_batch_body_size, 1024 * 1024);
	assert_int_equal(cfg->max_batch_items, 500);
	assert_int_equal(cfg->max_header_size, 8 * 1024);
	assert_int_equal(cfg->request_timeout, 10);
	assert_int_equal(cfg->idle_timeout, 60);
	assert_int_equal(cfg->max_connections, 10000);
	assert_int_equal(cfg->max_age_days, 90);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	config_free(cfg);
}

static void
test_values_comments_and_blank_lines_are_read(void **state)
{
	char err[256];
	struct config *cfg = load("# a comment\n\n" REQUIRED
	    "  listen   =   [::1]:443  \n"
	    "db = host=/run/postgresql dbname=sipas user=sipasd\n"
	    "max_body_size = 128K\n"
	    "idle_timeout = 2m\n"
	    "log_level = debug\n", err, sizeof err);

	assert_non_null(cfg);
	assert_string_equal(cfg->listen, "[::1]:443");
	assert_string_equal(cfg->db, "host=/run/postgresql dbname=sipas user=sipasd");
	assert_int_equal(cfg->max_body_size, 128 * 1024);
	assert_int_equal(cfg->idle_timeout, 120);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	config_free(cfg);
}

static void
test_unknown_key_is_an_error_naming_the_line(void **state)
{
	char err[256];

	assert_null(load(REQUIRED "\nlisten_port = 8443\n", err, sizeof err));
	assert_non_null(strstr(err, "line 5"));
	assert_non_null(strstr(err, "unknown key 'listen_port'"));
}

static void
test_bad_value_is_an_error_naming_line_and_key(void **state)
{
	char err[256];

	assert_null(load(REQUIRED "max_connections = many\n", err, sizeof err));
	assert_non_null(strstr(err, "line 4"));
	assert_non_null(strstr(err, "max_connections"));
	assert_null(load(REQUIRED "max_connections = 0\n", err, sizeof err));
	assert_non_null(strstr(err, "outside"));
	assert_null(load(REQUIRED "log_level = loud\n", err, sizeof err));
	assert_null(load(REQUIRED "listen = localhost:8443\n", err, sizeof err));
	assert_null(load(REQUIRED "listen = 127.0.0.1:99999\n", err, sizeof err));
	assert_null(load(REQUIRED "listen = 127.0.0.1\n", err, sizeof err));
	assert_null(load(REQUIRED "max_body_size = 64q\n", err, sizeof err));
	assert_null(load(REQUIRED "kiosk_cache_ttl = 11\n", err, sizeof err));
	assert_non_null(strstr(err, "kiosk_cache_ttl"));
}

static void
test_line_without_equals_is_an_error(void **state)
{
	char err[256];

	assert_null(load(REQUIRED "listen 0.0.0.0:8443\n", err, sizeof err));
	assert_non_null(strstr(err, "line 4"));
}

static void
test_key_set_twice_is_an_error(void **state)
{
	char err[256];

	assert_null(load(REQUIRED "log_level = info\nlog_level = debug\n", err, sizeof err));
	assert_non_null(strstr(err, "line 5"));
	assert_non_null(strstr(err, "twice"));
}

static void
test_tls_files_are_required(void **state)
{
	char err[256];

	assert_null(load("tls_cert = /c.pem\nclient_ca = /ca.pem\n", err, sizeof err));
	assert_non_null(strstr(err, "tls_key is required"));
}

static void
test_comment_seal_key_must_be_a_key(void **state)
{
	const char *base = "tls_cert = /c.pem\ntls_key = /k.pem\nclient_ca = /ca.pem\n";
	char err[256], *text;
	struct config *cfg;

	assert_true(asprintf(&text, "%scomment_seal_key = c2hvcnQ=\n", base) > 0);
	assert_null(load(text, err, sizeof err));
	assert_non_null(strstr(err, "comment_seal_key: not a key"));
	free(text);
	assert_true(asprintf(&text, "%scomment_seal_key = "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", base) > 0);
	assert_null(load(text, err, sizeof err));
	assert_non_null(strstr(err, "comment_seal_key: not a usable public key"));
	free(text);
	cfg = load(base, err, sizeof err);
	assert_false(cfg->seal);
	config_free(cfg);
	assert_true(asprintf(&text, "%scomment_seal_key = "
	    "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n", base) > 0);
	cfg = load(text, err, sizeof err);
	assert_non_null(cfg);
	assert_true(cfg->seal);
	assert_int_equal(cfg->seal_pk[0], 1);
	assert_int_equal(cfg->seal_pk[31], 32);
	config_free(cfg);
	free(text);
}

/* Whoever sends the PROXY header chooses the address sipasd believes: the
 * balancers that may must be named. */
static void
test_proxy_protocol_needs_the_balancers_addresses(void **state)
{
	const char *base = "tls_cert = /c.pem\ntls_key = /k.pem\nclient_ca = /ca.pem\n"
	    "proxy_protocol = yes\n";
	char err[256], *text;
	struct config *cfg;

	assert_null(load(base, err, sizeof err));
	assert_non_null(strstr(err, "proxy_protocol = yes needs proxy_protocol_from"));
	assert_true(asprintf(&text, "%sproxy_protocol_from = 10.0.0.1, 10.0.0.300\n", base) > 0);
	assert_null(load(text, err, sizeof err));
	assert_non_null(strstr(err, "proxy_protocol_from: '10.0.0.300' is not an address"));
	free(text);
	assert_true(asprintf(&text, "%sproxy_protocol_from = 10.0.0.1, fd00::2 10.0.0.3\n",
	    base) > 0);
	cfg = load(text, err, sizeof err);
	assert_non_null(cfg);
	assert_int_equal(cfg->nproxy_from, 3);
	assert_int_equal(cfg->proxy_from[1].ss_family, AF_INET6);
	config_free(cfg);
	free(text);
}

static void
test_missing_file_is_an_error_naming_it(void **state)
{
	char err[256];

	assert_null(config_load("/nonexistent/sipasd.conf", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/sipasd.conf"));
}

static const struct conf_key *
key_named(const char *name)
{
	for (const struct conf_key *k = config_keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	fail_msg("no key %s", name);
	return NULL;
}

/* A reload keeps the running value of a restart key: the copy must follow
 * the key's type, whatever its size. */
static void
test_copy_key_follows_the_type(void **state)
{
	const char *names[] = { "listen", "db", "crl", "db_connections",
	    "spool_max_size", "db_timeout", "syslog", "log_level" };
	char err[256];
	struct config *was = load(REQUIRED "listen = 10.0.0.1:1\ndb = dbname=a\n"
	    "db_connections = 7\nspool_max_size = 2m\ndb_timeout = 3s\n"
	    "syslog = yes\nlog_level = debug\ncrl = /crl.pem\n", err, sizeof err);
	struct config *now = load(REQUIRED, err, sizeof err);

	assert_non_null(was);
	assert_non_null(now);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_true(conf_copy_key(key_named(names[i]), now, was));
		assert_false(conf_copy_key(key_named(names[i]), now, was));
	}
	assert_string_equal(now->listen, "10.0.0.1:1");
	assert_ptr_not_equal(now->listen, was->listen);
	assert_string_equal(now->db, "dbname=a");
	assert_string_equal(now->crl, "/crl.pem");
	assert_int_equal(now->db_connections, 7);
	assert_int_equal(now->spool_max_size, 2 * 1024 * 1024);
	assert_int_equal(now->db_timeout, 3);
	assert_true(now->syslog);
	assert_int_equal(now->log_level, LOG_LEVEL_DEBUG);
	/* Neighbours of the copied fields are left alone. */
	assert_false(now->db_allow_privileged);
	assert_int_equal(now->batch_size, 200);
	config_free(was);
	/* A string copied to NULL frees what was there. */
	was = load(REQUIRED, err, sizeof err);
	assert_true(conf_copy_key(key_named("crl"), now, was));
	assert_null(now->crl);
	config_free(was);
	config_free(now);
}

/* Every key has its line of help, and the restart keys are the ones whose
 * value a reload cannot apply: what binds, connects or opens at start. */
static void
test_every_key_has_help_and_the_restart_keys_are_known(void **state)
{
	const char *restart = " listen proxy_protocol proxy_protocol_from admin_listen db "
	    "db_connections user "
	    "spool_dir state_dir spool_max_size ";
	char word[64];

	for (const struct conf_key *k = config_keys; k->name != NULL; k++) {
		assert_non_null(k->help);
		assert_true(strlen(k->help) > 0);
		snprintf(word, sizeof word, " %s ", k->name);
		assert_int_equal(k->restart, strstr(restart, word) != NULL);
	}
}

/* sipasd --help lists every key with its default and restart mark. */
static void
test_print_keys_shows_defaults_and_restart(void **state)
{
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof buf, "w");

	assert_non_null(f);
	conf_print_keys(config_keys, f);
	fclose(f);
	assert_non_null(strstr(buf, "  listen = 0.0.0.0:8443 (restart)\n      kiosk"));
	assert_non_null(strstr(buf, "  user = (no default) (restart)\n"));
	assert_non_null(strstr(buf, "  rate_limit = 20\n      requests"));
	assert_null(strstr(buf, "rate_limit = 20 (restart)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_apply_to_keys_not_set),
		cmocka_unit_test(test_values_comments_and_blank_lines_are_read),
		cmocka_unit_test(test_unknown_key_is_an_error_naming_the_line),
		cmocka_unit_test(test_bad_value_is_an_error_naming_line_and_key),
		cmocka_unit_test(test_line_without_equals_is_an_error),
		cmocka_unit_test(test_key_set_twice_is_an_error),
		cmocka_unit_test(test_tls_files_are_required),
		cmocka_unit_test(test_missing_file_is_an_error_naming_it),
		cmocka_unit_test(test_comment_seal_key_must_be_a_key),
		cmocka_unit_test(test_proxy_protocol_needs_the_balancers_addresses),
		cmocka_unit_test(test_copy_key_follows_the_type),
		cmocka_unit_test(test_every_key_has_help_and_the_restart_keys_are_known),
		cmocka_unit_test(test_print_keys_shows_defaults_and_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
