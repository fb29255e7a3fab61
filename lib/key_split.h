/* Key release (docs/protocol.md §3), the tenant's half: K and V random, U = K xor V, auth_tag =
 * HMAC-SHA384(K, agent id), the payload sealed with AES-256-GCM under K as
 * base64(IV[16] || ciphertext || tag[16]), each half wrapped with RSA-OAEP (SHA-1) to the
 * agent's payload key. K, U and V live in OpenSSL's secure heap (lib/secret.h) and are wiped
 * when the split is freed. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_tag.h"
#include "secret.h"

#define KEY_SPLIT_SIZE 32

struct key_split {
        struct secret *halves;     /* K || U || V */
        uint8_t *k, *u, *v;        /* KEY_SPLIT_SIZE bytes each, in `halves` */
        char auth_tag[AUTH_TAG_HEX_SIZE]; /* sent to the agent in clear */
};

int key_split_new(const char *agent_id, struct key_split **out);
void key_split_free(struct key_split *split);
/* malloc'ed base64 of the sealed payload (not secret once sealed). */
int key_split_seal(const struct key_split *split, const uint8_t *payload, size_t size, char **sealed_b64);
/* malloc'ed base64 of RSA-OAEP(SHA-1, MGF1-SHA-1)(half) to `pubkey`. */
int key_half_wrap(EVP_PKEY *pubkey, const uint8_t half[KEY_SPLIT_SIZE], char **wrapped_b64);
