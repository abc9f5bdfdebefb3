/* libFuzzer: a response body through JSON parsing, validation and hashing,
 * and, when valid, through the spool record and back. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct catalog *c;
	struct response_limits lim = { 1795659362LL * 1000000, 90LL * 86400 * 1000000 };
	struct response_error err;
	struct response r, back;
	json_t *doc, *rec;

	if (c == NULL)
		c = fixture_catalog();
	if ((doc = response_json_load((const char *)data, size, &err)) == NULL)
		return 0;
	if (response_from_json(&r, doc, c, &lim, &err)) {
		rec = response_to_record(&r);
		if (!response_from_record(&back, rec, c) ||
		    memcmp(back.hash, r.hash, sizeof r.hash) != 0)
			__builtin_trap();	/* the spool must give back what it took */
		response_clear(&back);
		json_decref(rec);
		response_clear(&r);
	}
	json_decref(doc);
	return 0;
}
