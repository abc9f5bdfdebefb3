/* The kiosk listener's TLS context: server certificate, mutual TLS against
 * the kiosk CA, optional CRL, modern protocols and ciphers only. */
#ifndef SIPASD_TLS_H
#define SIPASD_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct config;

SSL_CTX *tls_ctx_new(const struct config *cfg, char *err, size_t errlen);
/* The last OpenSSL error as text, for log lines; clears the queue. */
const char *tls_error(void);

#endif
