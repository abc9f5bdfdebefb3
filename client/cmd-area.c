/* sipas area list. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "sipas.h"

static const char usage[] =
    "usage: sipas area list [--format table|csv] [--db CONNINFO]\n"
    "\n"
    "Lists the service areas (lĩnh vực) responses can be filed under.\n";

int
cmd_area(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = { "code", "name_vi", "name_en" };
	enum output_format fmt = OUTPUT_TABLE;
	struct table *t;
	PGresult *res;
	PGconn *conn;
	int ch;

	if (argc < 2 || strcmp(argv[1], "list") != 0)
		cli_usage_error(usage, "area: expected 'list'");
	argc--, argv++;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'f') {
			if (!output_format_parse(optarg, &fmt) || fmt == OUTPUT_JSON)
				cli_usage_error(usage, "--format: '%s' is not table or csv", optarg);
		} else {
			cli_common_option(ch, optarg, usage);
		}
	}
	if (optind != argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	conn = cli_connect();
	res = cli_exec(conn, "listing service areas",
	    "SELECT code, name_vi, name_en FROM service_areas ORDER BY code", 0, NULL);
	t = table_new(3, cols);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *row[3] = { PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			PQgetvalue(res, i, 2) };
		table_add(t, row);
	}
	table_print(t, fmt, stdout);
	table_free(t);
	PQclear(res);
	PQfinish(conn);
	return 0;
}
