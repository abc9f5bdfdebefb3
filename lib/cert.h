/* Kiosk identity: the SHA-256 fingerprint of a certificate's DER encoding. */
#ifndef SIPAS_CERT_H
#define SIPAS_CERT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#define CERT_FINGERPRINT_LEN 32

bool cert_fingerprint(X509 *cert, unsigned char out[CERT_FINGERPRINT_LEN])
    __attribute__((warn_unused_result));
/* Reads the first certificate of a PEM file. */
bool cert_fingerprint_file(const char *path,
    unsigned char out[CERT_FINGERPRINT_LEN], char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Lower-case hex, out must hold 2 * len + 1 bytes. */
void hex_encode(const unsigned char *in, size_t len, char *out);

#endif
