/* sipas: the usage, the common options, and dispatch to client/cmd-*.c. */
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "sipas.h"

static const char usage_text[] =
    "usage: sipas [--db CONNINFO] COMMAND [ARGS]\n"
    "\n"
    "Administers the satisfaction survey database and reports on it.\n"
    "\n"
    "commands:\n"
    "  db init                       create or upgrade the schema (idempotent)\n"
    "  area list                     list the service areas\n"
    "  center import FILE.csv        add or update centers (code,name_vi,level,parent\n"
    "                                [,opened_on,closed_on,successor,official_code])\n"
    "  center list                   list the centers as a tree\n"
    "  center close CODE --on DATE [--successor CODE]  the last day it is open\n"
    "  center move CODE --parent CODE --on DATE  another parent from DATE on\n"
    "  counter add CENTER CODE --name NAME  a counter of a center\n"
    "  counter list [--center CENTER] [--all]  list the active counters\n"
    "  counter retire CENTER CODE [--on DATE]  no longer active from DATE\n"
    "  officer add CODE --name NAME --center CENTER [--counter CODE] [--from DATE]\n"
    "  officer import FILE.csv       add officers, move changed postings\n"
    "  officer list [--center CENTER] [--on DATE]  the officers active on DATE\n"
    "  officer retire CODE [--on DATE]  no longer active from DATE\n"
    "  officer move CODE --center CENTER [--counter CODE] --on DATE\n"
    "  kiosk add CODE --center CENTER --cert FILE.pem [--counter CODE]\n"
    "            [--questionnaire CODE]\n"
    "  kiosk move CODE [--center CENTER] [--counter CODE|--no-counter]\n"
    "  kiosk rotate CODE --cert NEW.pem  replace the kiosk's certificate\n"
    "  kiosk revoke CODE             refuse the kiosk's requests from now on\n"
    "  kiosk list                    list the kiosks\n"
    "  report --by DIM[,DIM] [--from DATE] [--to DATE] [--center CODE]\n"
    "         [--area CODE] [--kiosk CODE] [--questionnaire CODE] [--min-n N]\n"
    "         [--target PERCENT] [--worst N] [--compare previous|FROM:TO]\n"
    "         [--format table|csv|json|html]   satisfaction figures\n"
    "  export [--from DATE] [--to DATE] [--center CODE] [--area CODE]\n"
    "         [--kiosk CODE] [--questionnaire CODE] [--format csv|ndjson]\n"
    "                                every response with its answers\n"
    "  audit [--from DATE] [--to DATE] [--action ACTION] [--who NAME]\n"
    "        [--format table|csv|json]  the administrative actions recorded\n"
    "  audit verify                  check the audit log's chain of hashes\n"
    "  purge [--personal-data-older-than DAYS] [--dry-run]\n"
    "                                clear old comments and respondent profiles\n"
    "  purge --response ID [--dry-run]\n"
    "                                clear one response's, at a person's request\n"
    "  seal-key new --out PREFIX     a key pair for sealed comments\n"
    "  comments --key FILE [--from DATE] [--to DATE] [--center CODE]\n"
    "                                the comments, sealed ones opened\n"
    "  grant ROLE USER               give a login one of sipas's roles\n"
    "  revoke ROLE USER              take it back\n"
    "\n"
    "The database is --db CONNINFO, else $SIPAS_DB, else libpq's PG* variables.\n"
    "Every command takes --help. See sipas(1).\n";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{ "db", cmd_db },
		{ "area", cmd_area },
		{ "center", cmd_center },
		{ "kiosk", cmd_kiosk },
		{ "counter", cmd_counter },
		{ "officer", cmd_officer },
		{ "report", cmd_report },
		{ "export", cmd_export },
		{ "audit", cmd_audit },
		{ "purge", cmd_purge },
		{ "seal-key", cmd_seal_key },
		{ "comments", cmd_comments },
		{ "grant", cmd_grant },
		{ "revoke", cmd_revoke },
	};
	int ch;

	/* Widths of Vietnamese text need a UTF-8 character type. */
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	log_init("sipas", LOG_LEVEL_WARN);
	cli_conninfo = getenv("SIPAS_DB");

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (ch == 'V') {
			printf("sipas %s\n", PACKAGE_VERSION);
			return 0;
		}
		cli_common_option(ch, optarg, usage_text);
	}
	if (optind >= argc)
		cli_usage_error(usage_text, "a command is required");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			argv += optind;
			argc -= optind;
			optind = 0;	/* 0 makes GNU getopt start afresh, forgetting "+" */
			return commands[i].fn(argc, argv);
		}
	}
	cli_usage_error(usage_text, "unknown command '%s'", argv[optind]);
}
