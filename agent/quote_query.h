/* The query of GET /quotes/identity and /quotes/integrity (docs/protocol.md §2, Keylime API v2.x) as the
 * verifier sends it: nonce, and for an integrity quote mask, ima_ml_entry and partial. Read
 * from libevent's decoded query (evhttp_parse_query_str); the first of repeated names counts.
 * Untrusted: every value is checked and bounded before the TPM sees any of it. */
#pragma once

#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdint.h>

#define QUOTE_QUERY_NONCE_MAX 64

struct quote_query {
        char nonce[QUOTE_QUERY_NONCE_MAX + 1]; /* 1-64 letters and digits */
        uint32_t mask;                          /* integrity: the PCRs asked for, bit i = PCR i (0-23) */
        uint64_t ima_entry;                     /* integrity: the first IMA entry to serve */
        bool with_pubkey;                       /* the payload key in the answer: not with partial=1 */
};

/* -EBADMSG with the reason to answer (HTTP 400) when a value is missing or malformed. An
 * identity quote ignores mask and ima_ml_entry (its mask and entry stay 0). */
int quote_query_parse(const struct evkeyvalq *query, bool integrity, struct quote_query *out);
