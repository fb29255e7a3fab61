/* lib/push_release_document.c: the agent's reading of vmattest's key release in push mode
 * (docs/protocol.md §4.3) from the network: the good document, then each way it can be wrong,
 * refused by name, and every truncation of the good one refused without a crash. */
#include "tests/unit/unit.h"

#include <json-c/json.h>

#include "lib/push_release_document.h"

#define GOOD                                                                                                   \
        "{\"data\": {\"type\": \"vmattest_release\", \"attributes\": {\"version\": 1, \"ukey\": "              \
        "{\"encrypted_key\": \"QUJD\", \"auth_tag\": \"00ff\", \"payload\": \"REVG\"}, \"vkey\": "           \
        "{\"encrypted_key\": \"R0hJ\"}}}}"

static int parse(const char *text, struct push_release_document *doc, json_object **json) {
        *json = json_tokener_parse(text);
        vm_error_clear();
        return push_release_document_parse(*json, doc);
}

static void test_good(void **state) {
        struct push_release_document doc;
        json_object *json;

        (void)state;
        assert_int_equal(parse(GOOD, &doc, &json), 0);
        assert_string_equal(doc.ukey, "QUJD");
        assert_string_equal(doc.auth_tag, "00ff");
        assert_string_equal(doc.payload, "REVG");
        assert_string_equal(doc.vkey, "R0hJ");
        json_object_put(json);
}

static void test_refused(void **state) {
        static const struct {
                const char *text, *detail;
                int code;
        } cases[] = {
                { "[]", "no data/attributes object", -EBADMSG },
                { "{\"data\": {\"attributes\": []}}", "no data/attributes object", -EBADMSG },
                { "{\"data\": {\"attributes\": {\"version\": \"1\"}}}", "version: missing or not an integer",
                  -EBADMSG },
                { "{\"data\": {\"attributes\": {\"version\": 2}}}", "version 2", -EPROTONOSUPPORT },
                { "{\"data\": {\"attributes\": {\"version\": 1, \"ukey\": {}}}}", "ukey and vkey", -EBADMSG },
                { "{\"data\": {\"attributes\": {\"version\": 1, \"ukey\": {}, \"vkey\": {}}}}", "encrypted_key",
                  -EBADMSG },
                { "{\"data\": {\"attributes\": {\"version\": 1, \"ukey\": {\"encrypted_key\": 5, \"auth_tag\": \"a\"},"
                  " \"vkey\": {\"encrypted_key\": \"a\"}}}}",
                  "encrypted_key", -EBADMSG },
                { "{\"data\": {\"attributes\": {\"version\": 1, \"ukey\": {\"encrypted_key\": \"a\"},"
                  " \"vkey\": {\"encrypted_key\": \"a\"}}}}",
                  "auth_tag", -EBADMSG },
        };
        struct push_release_document doc;
        json_object *json;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int ret = parse(cases[i].text, &doc, &json);

                if (ret != cases[i].code || !strstr(vm_error_detail(ret), cases[i].detail))
                        fail_msg("case %zu: %d \"%s\", wanted %d naming \"%s\"", i, ret, vm_error_detail(ret),
                                 cases[i].code, cases[i].detail);
                json_object_put(json);
        }
}

/* a wrapped key longer than any RSA block's base64 is refused, not copied */
static void test_oversize(void **state) {
        size_t n = PUSH_RELEASE_WRAPPED_MAX + 1;
        char *big = malloc(n + 1), *text = NULL;
        struct push_release_document doc;
        json_object *json;

        (void)state;
        assert_non_null(big);
        memset(big, 'A', n);
        big[n] = '\0';
        assert_true(asprintf(&text, "{\"data\": {\"attributes\": {\"version\": 1, \"ukey\": {\"encrypted_key\": \"%s\","
                                    " \"auth_tag\": \"00\"}, \"vkey\": {\"encrypted_key\": \"a\"}}}}",
                             big) > 0);
        assert_int_equal(parse(text, &doc, &json), -EBADMSG);
        assert_detail_contains(-EBADMSG, "encrypted_key");
        json_object_put(json);
        free(text);
        free(big);
}

static void test_truncations(void **state) {
        const size_t size = strlen(GOOD);
        struct push_release_document doc;

        (void)state;
        for (size_t len = 0; len < size; len++) {
                char *text = strndup(GOOD, len);
                json_object *json;

                assert_non_null(text);
                assert_int_not_equal(parse(text, &doc, &json), 0);
                json_object_put(json);
                free(text);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_oversize),
                cmocka_unit_test(test_truncations),
        };

        return cmocka_run_group_tests_name("push_release_document", tests, NULL, NULL);
}
