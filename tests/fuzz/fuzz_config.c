/* libFuzzer: a configuration file, line by line through sipasd's key table. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	unsigned char seen[64] = { 0 };
	char err[512], *text, *line, *next;
	unsigned lineno = 0;

	if (conf_count(config_keys) >= sizeof seen)
		__builtin_trap();
	memset(&cfg, 0, sizeof cfg);
	if (!conf_defaults(config_keys, &cfg, err, sizeof err))
		__builtin_trap();	/* the defaults themselves must parse */
	text = xstrndup((const char *)data, size);
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (!conf_parse_line(line, ++lineno, config_keys, &cfg, seen, err,
		    sizeof err))
			break;
	}
	free(text);
	conf_free(config_keys, &cfg);
	return 0;
}
