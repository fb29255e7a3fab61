/* The tenant's platform policy (docs/platforms.md, "The platform policy"): which hardware must
 * vouch for an agent's VM beneath its vTPM, and what its signed report must say. A JSON object
 * given with `add --platform-policy` or `group add --platform-policy`, stored as given, parsed
 * here into the checks of verifier/snp_verify.h and verifier/tdx_verify.h. A typo is an error
 * (unknown members are refused), never a check silently not made. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verifier/snp_verify.h"
#include "verifier/tdx_verify.h"

#define PLATFORM_POLICY_TEXT_MAX (64 * 1024)
#define PLATFORM_MEASUREMENTS_MAX 64

enum platform_kind {
        PLATFORM_SEV_SNP = 1,  /* an SEV-SNP report through configfs-tsm (provider sev_guest) */
        PLATFORM_TDX,          /* a TDX quote through configfs-tsm (provider tdx_guest) */
        PLATFORM_SVSM_SEV_SNP, /* an SEV-SNP report an SVSM made for its vTPM service, with the
                                * vTPM's manifest (verifier/svsm_manifest.h); the snp members */
        /* Azure's paravisor (HCL) report from the vTPM's NV (provider azure-hcl), its hardware
         * report an SEV-SNP one: the same members and checks as sev-snp */
        PLATFORM_AZURE_SEV_SNP,
        /* the same HCL report with a TDREPORT, which IMDS had quoted (its "td_quote"): the tdx
         * members and checks, on the quote's body; no CC event log (require_cc_event_log is
         * refused: the paravisor, not the guest, owns the TD's RTMRs) */
        PLATFORM_AZURE_TDX,
};

struct platform_policy {
        enum platform_kind kind;
        /* SEV-SNP; report_data is filled per quote by the caller (lib/tsm_binding.h) */
        struct snp_policy snp;
        uint8_t (*snp_measurements)[48];
        /* TDX; report_data likewise */
        struct tdx_policy tdx;
        uint8_t (*tdx_mrtds)[TDX_MR_SIZE];
        /* a quote served without the CC event log fails; with the log, RTMR0-3 must replay from
         * it whatever this says (verifier/platform_evidence.c) */
        bool tdx_require_cc_event_log;
};

/* `text` (at most PLATFORM_POLICY_TEXT_MAX bytes): -EBADMSG naming the member and what is wrong. */
int platform_policy_parse(const char *text, size_t size, struct platform_policy **out);
void platform_policy_free(struct platform_policy *policy);
const char *platform_kind_name(enum platform_kind kind);

static inline void platform_policy_freep(struct platform_policy **policy) {
        platform_policy_free(*policy);
}
