/*
 * crypto.h - the few primitives connectors need: SHA-256, HMAC-SHA256
 * (OAuth 1.0a signatures), Base64 and random bytes (percent-encoding is in
 * util.h).
 * Self-contained so plugins need no crypto library of their own.
 */
#ifndef FERRY_CRYPTO_H
#define FERRY_CRYPTO_H

#include <stddef.h>

/* SHA-256 of data into out[32]. */
void ferry_sha256(const void *data, size_t len, unsigned char out[32]);

/* HMAC-SHA256 (RFC 2104) of msg with key into out[32]. */
void ferry_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[32]);

/* Lowercase hex of len bytes; returns a new string (free()). */
char *ferry_hex(const unsigned char *data, size_t len);

/* Base64, standard alphabet with padding; returns a new string (free()). */
char *ferry_base64_encode(const void *data, size_t len);

/*
 * Decode Base64 (standard or URL-safe alphabet, padding optional) into a new
 * buffer (free()); *out_len gets its length.  NULL on invalid input.
 */
unsigned char *ferry_base64_decode(const char *text, size_t *out_len);

/* Fill buf with len cryptographically random bytes; 0 on success, -1 on failure. */
int ferry_random_bytes(void *buf, size_t len);

#endif /* FERRY_CRYPTO_H */
