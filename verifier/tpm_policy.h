/* Keylime's tpm_policy: the PCR values a tenant accepts, {"<pcr>": ["hex", ...], "mask": "0x..."}
 * (the mask is recomputed from the PCRs listed). A quoted PCR must equal one of its values. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/pcr_values.h"

#define TPM_POLICY_VALUES_MAX 64

struct tpm_policy {
        TPM2_ALG_ID bank;
        uint32_t mask; /* PCRs the policy constrains */
        struct {
                unsigned count;
                uint8_t (*values)[TPM2_MAX_DIGEST_BUFFER];
        } pcr[24];
};

/* Parses `text` (bounded; every value must be a digest of `bank`); PCR 16 is the agent's payload
 * binding and may not be constrained. -EINVAL with a detail naming the member. */
int tpm_policy_load(const char *text, size_t size, TPM2_ALG_ID bank, struct tpm_policy *policy);
void tpm_policy_done(struct tpm_policy *policy);
/* -EPERM naming the first PCR whose quoted value the policy does not allow. */
int tpm_policy_check(const struct tpm_policy *policy, const struct pcr_values *quoted);
/* The same, the PCRs of `unchecked` (a mask) left out. */
int tpm_policy_check_except(const struct tpm_policy *policy, const struct pcr_values *quoted, uint32_t unchecked);
/* The policy text `text` with `pcr` allowed `hex` alone (its entry made or replaced; "mask",
 * derived from the PCRs listed, dropped): *out malloc'ed, one line of JSON. -EINVAL when `text`
 * is not one JSON object. */
int tpm_policy_text_with_pcr(const char *text, unsigned pcr, const char *hex, char **out);
