/* agent/escrow_client.c: the escrow request's body (in the secure heap, the key's base64 as
 * the verifier decodes it) and the reading of the registrar's answers: which 409 is waited
 * out, which statuses are refusals, and the status text shown in errors
 * (registrar_answer_text, agent/registrar_client.c). */
#include "tests/unit/unit.h"

#include <json-c/json.h>

#include "agent/escrow_client.h"
#include "agent/registrar_client.h"
#include "lib/encoding.h"
#include "lib/secret.h"

static void test_body(void **state) {
        uint8_t key[ESCROW_KEY_MAX + 1];
        _cleanup_(freep) uint8_t *decoded = NULL;
        json_object *parsed, *payload;
        struct secret *body = NULL;
        size_t decoded_size;

        for (size_t i = 0; i < sizeof(key); i++)
                key[i] = (uint8_t)(i * 7 + 3);
        /* every short length (the three padding cases), then up to the largest */
        for (size_t size = 1; size <= ESCROW_KEY_MAX; size = size < 70 ? size + 1 : size < 4000 ? size + 997 : size + 1) {
                assert_int_equal(escrow_body(key, size, &body), 0);
                assert_int_equal(strlen((const char *)body->data), body->size);
                parsed = json_tokener_parse((const char *)body->data);
                assert_non_null(parsed);
                assert_int_equal(json_object_object_length(parsed), 1);
                assert_true(json_object_object_get_ex(parsed, "payload", &payload));
                assert_true(json_object_is_type(payload, json_type_string));
                assert_int_equal(base64_decode(json_object_get_string(payload), (size_t)json_object_get_string_len(payload),
                                               &decoded, &decoded_size),
                                 0);
                assert_int_equal(decoded_size, size);
                assert_memory_equal(decoded, key, size);
                free(TAKE_PTR(decoded));
                json_object_put(parsed);
                secret_freep(&body);
        }
        assert_error(escrow_body(key, 0, &body), -EINVAL, "the key to escrow is 0 bytes: it must be 1 to 4096");
        assert_error(escrow_body(key, ESCROW_KEY_MAX + 1, &body), -EINVAL, "4097 bytes");
        assert_null(body);
}

static struct http_response answer(long status, const char *text) {
        struct http_response resp = { .status = status };

        resp.body = strdup(text);
        assert_non_null(resp.body);
        resp.body_size = strlen(text);
        resp.json = http_parse_json(resp.body, resp.body_size);
        return resp;
}

static void test_pending(void **state) {
        static const struct {
                long status;
                const char *body;
                bool pending;
        } cases[] = {
                { 409, "{\"code\":409,\"status\":\"not attested yet\",\"results\":{}}", true },
                { 409, "{\"code\":409,\"status\":\"agent abc: not attested yet (no good quote since its activation)\"}", true },
                { 409, "{\"code\":409,\"status\":\"a payload is already enrolled\",\"results\":{}}", false },
                { 403, "{\"code\":403,\"status\":\"not attested yet\"}", false },
                { 200, "{\"code\":200,\"status\":\"not attested yet\"}", false },
                { 409, "{\"code\":409,\"status\":7}", false },
                { 409, "{\"code\":409,\"results\":{\"status\":\"not attested yet\"}}", false },
                /* the envelope's status only, not words elsewhere in a body */
                { 409, "not attested yet", false },
                { 409, "{\"code\":409,\"status\":\"refused\",\"detail\":\"not attested yet\"}", false },
                { 409, "", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct http_response resp = answer(cases[i].status, cases[i].body);
                const char *line = escrow_answer_pending(&resp);

                if ((line != NULL) != cases[i].pending)
                        fail_msg("case %zu (%ld %s): pending %d", i, cases[i].status, cases[i].body, line != NULL);
                if (line)
                        assert_string_equal(line, "escrow: the verifier has not attested this agent yet");
                http_response_done(&resp);
        }
}

static void test_refused(void **state) {
        assert_true(escrow_status_refused(403));
        assert_true(escrow_status_refused(404));
        assert_true(escrow_status_refused(409));
        assert_false(escrow_status_refused(400));
        assert_false(escrow_status_refused(401));
        assert_false(escrow_status_refused(200));
        assert_false(escrow_status_refused(500));
}

static void test_answer_text(void **state) {
        char buf[256], small[8];
        struct http_response resp = answer(409, "{\"code\":409,\"status\":\"a payload is already enrolled\"}");
        char long_status[600];

        assert_string_equal(registrar_answer_text(&resp, buf, sizeof(buf)), "a payload is already enrolled");
        assert_string_equal(registrar_answer_text(&resp, small, sizeof(small)), "a paylo");
        http_response_done(&resp);
        /* Keylime's error shape without a status, and text that is no JSON: an excerpt of the body */
        resp = answer(403, "{\"errors\":[{\"detail\":\"tenant says no\"}]}");
        assert_string_equal(registrar_answer_text(&resp, buf, sizeof(buf)), "{\"errors\":[{\"detail\":\"tenant says no\"}]}");
        http_response_done(&resp);
        resp = answer(502, "bad\ngateway");
        assert_string_equal(registrar_answer_text(&resp, buf, sizeof(buf)), "bad.gateway");
        http_response_done(&resp);
        /* a long status: its first 200 characters */
        memcpy(long_status, "{\"status\":\"", 11);
        memset(long_status + 11, 's', 500);
        memcpy(long_status + 511, "\"}", 3);
        resp = answer(400, long_status);
        assert_int_equal(strlen(registrar_answer_text(&resp, buf, sizeof(buf))), 200);
        http_response_done(&resp);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_body),
                cmocka_unit_test(test_pending),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_answer_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
