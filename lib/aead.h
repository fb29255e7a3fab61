/* AES-256-GCM as vmattest seals secrets: base64(IV[16] || ciphertext || tag[16]) (the layout of
 * docs/protocol.md §3's payload). Used for the payload under K and for the verifier's copy of each
 * tenant payload under its vault key. Opened plaintext lives in OpenSSL's secure heap. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "secret.h"

#define AEAD_KEY_SIZE 32

/* malloc'ed base64 (not secret once sealed). */
int aead_seal(const uint8_t key[AEAD_KEY_SIZE], const uint8_t *plain, size_t size, char **sealed_b64);
/* *plain: the plaintext (free with secret_free). -EBADMSG for malformed input, -EPERM when it
 * does not open under `key`. */
int aead_open_secret(const uint8_t key[AEAD_KEY_SIZE], const char *sealed_b64, struct secret **plain);
/* The same for the verifier's callers: *plain is OPENSSL_secure_malloc'ed, *size bytes (+1 zero
 * byte); free with OPENSSL_secure_clear_free(p, size + 1). */
int aead_open(const uint8_t key[AEAD_KEY_SIZE], const char *sealed_b64, uint8_t **plain, size_t *size);
