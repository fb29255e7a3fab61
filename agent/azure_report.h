/* Azure's paravisor (HCL) report (docs/platforms.md, "Azure"): on an Azure confidential VM the
 * paravisor beneath the guest keeps an attestation report in the vTPM's NV index 0x01400001
 * (its SEV-SNP report binds the vTPM's AK through the runtime data) and makes a fresh one when
 * the guest writes 64 bytes of user data to NV index 0x01400002. As Azure's own tooling
 * (azure-cvm-tooling, az-cvm-vtpm get_report_with_report_data) does: the user data is written
 * with the owner's authorization, the index defined first if it is not, then the report read
 * with the owner's. The paravisor regenerates it asynchronously (that tooling waits 3 s): the
 * report is read again until its runtime data holds the user data just written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/tpm.h"

#define AZURE_HCL_REPORT_INDEX 0x01400001
#define AZURE_USER_DATA_INDEX 0x01400002
#define AZURE_USER_DATA_SIZE 64
/* the index holds 2-3 KiB; the verifier's bound on an HCL report */
#define AZURE_HCL_REPORT_MAX 16384
/* how long the paravisor may take to put the user data into a new report, and how often the
 * report is read meanwhile */
#define AZURE_REPORT_WAIT_MS 5000
#define AZURE_REPORT_POLL_MS 100

/* The HCL report's layout (verifier/hcl_report.h): the hardware report at 32 in a region of
 * 1184 bytes, then the IGVM request data, whose third u32 is the report type. */
#define AZURE_HCL_HW_REPORT_OFFSET 32
#define AZURE_HCL_REPORT_TYPE_OFFSET (32 + 1184 + 8)
#define AZURE_HCL_REPORT_TYPE_SNP 2
#define AZURE_HCL_REPORT_TYPE_TDX 4
#define AZURE_TDREPORT_SIZE 1024

/* True on an Azure confidential VM: the HCL report's NV index is defined. */
bool azure_report_present(struct tpm *tpm);

/* Writes `user_data` to the user-data index and reads the HCL report the paravisor makes for
 * it: *report (malloc'ed, *size bytes). -ETIMEDOUT, named, when no report with this user data
 * came within AZURE_REPORT_WAIT_MS. What the report says is the verifier's to check. */
int azure_report_get(struct tpm *tpm, const uint8_t user_data[AZURE_USER_DATA_SIZE], uint8_t **report, size_t *size);

/* Which hardware report the paravisor's `report` holds: 1 and *tdreport (AZURE_TDREPORT_SIZE
 * bytes, into `report`) on Azure TDX, whose TDREPORT the agent has IMDS turn into a TD quote
 * (agent/azure_imds.h); 0 on SEV-SNP; -EBADMSG, named, for a report too short or of another
 * type. The agent only picks the request here: what the report says is the verifier's to check. */
int azure_report_tdreport(const uint8_t *report, size_t size, const uint8_t **tdreport);
