/* Fuzzes the registrar's parse of a registration body (JSON text -> registration_body_parse);
 * invariant: a parsed body holds re-marshallable keys and an ip/port in range. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/tpm2b.h"
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
                registration_body_done(&reg);
        }
        json_object_put(body);
        json_tokener_free(tok);
        return 0;
}
