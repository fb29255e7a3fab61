/* The verifier's copy of each tenant payload (the LUKS key) is kept sealed (lib/aead.h) under a
 * vault key of its own, a root-only file made on first use, so that the database never holds a
 * disk key in the clear. The vault key is read into the secure heap only when needed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/aead.h"

/* *key: OPENSSL_secure_malloc'ed AEAD_KEY_SIZE bytes; free with OPENSSL_secure_clear_free. */
int payload_vault_key(const char *path, bool create, uint8_t **key);
/* `plain` (n bytes) sealed under the vault key at `path` (made when missing): *sealed, the
 * text the store keeps (aead_seal). */
int payload_vault_seal(const char *path, const uint8_t *plain, size_t n, char **sealed);
