/* Sealed comments: the one place that knows their format (lib/seal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "seal.h"
#include "xmalloc.h"

static void
seal_init(void)
{
	if (sodium_init() < 0)
		abort();	/* no entropy source: nothing can be sealed */
}

bool
seal_key_parse(const char *b64, unsigned char key[SEAL_KEY_LEN], char *err, size_t errlen)
{
	size_t len = 0;

	seal_init();
	if (sodium_base642bin(key, SEAL_KEY_LEN, b64, strlen(b64), " \t\r\n", &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || len != SEAL_KEY_LEN) {
		snprintf(err, errlen, "not a key: expected the base64 of %d bytes, as "
		    "'sipas seal-key new' writes", SEAL_KEY_LEN);
		return false;
	}
	return true;
}

bool
seal_public_key_parse(const char *b64, unsigned char pk[SEAL_KEY_LEN], char *err,
    size_t errlen)
{
	unsigned char sk[SEAL_KEY_LEN], shared[SEAL_KEY_LEN];
	int rc;

	if (!seal_key_parse(b64, pk, err, errlen))
		return false;
	/* A point of low order gives an all-zero shared secret with any
	 * ephemeral key, which crypto_box_seal refuses: every seal would fail. */
	randombytes_buf(sk, sizeof sk);
	rc = crypto_scalarmult(shared, sk, pk);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(shared, sizeof shared);
	if (rc != 0) {
		snprintf(err, errlen, "not a usable public key (a point of low order): "
		    "make one with 'sipas seal-key new'");
		return false;
	}
	return true;
}

char *
seal_text(const char *text, const unsigned char pk[SEAL_KEY_LEN])
{
	size_t len = strlen(text), boxlen = len + crypto_box_SEALBYTES;
	size_t b64len = sodium_base64_encoded_len(boxlen, sodium_base64_VARIANT_ORIGINAL);
	unsigned char *box = xmalloc(boxlen);
	char *out = xmalloc(sizeof SEAL_PREFIX - 1 + b64len);

	seal_init();
	/* A fresh ephemeral key pair a box: never a reused nonce. */
	if (crypto_box_seal(box, (const unsigned char *)text, len, pk) != 0) {
		free(box);
		free(out);
		return NULL;	/* a key seal_public_key_parse would refuse */
	}
	memcpy(out, SEAL_PREFIX, sizeof SEAL_PREFIX - 1);
	sodium_bin2base64(out + sizeof SEAL_PREFIX - 1, b64len, box, boxlen,
	    sodium_base64_VARIANT_ORIGINAL);
	free(box);
	return out;
}

bool
seal_is_sealed(const char *s)
{
	return strncmp(s, SEAL_PREFIX, sizeof SEAL_PREFIX - 1) == 0;
}

char *
seal_open(const char *s, const unsigned char sk[SEAL_KEY_LEN])
{
	unsigned char pk[SEAL_KEY_LEN], *box;
	size_t cap, len = 0;
	char *text;

	seal_init();
	if (!seal_is_sealed(s))
		return NULL;
	s += sizeof SEAL_PREFIX - 1;
	cap = strlen(s) / 4 * 3 + 3;
	box = xmalloc(cap);
	if (sodium_base642bin(box, cap, s, strlen(s), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || len < crypto_box_SEALBYTES) {
		free(box);
		return NULL;
	}
	crypto_scalarmult_base(pk, sk);
	text = xmalloc(len - crypto_box_SEALBYTES + 1);
	if (crypto_box_seal_open((unsigned char *)text, box, len, pk, sk) != 0) {
		free(box);
		free(text);
		return NULL;
	}
	text[len - crypto_box_SEALBYTES] = '\0';
	free(box);
	return text;
}

void
seal_keypair(char pk[SEAL_KEY_B64], char sk[SEAL_KEY_B64])
{
	unsigned char p[SEAL_KEY_LEN], s[SEAL_KEY_LEN];

	seal_init();
	crypto_box_keypair(p, s);
	sodium_bin2base64(pk, SEAL_KEY_B64, p, sizeof p, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(sk, SEAL_KEY_B64, s, sizeof s, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(s, sizeof s);
}
