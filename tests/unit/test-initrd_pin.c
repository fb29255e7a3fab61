/* agent/initrd_pin.c: the body of the first boot's PCR 9 pin, {"pcr9": {"<bank>": "<hex>"}}, as
 * the verifier's parser (verifier/pcr9_pin.c) takes it back (docs/protocol.md §5.6). */
#include "tests/unit/unit.h"

#include <json-c/json.h>

#include "agent/initrd_pin.h"
#include "verifier/pcr9_pin.h"

static void test_body_round_trip(void **state) {
        struct pcr9_prediction p[2] = { { .bank = TPM2_ALG_SHA256, .size = 32 }, { .bank = TPM2_ALG_SHA384, .size = 48 } };
        char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1], *body = NULL;
        json_object *parsed;

        memset(p[0].predicted, 0xab, 32);
        memset(p[1].predicted, 0x01, 48);
        assert_int_equal(initrd_pin_body(p, 2, &body), 0);
        assert_non_null(strstr(body, "{\"pcr9\":{\"sha256\":\"abab"));
        parsed = json_tokener_parse(body);
        assert_int_equal(pcr9_pin_body_parse(parsed, TPM2_ALG_SHA384, hex), 0);
        assert_string_equal(hex, "010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101");
        assert_error(pcr9_pin_body_parse(parsed, TPM2_ALG_SHA512, hex), -EBADMSG, "no sha512 value");
        json_object_put(parsed);
        free(body);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_body_round_trip),
        };
        return cmocka_run_group_tests_name("initrd_pin", tests, NULL, NULL);
}
