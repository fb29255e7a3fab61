/* The push model's answers from the verifier (docs/protocol.md §4, Keylime API v3.0 as Keylime
 * 7.14.3's verifier speaks it): the session's challenge, its token, the evidence it asks for,
 * the attestation's Location, Retry-After and the wait before the next attestation. Untrusted:
 * every member is typed and bounded here before the TPM or a URL sees any of it; an answer
 * that asks for what the agent did not offer (another bank, another scheme, an evidence type it
 * cannot give) is refused, not half served. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

/* qualifying data fits a TPM2B_DATA (sizeof(TPMT_HA) = 66 bytes); Keylime sends 16 bytes */
#define PUSH_CHALLENGE_MAX 64
#define PUSH_SESSION_ID_MAX 64
#define PUSH_TOKEN_MAX 256
#define PUSH_EVIDENCE_MAX 3       /* tpm_quote, uefi_log, ima_log: each at most once */
#define PUSH_WAIT_MAX 86400       /* seconds: the longest wait a verifier may ask for */
#define PUSH_RETRY_AFTER_MAX 3600 /* seconds: a longer Retry-After is cut to this */

struct push_challenge {
        char session_id[PUSH_SESSION_ID_MAX + 1]; /* 1-64 of A-Z a-z 0-9 - */
        uint8_t challenge[PUSH_CHALLENGE_MAX];
        size_t challenge_size;
};

enum push_evidence_type {
        PUSH_TPM_QUOTE,
        PUSH_UEFI_LOG,
        PUSH_IMA_LOG,
};

struct push_evidence_item {
        enum push_evidence_type type;
        /* tpm_quote: the challenge (the quote's qualifying data) and the PCRs of the bank */
        uint8_t challenge[PUSH_CHALLENGE_MAX];
        size_t challenge_size;
        uint32_t mask;
        /* ima_log: the first entry to send, and at most how many (entry_count_limited) */
        uint64_t starting_offset;
        bool entry_count_limited;
        uint64_t entry_count;
};

/* What the verifier asks for, in its order: the evidence goes back in the same order. */
struct push_evidence_request {
        struct push_evidence_item items[PUSH_EVIDENCE_MAX];
        size_t count;
};

/* POST /v3.0/sessions's answer: data.id and the tpm_pop challenge (base64) of
 * data.attributes.authentication_requested, for `agent_id`. -EBADMSG with the reason. */
int push_session_parse(json_object *answer, const char *agent_id, struct push_challenge *out);
/* PATCH /v3.0/sessions/ID's answer: the token when data.attributes.evaluation is "pass"
 * (1-256 printable characters, no space); -EACCES when it is "fail"; -EBADMSG otherwise. */
int push_token_parse(json_object *answer, char token[PUSH_TOKEN_MAX + 1]);
/* POST /v3.0/agents/ID/attestations's answer: data.attributes.evidence_requested. The quote
 * must be asked for in `bank` with rsassa; another bank may be named only without PCRs. */
int push_evidence_request_parse(json_object *answer, TPM2_ALG_ID bank, struct push_evidence_request *out);
/* The 201's Location: exactly `prefix` (the path posted to) "/" and a decimal index. */
int push_location_parse(const char *location, const char *prefix, uint64_t *index);
/* Retry-After in seconds (HTTP-dates are not taken): cut to PUSH_RETRY_AFTER_MAX. */
int push_retry_after_parse(const char *text, unsigned *seconds);
/* The 202's meta.seconds_to_next_attestation (0-PUSH_WAIT_MAX); -ENOENT when absent. */
int push_next_attestation_parse(json_object *answer, unsigned *seconds);
