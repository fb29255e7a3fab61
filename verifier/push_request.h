/* The request bodies a push agent sends the verifier (Keylime's API v3, JSON:API, as Keylime
 * 7.14.3's verifier reads them; docs/protocol.md §4.2), taken apart into what the verifier
 * needs: the capabilities of POST /v3.0/agents/:id/attestations, the evidence of PATCH
 * .../attestations/latest, and the sessions of POST/PATCH /v3.0/sessions. Every member is read
 * with a bound on its length, binary ones (quote parts, the UEFI log, the proof) must be base64,
 * and a member of the wrong type is refused by name; anything else in a body is ignored, as
 * Keylime ignores it. A refused body leaves the output zeroed: nothing half-applied. The
 * strings handed back are borrowed from the parsed body. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/agent_id.h"

/* The evidence kinds the verifier asks for, in the order it asks (Keylime's TPM engine). */
enum push_item {
        PUSH_TPM_QUOTE,
        PUSH_UEFI_LOG,
        PUSH_IMA_LOG,
};

#define PUSH_ITEMS_MAX 16 /* items in evidence_supported / evidence_collected */

/* What the agent said it can give (evidence_supported, system_info). */
struct push_capabilities {
        bool tpm_quote;           /* a certification/tpm_quote item with component_version "2.0" */
        uint32_t hash_algorithms; /* 1 << TPM2_ALG_ID index: PUSH_SHA256, PUSH_SHA384, PUSH_SHA512 */
        bool rsassa, ecdsa;       /* signature_schemes */
        uint32_t subjects[3];     /* available_subjects: the PCRs of the sha256, sha384, sha512 banks */
        bool key_rsa, key_ecc;    /* certification_keys' key_algorithm */
        bool uefi_log;            /* log/uefi_log in application/octet-stream */
        bool ima_log;             /* log/ima_log in text/plain with supports_partial_access */
        uint64_t ima_entry_count;
        int64_t boot_time;        /* system_info.boot_time, seconds since the epoch; -1: absent */
};

#define PUSH_SHA256 0
#define PUSH_SHA384 1
#define PUSH_SHA512 2

/* What the agent submitted (evidence_collected), in the order asked for. */
struct push_evidence {
        const char *message;      /* tpm_quote: base64 TPMS_ATTEST */
        const char *signature;    /* base64 TPMT_SIGNATURE */
        const char *subject_data; /* base64 pcrblob (Keylime's quote string's third part) */
        const char *uefi_entries; /* base64 of the firmware's event log; NULL: not asked for */
        const char *ima_entries;  /* the IMA list's text from the offset asked for; NULL: not asked */
};

/* A session's request: agent_id, and with a proof (PATCH) the TPM2_Certify of the AK. */
struct push_session_request {
        char agent_id[AGENT_ID_MAX + 1];
        const char *message;   /* base64 TPMS_ATTEST; NULL in a POST */
        const char *signature; /* base64 TPMT_SIGNATURE */
};

/* -EBADMSG with a detail naming the member (Keylime's JSON pointer where it names one). */
int push_capabilities_parse(json_object *body, struct push_capabilities *caps);
int push_evidence_parse(json_object *body, const enum push_item *requested, size_t count, struct push_evidence *ev);
/* `proof`: a PATCH, which must carry authentication_provided[0] of type tpm_pop. */
int push_session_request_parse(json_object *body, bool proof, struct push_session_request *req);
/* An ISO 8601 time as Keylime writes it ("2025-04-02T12:12:51Z", "...51.123456+00:00"). */
int push_time_parse(const char *text, int64_t *seconds);
