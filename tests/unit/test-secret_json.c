/* lib/secret_json.c: json-c's copies of a secret's text (the tokener's scratch buffer, a string
 * object's own text) are wiped, and the scratch buffer is never moved by realloc() midway
 * through a string, which would leave a part of it behind. */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <stdbool.h>

#include "lib/secret_json.h"

/* A body whose secret is long and has escapes: json-c gathers it piece by piece. */
static char *secret_body(size_t secret_size) {
        char *text = malloc(2 * secret_size + 64);
        size_t at;

        assert_non_null(text);
        at = (size_t)sprintf(text, "{\"ip\":\"127.0.0.1\",\"secret\":\"");
        for (size_t i = 0; i < secret_size; i++) {
                if (i % 97 == 50) {
                        text[at++] = '\\';
                        text[at++] = '"';
                } else
                        text[at++] = (char)('A' + i % 26);
        }
        sprintf(text + at, "\"}");
        return text;
}

static bool all_zero(const char *bytes, size_t size) {
        for (size_t i = 0; i < size; i++)
                if (bytes[i])
                        return false;
        return true;
}

static void test_tokener_scratch(void **state) {
        _cleanup_(freep) char *text = secret_body(5000);
        size_t size = strlen(text);
        json_tokener *tok, *plain;
        json_object *obj;
        char *scratch;

        /* json-c's own tokener grows its scratch buffer as a string comes: the test's premise */
        plain = json_tokener_new_ex(16);
        scratch = plain->pb->buf;
        obj = json_tokener_parse_ex(plain, text, (int)size);
        assert_non_null(obj);
        assert_ptr_not_equal(plain->pb->buf, scratch);
        json_object_put(obj);
        json_tokener_free(plain);

        tok = secret_json_tokener_new(16, size);
        assert_non_null(tok);
        scratch = tok->pb->buf;
        obj = json_tokener_parse_ex(tok, text, (int)size);
        assert_non_null(obj);
        assert_int_equal(json_tokener_get_parse_end(tok), size);
        assert_ptr_equal(tok->pb->buf, scratch); /* never moved */
        assert_non_null(memmem(tok->pb->buf, (size_t)tok->pb->size, "ABCDEFGHIJ", 10));
        secret_json_tokener_wipe(tok);
        assert_true(all_zero(tok->pb->buf, (size_t)tok->pb->size));
        secret_json_tokener_free(tok);
        json_object_put(obj);
        assert_null(secret_json_tokener_new(16, (size_t)1 << 40));
        secret_json_tokener_free(NULL);
}

static void test_string_wiped(void **state) {
        json_object *body = json_tokener_parse("{\"payload\":\"c2VjcmV0LWtleS1ieXRlcw==\",\"port\":9002}"), *member;

        assert_non_null(body);
        member = json_object_object_get(body, "payload");
        secret_json_string_wipe(member);
        assert_int_equal(json_object_get_string_len(member), 24);
        assert_true(all_zero(json_object_get_string(member), 24));
        /* other types and NULL: nothing */
        secret_json_string_wipe(json_object_object_get(body, "port"));
        assert_int_equal(json_object_get_int(json_object_object_get(body, "port")), 9002);
        secret_json_string_wipe(NULL);
        json_object_put(body);
}

static void test_put_wipes_the_member(void **state) {
        json_object *body = json_tokener_parse("{\"vmattest_enrolment_token\":\"eR7kV0bq3xN2mP5sT8wY1zA4\"}"), *member;

        assert_non_null(body);
        /* a reference of the test's own keeps the member alive past the body */
        member = json_object_get(json_object_object_get(body, "vmattest_enrolment_token"));
        secret_json_put(body, "vmattest_enrolment_token");
        assert_true(all_zero(json_object_get_string(member), (size_t)json_object_get_string_len(member)));
        json_object_put(member);
        /* no such member, not an object, NULL: just the put */
        secret_json_put(json_tokener_parse("{\"a\":1}"), "payload");
        secret_json_put(json_object_new_string("x"), "payload");
        secret_json_put(NULL, "payload");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tokener_scratch),
                cmocka_unit_test(test_string_wiped),
                cmocka_unit_test(test_put_wipes_the_member),
        };

        return cmocka_run_group_tests_name("secret_json", tests, NULL, NULL);
}
