/* TPM2_Quote with the PCR values read alongside: the values must hash to the quote's
 * pcrDigest, and a PCR may move between the two commands, so the pair is retaken (bounded)
 * until they agree (docs/protocol.md §2). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/ak.h"
#include "agent/tpm.h"
#include "lib/quote_string.h"

#define QUOTE_NONCE_MAX 64

struct quote_request {
        const uint8_t *nonce; /* extraData: the verifier's nonce as bytes */
        size_t nonce_size;
        TPM2_ALG_ID bank;
        uint32_t mask;
};

/* `pcrs` (may be NULL) receives the PCR values the quote covers. */
int quote_take(struct tpm *tpm, const struct ak *ak, const struct quote_request *req, struct quote_parts *parts,
               struct pcr_values *pcrs);
