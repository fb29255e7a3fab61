/* The PCR file tpm2-tools writes with `tpm2_quote -o` (its default "serialized" format) and
 * Keylime carries as the third part of a quote string: tpm2-tools' in-memory layout,
 * little-endian (docs/protocol.md §2):
 *   u32 count, 16 x {u16 hashAlg, u8 sizeofSelect, u8 pcrSelect[4], u8 pad}   (132 bytes)
 *   u32 N, N x TPML_DIGEST {u32 count, 8 x {u16 size, u8 buffer[64]}}           (532 bytes each)
 * Values are listed in ascending PCR order, at most 8 per TPML_DIGEST. One bank only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pcr_values.h"

#define PCRBLOB_SELECTION_SIZE (4 + 16 * 8)
#define PCRBLOB_DIGEST_LIST_SIZE (4 + 8 * (2 + 64))
#define PCRBLOB_MAX_LISTS PCR_MAX /* tpm2-tools' TPM2_MAX_PCRS lists */
#define PCRBLOB_MAX_SIZE (PCRBLOB_SELECTION_SIZE + 4 + PCRBLOB_MAX_LISTS * PCRBLOB_DIGEST_LIST_SIZE)

size_t pcrblob_size(const struct pcr_values *pcrs);
/* Writes pcrblob_size() bytes to out (capacity cap). */
int pcrblob_encode(const struct pcr_values *pcrs, uint8_t *out, size_t cap, size_t *out_size);
int pcrblob_decode(const uint8_t *blob, size_t size, struct pcr_values *pcrs);
