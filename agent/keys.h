/* Key release (docs/protocol.md §3), the agent's half: U and V arrive separately, RSA-OAEP (SHA-1)
 * encrypted to the payload key; K = U xor V must authenticate (auth_tag = HMAC-SHA384(K, agent id))
 * before the payload (AES-256-GCM under K) is opened. U, V, K and the payload live only in
 * OpenSSL's secure heap (locked, wiped on free); none of them is ever logged or written anywhere.
 * The payload is key material for volumes: nothing in it is ever run. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/payload_key.h"
#include "lib/secret.h"

#define KEY_HALF_SIZE 32

struct key_release {
        const struct payload_key *payload_key;
        const char *agent_id;
        struct secret *u, *v, *k; /* KEY_HALF_SIZE bytes each; NULL until received / derived */
        char auth_tag[97];
        char *payload_b64;        /* the encrypted payload as sent with U (not secret) */
        struct secret *payload;   /* after K authenticated */
};

void key_release_init(struct key_release *kr, const struct payload_key *pk, const char *agent_id);
void key_release_done(struct key_release *kr);

/* POST /keys/ukey: `encrypted_key` base64, `auth_tag` hex, `payload` base64 or NULL.
 * -EBADMSG for malformed input, -EPERM when K (with V already here) does not authenticate. */
int key_release_ukey(struct key_release *kr, const char *encrypted_key, const char *auth_tag, const char *payload);
/* POST /keys/vkey */
int key_release_vkey(struct key_release *kr, const char *encrypted_key);
/* GET /keys/verify: hex HMAC-SHA384(K, challenge) into out (97 bytes); -EAGAIN until K is known. */
int key_release_verify(const struct key_release *kr, const char *challenge, char out[97]);
/* True once K authenticated (and the payload, if any, was opened). */
bool key_release_complete(const struct key_release *kr);
