/* Keylime's quote string (docs/protocol.md §2):
 *   "r" base64(TPMS_ATTEST) ":" base64(TPMT_SIGNATURE) ":" base64(pcrblob)
 * The agent builds it from what TPM2_Quote and TPM2_PCR_Read returned; the verifier takes it
 * apart again. Both directions live here so that they cannot drift apart. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "pcr_values.h"
#include "pcrblob.h"

/* The three parts as bytes: the attest exactly as signed, the signature and the pcrblob. */
struct quote_parts {
        uint8_t attest[sizeof(TPMS_ATTEST)];
        size_t attest_size;
        uint8_t signature[sizeof(TPMT_SIGNATURE)];
        size_t signature_size;
        uint8_t pcrblob[PCRBLOB_MAX_SIZE];
        size_t pcrblob_size;
};

/* The same, parsed. */
struct quote {
        TPMS_ATTEST attest;
        TPMT_SIGNATURE signature;
        struct pcr_values pcrs;
};

/* Longest quote string accepted: the three parts at their maximum size, in base64. */
#define QUOTE_STRING_MAX (1 + 4 * ((sizeof(TPMS_ATTEST) + sizeof(TPMT_SIGNATURE) + PCRBLOB_MAX_SIZE) / 3 + 3) + 2)

/* Returns a malloc'ed string. */
int quote_string_encode(const struct quote_parts *parts, char **out);
int quote_string_decode(const char *text, size_t text_len, struct quote_parts *parts);
/* Unmarshals all three parts; the attest must be a TPM-generated TPM2_ST_ATTEST_QUOTE. */
int quote_parse(const struct quote_parts *parts, struct quote *quote);
/* The attest part alone, with the same checks (every byte used, TPM_GENERATED_VALUE, a quote). */
int quote_attest_parse(const uint8_t *attest, size_t size, TPMS_ATTEST *out);
