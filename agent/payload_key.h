/* The payload key (NK, docs/protocol.md §2/§3): a software RSA-2048 key made when the agent starts
 * and kept only in memory (OpenSSL's secure heap, which is locked), never written anywhere. Its
 * public half is served as `pubkey` and bound into PCR 16, so that the verifier knows the key it
 * encrypts U and V to is the one this TPM's quotes vouch for. */
#pragma once

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>

#include "agent/tpm.h"

struct payload_key {
        EVP_PKEY *key;
        char *public_pem; /* SPKI PEM, exactly as served and hashed into PCR 16 */
};

/* OpenSSL's secure heap (locked, wiped on free), once per process, before any secret exists. */
void payload_key_secure_heap(void);
/* Making an RSA-2048 key costs ~0.2 s of CPU natively and seconds under TCG: payload_key_start
 * runs it on a thread of its own (after setting up the secure heap) while the agent talks to
 * the TPM and the registrar; payload_key_finish waits for it, and must be called once for every
 * started job, whatever happened meanwhile. */
struct payload_key_job {
        pthread_t thread;
        bool running;
        EVP_PKEY *key;
};
int payload_key_start(struct payload_key_job *job);
/* On success pk holds the key. */
int payload_key_finish(struct payload_key_job *job, struct payload_key *pk);
/* The key `unlock` made in this boot, handed over to `serve`; owned by pk on success. */
int payload_key_adopt(struct payload_key *pk, EVP_PKEY *key);
void payload_key_free(struct payload_key *pk);

/* docs/protocol.md §2: reset PCR 16 and extend it with H_bank(public_pem) in `bank`. */
int payload_key_bind(struct tpm *tpm, const struct payload_key *pk, TPM2_ALG_ID bank);
