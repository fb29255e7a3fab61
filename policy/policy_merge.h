/* --merge: an existing runtime policy's contents taken into the one being made, as
 * keylime-policy's --base-policy takes them: its digests, excludes, keyrings and ima-buf are
 * united with the new ones, and its ima.log_hash_alg, ima.ignored_keyrings and
 * verification-keys are kept. Its meta and release are not: the result is a new policy (release
 * 0, this generator's meta). The file must be a policy vmattest-verifier loads
 * (lib/runtime_policy.h): it is checked as the verifier checks it first. Hex digests are taken
 * in lower case (Keylime's schema wants them so). */
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "policy/keylime_json.h"

struct merged_policy {
        char *log_hash_alg;      /* NULL when the policy has none */
        char *verification_keys; /* NULL when the policy has none */
        /* the algorithm of its first path's first digest, by length (Keylime guesses so);
         * TPM2_ALG_NULL when it lists no digest, TPM2_ALG_ERROR for a length no hash has */
        TPM2_ALG_ID digest_alg;
};

/* Adds the policy's sets to doc's (not finished yet). */
int policy_merge_read(const char *path, struct runtime_policy_doc *doc, struct merged_policy *merged);
void merged_policy_done(struct merged_policy *merged);
