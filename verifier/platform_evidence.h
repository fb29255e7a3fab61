/* The hardware report an agent serves beside its integrity quote (docs/protocol.md §5.7),
 * judged against the tenant's platform policy: the report must be the platform's the policy
 * names (the policy, not the agent's `provider`, decides how it is parsed), signed through the
 * vendor's pinned root, and bind this poll's nonce and the Names of the AK and EK the registrar
 * holds (lib/tsm_binding.h), so that it cannot be replayed or come from another VM's vTPM. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <tss2/tss2_tpm2_types.h>

#include "verifier/platform_policy.h"

struct platform_trust {
        struct snp_trust snp;
        struct tdx_trust tdx;
        STACK_OF(X509) *test_roots; /* owned; shared by snp and tdx */
        /* SEV-SNP (every kind): where the tenant keeps VCEKs, each file named by the chip id of
         * its CPU in hex (128 lowercase digits), DER or PEM (the VCEK, then optionally its ASK);
         * "" or NULL for none. Looked up when the agent's auxblob carries no VCEK (Azure's vTPM
         * never does); never for a VLEK-signed report (a VLEK is not per chip). */
        const char *vcek_cache_dir;
};

/* `amd_certs_dir`: AMD's ASK/ARK bundles (a missing directory leaves SEV-SNP without AMD's
 * chain: a warning, every SNP report then fails); `intel_root`: Intel's SGX root CA file, read
 * at each check; `test_roots` ("" for none): a PEM file of roots trusted WITHOUT the vendors'
 * pins, for test doubles only. */
int platform_trust_load(const char *amd_certs_dir, const char *intel_root, const char *test_roots,
                        struct platform_trust *trust);
void platform_trust_done(struct platform_trust *trust);

/* 0 when results' `platform_evidence` passes `policy`. For azure-sev-snp the outblob is Azure's
 * HCL report (verifier/hcl_verify.h): its HCLAkPub must be the registered AK, its runtime data's
 * user-data the binding of this nonce and the registered keys, and its SNP report must pass the
 * sev-snp checks with REPORT_DATA = SHA-256(runtime data) || 32 zeros; the VCEK comes from the
 * auxblob (PEM: the VCEK, then any intermediates, as Azure's IMDS serves them) or the
 * vcek_cache_dir. For tdx, a `cc_event_log` member (the TD's CC event log, at most 1 MiB) must
 * replay to the verified quote's RTMR0-3 (verifier/tdx_verify.h, tdx_rtmr_replay); without one
 * the quote is judged alone, unless the policy has require_cc_event_log. */
/* 0 when results' `platform_evidence` passes `policy`; -EPERM (a check failed, or the member is
 * missing) or -EBADMSG (it is malformed) with a detail that starts "platform evidence" and
 * names the check. `facts` (may be NULL) gets one line of what was found, for logs. */
int platform_evidence_check(const struct platform_policy *policy, const struct platform_trust *trust,
                            json_object *results, const char *nonce, const TPM2B_PUBLIC *ak, const TPM2B_PUBLIC *ek,
                            char *facts, size_t facts_size);
