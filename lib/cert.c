/* Certificate fingerprints, shared by the daemon (peer certificates) and
 * the client (enrolment from a PEM file). */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cert.h"

bool
cert_fingerprint(X509 *cert, unsigned char out[CERT_FINGERPRINT_LEN])
{
	unsigned int len = 0;

	return X509_digest(cert, EVP_sha256(), out, &len) == 1 &&
	    len == CERT_FINGERPRINT_LEN;
}

bool
cert_fingerprint_file(const char *path, unsigned char out[CERT_FINGERPRINT_LEN],
    char *err, size_t errlen)
{
	FILE *f;
	X509 *cert;
	bool ok;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	ERR_clear_error();
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate found (%s)", path,
		    ERR_reason_error_string(ERR_peek_last_error()));
		return false;
	}
	ok = cert_fingerprint(cert, out);
	X509_free(cert);
	if (!ok)
		snprintf(err, errlen, "%s: cannot compute the fingerprint", path);
	return ok;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}
