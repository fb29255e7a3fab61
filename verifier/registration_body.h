/* The body of POST /v2.N/agents/{id} (docs/protocol.md §1), parsed and checked for form: what can
 * be refused with a 400 before any trust decision. Everything in it came from the network. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

struct registration_body {
        TPM2B_PUBLIC ek;
        TPM2B_PUBLIC ak;
        uint8_t *ek_tpm;   /* the TPM2B_PUBLIC bytes as sent */
        size_t ek_tpm_size;
        uint8_t *aik_tpm;
        size_t aik_tpm_size;
        uint8_t *ekcert;   /* DER; NULL when the agent has none */
        size_t ekcert_size;
        /* vmattest extension (docs/protocol.md, "AK certificate at registration"): the DER of a
         * cloud's certificate of aik_tpm; NULL when the agent sent none */
        uint8_t *ak_cert;
        size_t ak_cert_size;
        char *mtls_cert;   /* PEM; NULL when null or "disabled" */
        char ip[64];
        int port;
        /* vmattest extension (docs/protocol.md): the SHA-256 (hex) of the enrolment token the agent
         * sent in vmattest_enrolment_token; "" when none. The token itself is wiped once hashed. */
        char enrolment_token_sha256[65];
};

/* -EBADMSG with a detail naming the member that is missing, of the wrong type, too long or
 * malformed. */
int registration_body_parse(json_object *body, struct registration_body *out);
void registration_body_done(struct registration_body *body);
