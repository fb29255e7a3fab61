/* The checks on Azure's HCL report that need no hardware vendor (docs/platforms.md): the
 * variable data is the one the hardware report's REPORT_DATA binds, hashed with SHA-256 and
 * nothing weaker, and its HCLAkPub is the AK that signs the agent's quotes. The hardware report
 * itself is NOT verified here: hcl_verify() hands its type and bytes on, and until the SNP or
 * TDX checks have verified them, nothing hcl_verify() returned is more than the guest's word. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "verifier/hcl_report.h"
#include "verifier/hcl_runtime_data.h"

/* Where each hardware report carries its 64 bytes of REPORT_DATA: the SEV-SNP ABI's
 * ATTESTATION_REPORT.REPORT_DATA, the TDREPORT's REPORTMACSTRUCT.REPORTDATA. */
#define HCL_SNP_REPORT_DATA_OFFSET 0x50
#define HCL_TDX_REPORT_DATA_OFFSET 128
#define HCL_REPORT_DATA_SIZE 64
/* TDREPORT's REPORTMACSTRUCT.REPORTTYPE.TYPE for TDX */
#define HCL_TDREPORT_TYPE_TDX 0x81

struct hcl_expect {
        /* the platform the verifier's policy names for this agent: the report's own
         * report_type is not signed and only has to agree with it */
        enum hcl_report_type type;
        /* the AK registered for the agent, that signs its quotes (tpmkey_to_evp() of it) */
        EVP_PKEY *ak;
        /* Azure TDX: the REPORTDATA (64 bytes) of the TD quote the caller verified through
         * Intel's chain, which a signature covers: the binding is checked against it and the
         * TDREPORT, MAC'd for its CPU alone, is not read at all. NULL: the hardware report's own
         * REPORT_DATA (SEV-SNP: the caller verifies the report's signature over it after). */
        const uint8_t *signed_report_data;
};

struct hcl_evidence {
        enum hcl_report_type type;
        /* still to be verified by the SNP or TDX checks; points into the parsed report */
        const uint8_t *hw_report;
        size_t hw_report_size;
        struct hcl_runtime_data runtime; /* vm-configuration, user-data, the keys' kids */
};

/* 0 when `report` is of the expected type, its hash type SHA-256, the SHA-256 of its variable
 * data REPORT_DATA[0:32] of the hardware report (or expect->signed_report_data) and
 * REPORT_DATA[32:64] zero, the variable data
 * parses (hcl_runtime_data.h) and its HCLAkPub is `expect->ak`. -EPERM when a check fails,
 * -EBADMSG when the runtime data is malformed; the detail names the check. Clear *evidence
 * with hcl_evidence_clear() on success. */
int hcl_verify(const struct hcl_report *report, const struct hcl_expect *expect, struct hcl_evidence *evidence);
void hcl_evidence_clear(struct hcl_evidence *evidence);
