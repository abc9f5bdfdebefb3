/* The split of a multi-host conninfo into one option set per host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conninfo.h"

/* Host h's value of keyword, NULL when the conninfo did not give it. */
static const char *
value(const struct conninfo *ci, unsigned h, const char *keyword)
{
	for (unsigned k = 0; ci->keywords[k] != NULL; k++)
		if (strcmp(ci->keywords[k], keyword) == 0)
			return ci->hosts[h][k];
	return NULL;
}

static void
one_host_is_given_as_it_is(void **state)
{
	struct conninfo ci;
	char err[256];

	assert_true(conninfo_split(&ci, "host=/run/pg dbname=sipas user=sipasd", err,
	    sizeof err));
	assert_int_equal(ci.nhosts, 1);
	assert_string_equal(value(&ci, 0, "host"), "/run/pg");
	assert_string_equal(value(&ci, 0, "dbname"), "sipas");
	assert_string_equal(value(&ci, 0, "user"), "sipasd");
	assert_null(value(&ci, 0, "port"));
	conninfo_free(&ci);
}

static void
hosts_get_their_own_items_and_share_the_rest(void **state)
{
	struct conninfo ci;
	char err[256];

	assert_true(conninfo_split(&ci, "host=pg1,pg2,pg3 port=5432 dbname=sipas "
	    "target_session_attrs=read-write connect_timeout=2", err, sizeof err));
	assert_int_equal(ci.nhosts, 3);
	assert_string_equal(value(&ci, 0, "host"), "pg1");
	assert_string_equal(value(&ci, 1, "host"), "pg2");
	assert_string_equal(value(&ci, 2, "host"), "pg3");
	for (unsigned h = 0; h < 3; h++) {
		assert_string_equal(value(&ci, h, "port"), "5432");
		assert_string_equal(value(&ci, h, "target_session_attrs"), "read-write");
		assert_string_equal(value(&ci, h, "connect_timeout"), "2");
	}
	conninfo_free(&ci);
}

static void
ports_and_addresses_pair_with_hosts(void **state)
{
	struct conninfo ci;
	char err[256];

	assert_true(conninfo_split(&ci, "host=a,b hostaddr=10.0.0.1,10.0.0.2 port=5433,5434",
	    err, sizeof err));
	assert_int_equal(ci.nhosts, 2);
	assert_string_equal(value(&ci, 1, "host"), "b");
	assert_string_equal(value(&ci, 1, "hostaddr"), "10.0.0.2");
	assert_string_equal(value(&ci, 1, "port"), "5434");
	assert_string_equal(value(&ci, 0, "port"), "5433");
	conninfo_free(&ci);
	/* An empty item is libpq's default for that host. */
	assert_true(conninfo_split(&ci, "host=a,,c", err, sizeof err));
	assert_int_equal(ci.nhosts, 3);
	assert_string_equal(value(&ci, 1, "host"), "");
	assert_string_equal(value(&ci, 2, "host"), "c");
	conninfo_free(&ci);
}

static void
a_uri_is_split_too(void **state)
{
	struct conninfo ci;
	char err[256];

	assert_true(conninfo_split(&ci, "postgresql://sipasd@pg1:5432,pg2:5433/sipas"
	    "?target_session_attrs=read-write", err, sizeof err));
	assert_int_equal(ci.nhosts, 2);
	assert_string_equal(value(&ci, 0, "host"), "pg1");
	assert_string_equal(value(&ci, 1, "host"), "pg2");
	assert_string_equal(value(&ci, 1, "port"), "5433");
	assert_string_equal(value(&ci, 1, "dbname"), "sipas");
	assert_string_equal(value(&ci, 1, "user"), "sipasd");
	conninfo_free(&ci);
}

static void
what_libpq_cannot_parse_is_refused(void **state)
{
	struct conninfo ci;
	char err[256] = "";

	assert_false(conninfo_split(&ci, "host='pg1 dbname=sipas", err, sizeof err));
	assert_non_null(strstr(err, "quoted"));
	assert_false(conninfo_split(&ci, "hots=pg1", err, sizeof err));
	assert_non_null(strstr(err, "hots"));
	/* Lists that do not pair, as libpq refuses them. */
	assert_false(conninfo_split(&ci, "host=a,b,c port=1,2", err, sizeof err));
	assert_string_equal(err, "could not match 2 port numbers to 3 hosts");
	assert_false(conninfo_split(&ci, "host=a,b hostaddr=10.0.0.1,10.0.0.2,10.0.0.3",
	    err, sizeof err));
	assert_string_equal(err, "could not match 2 host names to 3 hostaddr values");
	conninfo_free(&ci);	/* harmless after a failure */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_host_is_given_as_it_is),
		cmocka_unit_test(hosts_get_their_own_items_and_share_the_rest),
		cmocka_unit_test(ports_and_addresses_pair_with_hosts),
		cmocka_unit_test(a_uri_is_split_too),
		cmocka_unit_test(what_libpq_cannot_parse_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
