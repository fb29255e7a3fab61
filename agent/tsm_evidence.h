/* The integrity quote's platform_evidence (docs/protocol.md §5, "Hardware report with the
 * integrity quote"): a configfs-tsm report whose REPORT_DATA binds the verifier's nonce and
 * this vTPM's AK and EK, as platform_report asks (off, auto, required). On Azure (the vTPM
 * holds the paravisor's HCL report, agent/azure_report.h) the same 64 bytes are the user data
 * of a fresh HCL report instead, served with provider "azure-hcl". With a TDX quote (provider
 * tdx_guest) comes the TD's CC event log (agent/cc_event_log.h) when cc_event_log_path exists. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "agent/config.h"
#include "agent/tpm.h"
#include "agent/tsm_report.h"

/* *evidence: the JSON object to serve, or NULL when there is none to serve (off, or auto on a
 * machine without configfs-tsm or its provider). An error when platform_report is required and
 * no report came, or when a provider is there and its report failed: the quote is then not
 * served without it. */
int tsm_evidence_take(const struct agent_config *config, struct tpm *tpm, const uint8_t *nonce, size_t nonce_size,
                      const TPM2B_NAME *ak_name, const TPM2B_NAME *ek_name, json_object **evidence);
/* Whether tsm_evidence_take() may serve a report, and so needs the EK's Name: required, or
 * auto where tsm_report_dir exists or the vTPM holds Azure's HCL report. */
bool tsm_evidence_wanted(const struct agent_config *config, struct tpm *tpm);

/* The JSON object served for a configfs-tsm `report`: provider, generation, the blobs in base64
 * and, for tdx_guest, the CC event log read from `cc_event_log_path` (left out when the file
 * does not exist; an error naming the path when it cannot be read or cut). */
int tsm_evidence_json(const struct tsm_report *report, const char *cc_event_log_path, bool required,
                      json_object **evidence);
