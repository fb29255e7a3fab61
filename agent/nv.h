/* Reading a TPM NV index whole, within a bound: a cloud's AK certificate and AK template
 * (agent/platform_ak.h). The index's public area says who may read it; the owner is asked
 * first, as the clouds' guides read these indices (tpm2_nvread -C o), else the index's own
 * (empty) authorization. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/tpm.h"

/* *data: malloc'ed, *size bytes, the index's whole data. -ENOENT (no detail) when `index` is
 * not defined; -EBADMSG when it holds 0 or more than `max` bytes; `what` names the index's
 * content in the detail ("Azure AK certificate"). */
int tpm_nv_read_all(struct tpm *tpm, TPM2_HANDLE index, size_t max, const char *what, uint8_t **data, size_t *size);
/* The same, asking the index's own (empty) authorization first and the owner's only when the
 * index does not allow that: the EK certificate indices of the TCG EK Credential Profile, which
 * a TPM whose owner has a password must still serve. */
int tpm_nv_read_all_index_auth(struct tpm *tpm, TPM2_HANDLE index, size_t max, const char *what, uint8_t **data,
                               size_t *size);

/* Writes `size` bytes (at most one NV_Write's worth) at offset 0 of an ordinary index the owner
 * reads and writes, defining it first (TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD, nameAlg SHA-256,
 * exactly `size` bytes) when it is not, and defining it anew when it has another size, as
 * Azure's own tooling does for its user-data index (agent/azure_report.h). `what` names it. */
int tpm_nv_write_owner(struct tpm *tpm, TPM2_HANDLE index, const uint8_t *data, size_t size, const char *what);

/* An ESYS_TR for `index` (Esys_TR_Close() it); -ENOENT (no detail) when it is not defined. */
int tpm_nv_find(struct tpm *tpm, TPM2_HANDLE index, ESYS_TR *tr);
/* The most bytes one TPM2_NV_Read or TPM2_NV_Write moves (TPM2_PT_NV_BUFFER_MAX); 512 when the
 * TPM does not say (every TPM 2.0 moves that much). */
uint16_t tpm_nv_buffer_max(struct tpm *tpm);

/* True when `index` is defined (a failure to ask counts as not). */
bool tpm_nv_defined(struct tpm *tpm, TPM2_HANDLE index);
