/* The REPORT_DATA that ties a confidential VM's hardware report to one integrity quote
 * (docs/protocol.md §5, "Hardware report with the integrity quote"): the agent writes it to
 * configfs-tsm's inblob, the verifier computes the same bytes and compares them with the
 * report's signed REPORT_DATA. A pure function, so that both sides share one definition. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define TSM_BINDING_LABEL "vmattest-tsm-report-v1"
#define TSM_BINDING_SIZE 64 /* SHA-512: the size of SNP's and TDX's REPORT_DATA */
#define TSM_BINDING_NONCE_MAX 64

/* SHA-512(TSM_BINDING_LABEL || 0x00 || nonce || ak_name || ek_name): the verifier's quote nonce
 * (1-64 bytes, as sent) against replay, the TPM Names (nameAlg || digest of TPMT_PUBLIC) of the
 * AK and the EK so that the report cannot vouch for another vTPM. The verifier computes it from
 * its own nonce and the Names of the keys it registered, never from the agent's word. Each Name
 * must be complete (a known nameAlg, then exactly its digest): -EINVAL otherwise. */
int tsm_report_binding(const uint8_t *nonce, size_t nonce_size, const TPM2B_NAME *ak_name, const TPM2B_NAME *ek_name,
                       uint8_t out[TSM_BINDING_SIZE]);
