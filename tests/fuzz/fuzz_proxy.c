/* libFuzzer: the PROXY protocol v2 parser, fed every prefix of the input as
 * the reader would feed it. Once a prefix is judged, a longer one must not
 * change the verdict, the length, or the address. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss, first;
	const char *why = NULL;
	size_t total, known = 0, len;
	enum proxy_result r, verdict = PROXY_MORE;

	if (size > PROXY_KEEP_LEN)
		size = PROXY_KEEP_LEN;	/* the reader never shows it more */
	for (len = 0; len <= size; len++) {
		r = proxy_parse(data, len, &total, &ss, &why);
		if (r == PROXY_BAD && why == NULL)
			__builtin_trap();
		if (total != 0 && (total < PROXY_FIXED_LEN || total > PROXY_FIXED_LEN + 65535 ||
		    (known != 0 && total != known)))
			__builtin_trap();
		if (total != 0)
			known = total;
		if (verdict == PROXY_BAD && r != PROXY_BAD)
			__builtin_trap();
		if (verdict == PROXY_PARSED &&
		    (r != PROXY_PARSED || memcmp(&ss, &first, sizeof ss) != 0))
			__builtin_trap();
		if (verdict == PROXY_MORE && r == PROXY_PARSED)
			first = ss;
		if (r != PROXY_MORE)
			verdict = r;
		if (r == PROXY_PARSED && ss.ss_family != AF_UNSPEC &&
		    ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
			__builtin_trap();
	}
	return 0;
}
