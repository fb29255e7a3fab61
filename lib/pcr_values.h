/* One bank's worth of PCR values, selected by a 32-bit mask (bit i = PCR i, as Keylime's
 * `mask`), and the operations both ends need on them. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define PCR_MAX 32 /* TPM2_PCR_SELECT_MAX bytes of select bits */

struct pcr_values {
        TPM2_ALG_ID bank;
        uint32_t mask;
        TPM2B_DIGEST value[PCR_MAX];
};

/* "0,1,2,16" or "0-7,16" or "all": PCRs 0-23, the PC Client platform's; bit i set for PCR i.
 * (struct pcr_values holds 32, as tpm2-tools' pcrblob can, for parsing what others send.) */
int pcr_mask_parse(const char *list, uint32_t *mask);
/* Formats as "0,1,16"; `out` must hold at least 128 bytes. */
void pcr_mask_format(uint32_t mask, char *out, size_t size);
unsigned pcr_mask_count(uint32_t mask);

void pcr_selection_from_mask(TPM2_ALG_ID bank, uint32_t mask, TPML_PCR_SELECTION *sel);

/* H_bank(value[i] for each selected i, ascending): the quote's pcrDigest when the values are
 * what the TPM quoted. out must hold hashalg_size(bank) bytes. */
int pcr_values_digest(const struct pcr_values *pcrs, uint8_t *out);
/* The same with another hash: a quote's pcrDigest is made with its signing scheme's hash
 * (TPM 2.0 Part 3, TPM2_Quote), which may differ from the bank (a SHA-1 or SHA-384 bank quoted
 * by a key that signs with SHA-256). out must hold hashalg_size(alg) bytes. */
int pcr_values_digest_with(const struct pcr_values *pcrs, TPM2_ALG_ID alg, uint8_t *out);

/* The value of a resettable PCR reset and then extended once with H_bank(data): what PCR 16
 * holds after the agent bound its payload key (docs/protocol.md §2: H(zeros || H(pubkey PEM))). */
int pcr_value_after_one_extend(TPM2_ALG_ID bank, const void *data, size_t size, uint8_t *out);
