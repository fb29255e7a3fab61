/* The keys of one release attempt to one agent (docs/protocol.md §3): K, U, V split afresh, the
 * tenant's payload (opened from the vault only for this) sealed under K, U and V wrapped to the
 * payload key the integrity quote that started the attempt vouched for (PCR 16), and the challenge
 * of /keys/verify. When each is sent is verifier/release.c's business. The secrets (K, U, V, the
 * opened payload, the vault key) come from OpenSSL's secure heap, which vmattest-verifier sets up
 * at start. */
#pragma once

#include <stdbool.h>

#include "lib/key_split.h"

struct release_keys {
        struct key_split *split;
        char *ukey_body; /* JSON bodies of POST /keys/ukey and /keys/vkey (wrapped halves, sealed payload) */
        char *vkey_body;
        char challenge[21];
};

int release_keys_prepare(const char *vault_path, const char *sealed_payload, const char *agent_id, const char *pubkey_pem,
                         struct release_keys **out);
void release_keys_free(struct release_keys *r);
/* True when `hmac` (hex) is HMAC-SHA384(K, r->challenge): the agent derived the same K. */
bool release_keys_verify(const struct release_keys *r, const char *hmac);
