/* Fuzzes the parse of a key escrow body (JSON text -> escrow_body_parse); invariants: a payload
 * is 1-4096 bytes, and the base64 text it came in is wiped from the JSON. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>

#include "verifier/escrow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(16); /* the registrar's depth limit */
        struct secret *payload = NULL;
        json_object *body;

        if (!tok)
                return 0;
        body = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        if (body && json_object_is_type(body, json_type_object) && escrow_body_parse(body, &payload) >= 0) {
                const char *text = json_object_get_string(json_object_object_get(body, "payload"));

                if (!payload || payload->size < 1 || payload->size > ESCROW_PAYLOAD_MAX || !text || text[0] != '\0')
                        abort();
        }
        secret_free(payload);
        json_object_put(body);
        json_tokener_free(tok);
        return 0;
}
