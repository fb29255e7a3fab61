/* What a TDX quote (verifier/tdx_quote.h) proves, and whether it is what the tenant expects.
 *
 * The chain of signatures, each link checked here, from Intel's root down to the TD:
 *   Intel SGX Root CA (pinned in code by its SHA-256, loaded from a file)
 *     -> PCK platform or processor CA -> PCK certificate      (the quote's PEM chain)
 *     -> QE report                                            (signed by the PCK key)
 *     -> attestation key     (QE REPORTDATA = SHA-256(attestation key || QE auth data) || 0^32)
 *     -> header || TD quote body                              (signed by the attestation key)
 * The QE report must also be Intel's TD quoting enclave's, not in debug mode (its MRSIGNER,
 * ISVPRODID, ATTRIBUTES and MISCSELECT, from Intel's QE identity for TD_QE): another enclave
 * the PCK key certified, or a debug one whose memory the host reads, could sign anything.
 * Only then are the body's measurements worth comparing with the policy.
 *
 * Not checked here: revocation (PCK CRLs) and the TCB status of Intel's TCB info and QE
 * identity collateral, which need Intel's PCS or a cache of it; a minimum TEE_TCB_SVN in the
 * policy is the stand-in until then. */
#pragma once

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "verifier/tdx_quote.h"

/* Where `make install` puts Intel's SGX root CA certificate. */
#define TDX_INTEL_ROOT_FILE "/usr/share/vmattest/intel/sgx_root_ca.pem"

struct tdx_trust {
        const char *intel_root_file; /* NULL: TDX_INTEL_ROOT_FILE; must hold exactly Intel's root,
                                      * whose SHA-256 is pinned in code */
        STACK_OF(X509) *test_roots;  /* FOR TESTS ONLY: roots trusted without the pin, so that a
                                      * test can make its own "Intel root" and sign synthetic
                                      * quotes; NULL everywhere else */
        time_t at;                   /* 0: now */
};

/* Every field NULL/0/false is checked as "anything", except those marked required. */
struct tdx_policy {
        const uint8_t (*mrtd_allowed)[TDX_MR_SIZE]; /* required: the TD firmware images allowed */
        size_t mrtd_allowed_count;
        bool rtmr_expected[TDX_RTMR_COUNT];
        uint8_t rtmr[TDX_RTMR_COUNT][TDX_MR_SIZE];
        bool mrconfigid_expected;
        uint8_t mrconfigid[TDX_MR_SIZE];
        bool mrowner_expected;
        uint8_t mrowner[TDX_MR_SIZE];
        bool allow_debug;                           /* a DEBUG TD's memory is the host's to read */
        bool min_tee_tcb_svn_set;
        uint8_t min_tee_tcb_svn[16];                /* each of the 16 components at least this */
        uint8_t report_data[TDX_REPORT_DATA_SIZE];  /* required: what the caller expects the TD to
                                                     * have bound (its nonce, its key) */
};

/* The Intel root, loaded from `path` (NULL: TDX_INTEL_ROOT_FILE): -EACCES unless the file holds
 * one certificate with the pinned SHA-256. */
int tdx_intel_root_load(const char *path, STACK_OF(X509) **roots);

/* The signatures, the QE's identity and the PCK chain of a parsed quote, in the order of the
 * header comment's chain from the root down. 0, or -EACCES (-EBADMSG for a key or certificate
 * that does not parse, -ENOENT for a missing root file) with a detail naming the link:
 * "TDX quote: PCK certificate ...", "TDX quote: QE report signature does not verify with the
 * PCK certificate's key", "TDX quote: QE report data does not bind the attestation key",
 * "TDX quote: signature does not verify with the attestation key". */
int tdx_quote_verify(const struct tdx_quote *quote, const struct tdx_trust *trust);

/* The body against the policy, for a quote tdx_quote_verify() accepted: 0, -EPERM naming the
 * field ("TDX quote: MRTD ... is not allowed", "TDX quote: RTMR2 is ..., the policy expects
 * ..."), -EINVAL for a policy without its required fields. */
int tdx_policy_check(const struct tdx_quote *quote, const struct tdx_policy *policy);

/* tdx_quote_parse, tdx_quote_verify and tdx_policy_check in that order; *quote (may be NULL)
 * holds the parsed quote when they all pass. */
int tdx_verify(const uint8_t *data, size_t size, const struct tdx_trust *trust, const struct tdx_policy *policy,
               struct tdx_quote *quote);

/* The CC event log (UEFI CC measurement protocol, exposed as the ACPI CCEL table's log area):
 * a TCG2 crypto-agile event log with SHA-384 digests whose PCR index field is the measurement
 * register index, 1 = RTMR0 ... 4 = RTMR3 (0 would be MRTD, which no event extends). Replays
 * it (lib/eventlog.h) and compares each RTMR with the quote's: 0 when all four match (an RTMR no
 * event extends must be zeros), -EPERM naming the first RTMR that differs, -EBADMSG for a log
 * that does not parse, carries no SHA-384 digests or extends an index other than 1-4. The body
 * must come from a quote tdx_verify() accepted; only then is a replaying event's digest known
 * to be in the RTMR, and its type and data remain the log's claims. `ccel` is the log alone:
 * the unused rest of the ACPI log area (its full LAML, as /sys/firmware/acpi/tables/data/CCEL
 * reads) does not parse as events and must be cut off by whoever reads it. */
int tdx_rtmr_replay(const uint8_t *ccel, size_t size, const struct tdx_quote_body *body);
