/* One key release to one agent for one boot (SPEC §3): K, U, V split afresh, the tenant's
 * payload (opened from the vault only for this) sealed under K, U and V wrapped to the payload
 * key the agent's identity quote vouched for (PCR 16). The verifier releases U after a good
 * identity quote and V after the first good integrity quote of that boot, then has the agent
 * prove it holds K (/keys/verify). The secrets (K, U, V, the opened payload, the vault key) come
 * from OpenSSL's secure heap, which vmattest-verifier sets up at start. */
#pragma once

#include <stdbool.h>

#include "lib/key_split.h"

struct release {
        struct key_split *split;
        char *ukey_body; /* JSON bodies of POST /keys/ukey and /keys/vkey (wrapped halves, sealed payload) */
        char *vkey_body;
        char challenge[21];
};

int release_prepare(const char *vault_path, const char *sealed_payload, const char *agent_id, const char *pubkey_pem,
                    struct release **out);
void release_free(struct release *r);
/* True when `hmac` (hex) is HMAC-SHA384(K, r->challenge): the agent derived the same K. */
bool release_verify(const struct release *r, const char *hmac);
