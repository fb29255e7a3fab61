/* Fuzzes the parse of a PCR 9 pin body (JSON text -> pcr9_pin_body_parse, docs/protocol.md
 * §5.6); invariant: a body taken yields the verifier's bank's digest as lower-case hex of its
 * size. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/pcr9_pin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const TPM2_ALG_ID banks[] = { TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512 };
        static const size_t hex_sizes[] = { 64, 96, 128 };
        json_tokener *tok = json_tokener_new_ex(16); /* the registrar's depth limit */
        char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1];
        json_object *body;

        if (!tok)
                return 0;
        body = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        for (size_t i = 0; body && i < sizeof(banks) / sizeof(banks[0]); i++)
                if (pcr9_pin_body_parse(body, banks[i], hex) >= 0 &&
                    (strlen(hex) != hex_sizes[i] || strspn(hex, "0123456789abcdef") != hex_sizes[i]))
                        abort();
        json_object_put(body);
        json_tokener_free(tok);
        return 0;
}
