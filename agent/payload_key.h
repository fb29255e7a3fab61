/* The payload key (NK, docs/protocol.md §2/§3), RSA-2048, made when the agent starts: in the TPM
 * (payload_key = tpm, the default: agent/tpm_payload_key.h; its private half never leaves the
 * TPM, and TPM2_Certify by the AK says so, docs/protocol.md §5.10), or in software for a TPM that
 * cannot (payload_key = software: kept only in OpenSSL's secure heap, which is locked, never
 * written anywhere but the hand-over). Either way its public half is served as `pubkey` and
 * bound into PCR 16, so that the verifier knows the key it encrypts U and V to is the one this
 * TPM's quotes vouch for. */
#pragma once

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>

#include "agent/ak.h"
#include "agent/tpm.h"
#include "agent/tpm_payload_key.h"
#include "lib/secret.h"

struct payload_key {
        EVP_PKEY *key;    /* software: the key pair; in the TPM: NULL */
        struct tpm *tpm;  /* in the TPM: the TPM that holds it (the agent's, borrowed); else NULL */
        struct tpm_payload_key in_tpm;
        char *public_pem; /* SPKI PEM, exactly as served and hashed into PCR 16 */
        /* in the TPM: TPM2_Certify of the key by the AK over SHA-256(public_pem) */
        uint8_t certify_attest[TPM_PAYLOAD_KEY_BLOB_MAX], certify_signature[TPM_PAYLOAD_KEY_BLOB_MAX];
        size_t certify_attest_size, certify_signature_size;
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
/* payload_key = tpm: makes the key in `tpm` (which must outlive pk). */
int payload_key_make_in_tpm(struct payload_key *pk, struct tpm *tpm);
/* The key `unlock` made in the TPM in this boot, loaded again from the hand-over. */
int payload_key_load_in_tpm(struct payload_key *pk, struct tpm *tpm, const TPM2B_PUBLIC *parent_template,
                            const TPM2B_PUBLIC *public, const TPM2B_PRIVATE *private);
/* In the TPM: has `ak` certify the key (once; kept in pk for every quote answer). */
int payload_key_certify(struct payload_key *pk, const struct ak *ak);
static inline bool payload_key_in_tpm(const struct payload_key *pk) {
        return pk->tpm != NULL;
}
/* In the TPM, after PCR 16 lost its binding: when the TPM no longer holds the key (it was
 * reset under a running agent: a new boot), a new key is made and certified by `ak`: 1; the
 * same key: 0. */
int payload_key_renew_if_gone(struct payload_key *pk, const struct ak *ak);
/* RSA-OAEP (SHA-1, MGF1-SHA-1, no label) with the key, wherever it lives: into a new secret;
 * -EBADMSG when `wrapped` does not decrypt. */
int payload_key_decrypt(const struct payload_key *pk, const uint8_t *wrapped, size_t size, struct secret **plain);
/* Unloads a TPM key and frees (wiping) a software one. */
void payload_key_free(struct payload_key *pk);

/* docs/protocol.md §2: reset PCR 16 and extend it with H_bank(public_pem) in `bank`. */
int payload_key_bind(struct tpm *tpm, const struct payload_key *pk, TPM2_ALG_ID bank);
