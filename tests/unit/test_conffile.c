/* The config file reader and sipasd's key table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
test_missing_file_is_an_error_naming_it(void **state)
{
	char err[256];

	assert_null(config_load("/nonexistent/sipasd.conf", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/sipasd.conf"));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
