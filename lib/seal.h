/* Sealed comments (docs/privacy.md): libsodium's sealed boxes to an X25519
 * public key. sipasd seals with the public key alone; only the holder of
 * the secret key (sipas comments --key) opens. A sealed comment is stored
 * as text: SEAL_PREFIX and the base64 of the box. */
#ifndef SIPAS_SEAL_H
#define SIPAS_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#define SEAL_KEY_LEN 32
#define SEAL_PREFIX "sealed:"

/* Decodes a key written as base64 (surrounding white space ignored). */
bool seal_key_parse(const char *b64, unsigned char key[SEAL_KEY_LEN], char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* The same for a public key to seal with, refusing one no box can use. */
bool seal_public_key_parse(const char *b64, unsigned char pk[SEAL_KEY_LEN], char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* The sealed form of text, owned by the caller, or NULL when it cannot be
 * sealed to that key. */
char *seal_text(const char *text, const unsigned char pk[SEAL_KEY_LEN])
    __attribute__((warn_unused_result));

/* Whether s is a sealed text. */
bool seal_is_sealed(const char *s);

/* Opens a sealed text with the secret key: the text, owned by the caller,
 * or NULL when it is not sealed to that key or was altered. */
char *seal_open(const char *s, const unsigned char sk[SEAL_KEY_LEN]);

/* A new key pair, both written as base64 (SEAL_KEY_B64 bytes with the NUL). */
#define SEAL_KEY_B64 45
void seal_keypair(char pk[SEAL_KEY_B64], char sk[SEAL_KEY_B64]);

#endif
