/* sipas area list. */
#include <string.h>

#include "sipas.h"

static const char usage[] =
    "usage: sipas area list [--format table|csv] [--db CONNINFO]\n"
    "\n"
    "Lists the service areas (lĩnh vực) responses can be filed under.\n";

int
cmd_area(int argc, char **argv)
{
	static const char *const cols[] = { "code", "name_vi", "name_en" };

	if (argc < 2 || strcmp(argv[1], "list") != 0)
		cli_usage_error(usage, "area: expected 'list'");
	return cli_list(argc - 1, argv + 1, usage, "listing service areas",
	    "SELECT code, name_vi, name_en FROM service_areas ORDER BY code",
	    3, cols);
}
