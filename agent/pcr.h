/* Reading, extending and resetting PCRs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/tpm.h"
#include "lib/pcr_values.h"

/* Reads the PCRs in `mask` of `bank`; TPM2_PCR_Read returns at most 8 per call, and the
 * values are only consistent if no PCR changed in between, which the update counter tells. */
int pcr_read(struct tpm *tpm, TPM2_ALG_ID bank, uint32_t mask, struct pcr_values *out);
/* Banks with at least one PCR allocated. */
int pcr_active_banks(struct tpm *tpm, TPM2_ALG_ID *banks, size_t cap, size_t *count);
/* Extends `pcr` in each of `banks` with H_bank(data), as the kernel and Keylime do. */
int pcr_extend_data(struct tpm *tpm, unsigned pcr, const TPM2_ALG_ID *banks, size_t nbanks, const void *data,
                    size_t size);
/* Resets `pcr` (only the debug PCR 16 and PCR 23 allow that from locality 0). */
int pcr_reset(struct tpm *tpm, unsigned pcr);
