/* verifier/escrow.c's body: {"payload": base64} decoded into the secure heap, and the base64
 * text in the parsed body wiped whether the key was taken or refused. */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <stdbool.h>

#include "lib/secret.h"
#include "verifier/escrow.h"

static bool payload_wiped(json_object *body, size_t size) {
        json_object *member = json_object_object_get(body, "payload");
        const char *text = json_object_get_string(member);

        if ((size_t)json_object_get_string_len(member) != size)
                return false;
        for (size_t i = 0; i < size; i++)
                if (text[i])
                        return false;
        return true;
}

static void test_taken_and_wiped(void **state) {
        json_object *body = json_tokener_parse("{\"payload\":\"c2VjcmV0LWtleS1ieXRlcw==\"}");
        struct secret *payload = NULL;

        assert_non_null(body);
        assert_int_equal(escrow_body_parse(body, &payload), 0);
        assert_int_equal(payload->size, 16);
        assert_memory_equal(payload->data, "secret-key-bytes", 16);
        assert_true(payload_wiped(body, 24));
        secret_free(payload);
        json_object_put(body);
}

/* refused (too long, not base64, empty): the text may be the key all the same */
static void test_refused_and_wiped(void **state) {
        size_t long_size = 6000;
        char *long_text = malloc(long_size + 1);
        json_object *body = json_object_new_object();
        struct secret *payload = NULL;

        assert_non_null(long_text);
        memset(long_text, 'A', long_size);
        long_text[long_size] = '\0';
        json_object_object_add(body, "payload", json_object_new_string(long_text));
        assert_error(escrow_body_parse(body, &payload), -EBADMSG, "payload is longer than");
        assert_null(payload);
        assert_true(payload_wiped(body, long_size));
        json_object_object_add(body, "payload", json_object_new_string("not base64 at all!"));
        assert_error(escrow_body_parse(body, &payload), -EBADMSG, "payload: ");
        assert_true(payload_wiped(body, 18));
        json_object_object_add(body, "payload", json_object_new_string(""));
        assert_error(escrow_body_parse(body, &payload), -EBADMSG, "payload: 0 bytes");
        json_object_object_add(body, "payload", json_object_new_int(7));
        assert_error(escrow_body_parse(body, &payload), -EBADMSG, "payload is not a string");
        json_object_put(body);
        free(long_text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_taken_and_wiped),
                cmocka_unit_test(test_refused_and_wiped),
        };

        return cmocka_run_group_tests_name("escrow", tests, NULL, NULL);
}
