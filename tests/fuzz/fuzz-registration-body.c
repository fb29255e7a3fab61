/* Fuzzes the registrar's parse of a registration body (JSON text -> registration_body_parse);
 * invariants: a parsed body holds re-marshallable keys and an ip/port in range; an enrolment
 * token is kept as a lower-case hex SHA-256 only, its text in the JSON wiped; an ak_cert kept is
 * one whole DER certificate of at most AK_CERT_DER_MAX bytes. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tpm2b.h"
#include "verifier/cert_chain.h"
#include "verifier/identity_proof.h"
#include "verifier/registration_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(16); /* the registrar's depth limit */
        struct registration_body reg;
        json_object *body;

        if (!tok)
                return 0;
        body = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        if (body && json_object_is_type(body, json_type_object) && registration_body_parse(body, &reg) >= 0) {
                uint8_t again[sizeof(TPM2B_PUBLIC)];
                size_t again_size;

                if (reg.port < 1 || reg.port > 65535 || !reg.ek_tpm || !reg.aik_tpm)
                        abort();
                if (tpm2b_public_marshal(&reg.ek, again, sizeof(again), &again_size) < 0 || again_size != reg.ek_tpm_size)
                        abort();
                if (reg.ak_cert) {
                        X509 *cert = NULL;

                        if (reg.ak_cert_size > AK_CERT_DER_MAX ||
                            cert_der_parse("ak_cert", reg.ak_cert, reg.ak_cert_size, &cert) < 0)
                                abort();
                        X509_free(cert);
                }
                if (reg.enrolment_token_sha256[0]) {
                        json_object *token = json_object_object_get(body, "vmattest_enrolment_token");
                        const char *text = json_object_get_string(token);

                        if (strlen(reg.enrolment_token_sha256) != 64 ||
                            strspn(reg.enrolment_token_sha256, "0123456789abcdef") != 64 || !text || text[0] != '\0')
                                abort();
                }
                registration_body_done(&reg);
        }
        json_object_put(body);
        json_tokener_free(tok);
        return 0;
}
