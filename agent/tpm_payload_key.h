/* The payload key inside the TPM (agent.conf payload_key = tpm, the default): RSA-2048,
 * decrypt only, fixedTPM, fixedParent, sensitiveDataOrigin, made under a storage primary of the
 * null hierarchy. The null hierarchy's seed changes at every TPM reset, so neither the key nor
 * its TPM-encrypted private blob outlives the boot; within the boot the primary is made again
 * from the same template (CreatePrimary is deterministic for one seed and template), which is how
 * `serve` loads the blob `unlock` handed over. U and V are opened by TPM2_RSA_Decrypt; the
 * private key never exists outside the TPM.
 *
 * TPM2_Certify by the AK vouches that the key served as `pubkey` is such a key (docs/protocol.md
 * §5.10): the verifier checks it before any release. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "agent/ak.h"
#include "agent/tpm.h"
#include "lib/secret.h"

/* marshalled TPM2B_PUBLIC / TPM2B_PRIVATE / TPMS_ATTEST / TPMT_SIGNATURE are all smaller */
#define TPM_PAYLOAD_KEY_BLOB_MAX 1024

struct tpm_payload_key {
        /* the key's saved context: loaded for each command and flushed after it, so that it
         * takes no object slot of the TPM between uses */
        TPMS_CONTEXT context;
        bool saved;
        TPM2B_PUBLIC parent_template; /* the null-hierarchy primary it was made under */
        TPM2B_PUBLIC public;
        TPM2B_PRIVATE private; /* encrypted by the TPM under the parent: useless outside this boot's TPM */
};

/* Makes the parent and the key, loads the key and saves its context (the parent and the key
 * are flushed). */
int tpm_payload_key_create(struct tpm *tpm, struct tpm_payload_key *key);
/* Makes `parent_template`'s primary again and loads the key from its public and private: an
 * error naming the step when the TPM was reset since (the blob does not load under the new
 * seed) or the blob is not one of its keys. */
int tpm_payload_key_load(struct tpm *tpm, const TPM2B_PUBLIC *parent_template, const TPM2B_PUBLIC *public,
                         const TPM2B_PRIVATE *private, struct tpm_payload_key *key);
/* True when the key's saved context still loads as the key (it does not after a TPM reset). */
bool tpm_payload_key_present(struct tpm *tpm, const struct tpm_payload_key *key);
/* Drops the saved context. */
void tpm_payload_key_forget(struct tpm_payload_key *key);
/* 0 when `public` is a payload key this agent makes (the attributes above, RSA-2048, scheme NULL). */
int tpm_payload_key_check_public(const TPMT_PUBLIC *public);

/* RSA-OAEP (SHA-1, MGF1-SHA-1, no label: what Keylime's tenant and vmattest-verifier use) with
 * the TPM: `wrapped` into a new secret; -EBADMSG when it does not decrypt. */
int tpm_payload_key_decrypt(struct tpm *tpm, const struct tpm_payload_key *key, const uint8_t *wrapped, size_t size,
                            struct secret **plain);
/* TPM2_Certify of the key by `ak` over `qualifying` (SHA-256 of the served PEM): the marshalled
 * TPMS_ATTEST and TPMT_SIGNATURE. */
int tpm_payload_key_certify(struct tpm *tpm, const struct tpm_payload_key *key, const struct ak *ak,
                            const uint8_t *qualifying, size_t qualifying_size, uint8_t *attest, size_t *attest_size,
                            uint8_t *signature, size_t *signature_size);
