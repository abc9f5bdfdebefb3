/* libFuzzer: a batch body through the batch parser and each item through
 * validation, as POST /v1/responses/batch does. */
#include <stddef.h>
#include <stdint.h>

#include "fixture.h"
#include "response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct catalog *c;
	struct response_limits lim = { 1795659362LL * 1000000, 90LL * 86400 * 1000000 };
	struct response_error err;
	struct response r;
	json_t *doc, *item;
	size_t i;

	if (c == NULL)
		c = fixture_catalog();
	if ((doc = response_batch_load((const char *)data, size, 500, &err)) == NULL)
		return 0;
	json_array_foreach(doc, i, item) {
		if (response_from_json(&r, item, c, &lim, &err))
			response_clear(&r);
	}
	json_decref(doc);
	return 0;
}
