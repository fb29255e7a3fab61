/* verifier/pcr9_pin.c's body: {"pcr9": {"<bank>": "<hex>", ...}}, the verifier's bank taken in
 * lower-case hex, everything else in it refused naming the member (docs/protocol.md §5.6). */
#include "tests/unit/unit.h"

#include <json-c/json.h>

#include "verifier/pcr9_pin.h"

#define SHA256_HEX "ab00000000000000000000000000000000000000000000000000000000000001"
#define SHA384_HEX "cd0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002"

static int parse(const char *text, TPM2_ALG_ID bank, char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1]) {
        json_object *body = json_tokener_parse(text);
        int ret;

        assert_non_null(body);
        ret = pcr9_pin_body_parse(body, bank, hex);
        json_object_put(body);
        return ret;
}

static void test_bank_taken(void **state) {
        char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1];

        assert_int_equal(parse("{\"pcr9\": {\"sha256\": \"" SHA256_HEX "\", \"sha384\": \"" SHA384_HEX "\"}}",
                               TPM2_ALG_SHA256, hex),
                         0);
        assert_string_equal(hex, SHA256_HEX);
        assert_int_equal(parse("{\"pcr9\": {\"sha256\": \"" SHA256_HEX "\", \"sha384\": \"" SHA384_HEX "\"}}",
                               TPM2_ALG_SHA384, hex),
                         0);
        assert_string_equal(hex, SHA384_HEX);
        /* upper-case hex is the same digest; Keylime ignores an unknown top-level field */
        assert_int_equal(parse("{\"pcr9\": {\"sha256\": \"AB00000000000000000000000000000000000000000000000000000000000001\"},"
                               " \"other\": 1}",
                               TPM2_ALG_SHA256, hex),
                         0);
        assert_string_equal(hex, SHA256_HEX);
}

static void test_refused(void **state) {
        char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1];

        assert_error(parse("{}", TPM2_ALG_SHA256, hex), -EBADMSG, "missing pcr9");
        assert_error(parse("{\"pcr9\": \"" SHA256_HEX "\"}", TPM2_ALG_SHA256, hex), -EBADMSG, "pcr9: not an object");
        assert_error(parse("{\"pcr9\": {\"sha384\": \"" SHA384_HEX "\"}}", TPM2_ALG_SHA256, hex), -EBADMSG,
                     "pcr9: no sha256 value");
        assert_error(parse("{\"pcr9\": {\"sha1\": \"0000000000000000000000000000000000000000\"}}", TPM2_ALG_SHA256, hex),
                     -EBADMSG, "\"sha1\" is not a bank the verifier accepts");
        assert_error(parse("{\"pcr9\": {\"sha256\": \"" SHA384_HEX "\"}}", TPM2_ALG_SHA256, hex), -EBADMSG,
                     "pcr9.sha256: not a 32-byte digest in hex");
        assert_error(parse("{\"pcr9\": {\"sha256\": \"zz\"}}", TPM2_ALG_SHA256, hex), -EBADMSG, "pcr9.sha256");
        assert_error(parse("{\"pcr9\": {\"sha256\": 5}}", TPM2_ALG_SHA256, hex), -EBADMSG, "pcr9.sha256");
        assert_error(parse("{\"pcr9\": {\"sha256\": \"" SHA256_HEX "\", \"sha384\": \"" SHA384_HEX
                           "\", \"sha512\": \"00\", \"sm3_256\": \"00\"}}",
                           TPM2_ALG_SHA256, hex),
                     -EBADMSG, "pcr9");
        assert_string_equal(hex, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bank_taken),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests_name("pcr9_pin", tests, NULL, NULL);
}
