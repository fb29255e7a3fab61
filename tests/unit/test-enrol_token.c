/* agent/enrol_token.c and the registration body that carries the token (agent/registration.c):
 * the token's rule, its reading from a descriptor (stdin) into the secure heap, and its place
 * in the JSON text sent to the registrar. */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <unistd.h>

#include "agent/enrol_token.h"
#include "agent/registration.h"
#include "lib/secret.h"

/* A pipe holding `size` bytes of `text`, closed for writing: what a shell's "<<<" gives. */
static int pipe_with(const void *text, size_t size) {
        int fds[2];

        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], text, size), (ssize_t)size);
        close(fds[1]);
        return fds[0];
}

static int read_token(const char *text, size_t size, struct secret **token) {
        int fd = pipe_with(text, size), ret;

        ret = enrol_token_read(fd, token);
        close(fd);
        return ret;
}

static void test_check_rule(void **state) {
        char token[ENROL_TOKEN_MAX + 2];

        memset(token, 'a', sizeof(token));
        assert_int_equal(enrol_token_check((const uint8_t *)token, ENROL_TOKEN_MIN), 0);
        assert_int_equal(enrol_token_check((const uint8_t *)token, ENROL_TOKEN_MAX), 0);
        assert_error(enrol_token_check((const uint8_t *)token, ENROL_TOKEN_MIN - 1), -EINVAL,
                     "15 characters long: it must be 16 to 256 printable ASCII characters");
        assert_error(enrol_token_check((const uint8_t *)token, ENROL_TOKEN_MAX + 1), -EINVAL, "257 characters long");
        assert_error(enrol_token_check((const uint8_t *)token, 0), -EINVAL, "0 characters long");
        /* every printable ASCII character is allowed, space and quotes included */
        for (int c = 0x20; c <= 0x7e; c++) {
                token[3] = (char)c;
                assert_int_equal(enrol_token_check((const uint8_t *)token, 20), 0);
        }
        /* the position is named, never the character */
        for (int c = 0; c < 256; c++) {
                if (c >= 0x20 && c <= 0x7e)
                        continue;
                token[3] = (char)c;
                assert_error(enrol_token_check((const uint8_t *)token, 20), -EINVAL,
                             "character 4 of the enrolment token is not printable ASCII");
        }
}

static void test_read_one_line(void **state) {
        _cleanup_(secret_freep) struct secret *token = NULL;
        char longest[ENROL_TOKEN_MAX + 1];

        assert_int_equal(read_token("0123456789abcdef\n", 17, &token), 0);
        assert_int_equal(token->size, 16);
        assert_memory_equal(token->data, "0123456789abcdef", 16);
        assert_int_equal(token->data[16], 0);
        secret_freep(&token);
        /* without its newline too (printf '%s' "$token") */
        assert_int_equal(read_token("0123456789abcdef", 16, &token), 0);
        assert_int_equal(token->size, 16);
        secret_freep(&token);
        memset(longest, 'Z', ENROL_TOKEN_MAX);
        longest[ENROL_TOKEN_MAX] = '\n';
        assert_int_equal(read_token(longest, sizeof(longest), &token), 0);
        assert_int_equal(token->size, ENROL_TOKEN_MAX);
}

static void test_read_refusals(void **state) {
        struct secret *token = NULL;
        char text[ENROL_TOKEN_MAX + 8];

        assert_error(read_token("", 0, &token), -EINVAL, "stdin holds no enrolment token");
        assert_error(read_token("\n", 1, &token), -EINVAL, "stdin holds no enrolment token");
        assert_error(read_token("short\n", 6, &token), -EINVAL, "5 characters long: it must be 16 to 256");
        assert_error(read_token("0123456789abcdef\nsecond line\n", 29, &token), -EINVAL, "more than one line");
        assert_error(read_token("0123456789abcdef\n\n", 18, &token), -EINVAL, "more than one line");
        /* a DOS line end: the carriage return is not printable */
        assert_error(read_token("0123456789abcdef\r\n", 18, &token), -EINVAL, "character 17 of the enrolment token");
        assert_error(read_token("0123456789\tabcdef\n", 18, &token), -EINVAL, "character 11");
        assert_error(read_token("0123456789\0abcdef\n", 18, &token), -EINVAL, "character 11");
        memset(text, 'x', sizeof(text));
        assert_error(read_token(text, ENROL_TOKEN_MAX + 1, &token), -EINVAL, "257 characters long");
        assert_error(read_token(text, ENROL_TOKEN_MAX + 2, &token), -EINVAL, "longer than 256 characters");
        assert_error(read_token(text, sizeof(text), &token), -EINVAL, "longer than 256 characters");
        assert_null(token);
}

static json_object *some_body(void) {
        json_object *body = json_object_new_object();

        json_object_object_add(body, "ek_tpm", json_object_new_string("AAEC"));
        json_object_object_add(body, "port", json_object_new_int(9002));
        return body;
}

/* The text parsed back: the token is the member's value, the other members as they were. */
static void expect_token_member(const struct secret *text, const char *want) {
        json_object *parsed = json_tokener_parse((const char *)text->data), *member;

        assert_non_null(parsed);
        assert_int_equal(strlen((const char *)text->data), text->size);
        assert_true(json_object_object_get_ex(parsed, "vmattest_enrolment_token", &member));
        assert_string_equal(json_object_get_string(member), want);
        assert_true(json_object_object_get_ex(parsed, "ek_tpm", &member));
        assert_string_equal(json_object_get_string(member), "AAEC");
        json_object_put(parsed);
}

static void test_body_text(void **state) {
        json_object *body = some_body(), *empty = json_object_new_object(), *parsed, *member;
        const char *tricky = "a\"b\\c d/e{f}g,h:0123456789";
        _cleanup_(secret_freep) struct secret *token = secret_new_copy("0123456789abcdef", 16);
        struct secret *text = NULL;

        /* without a token: the body as json-c writes it */
        assert_int_equal(registration_body_text(body, NULL, &text), 0);
        assert_string_equal((const char *)text->data, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
        secret_freep(&text);

        assert_int_equal(registration_body_text(body, token, &text), 0);
        expect_token_member(text, "0123456789abcdef");
        secret_freep(&text);

        /* quotes and backslashes escaped; the text stays one JSON object */
        secret_freep(&token);
        token = secret_new_copy(tricky, strlen(tricky));
        assert_int_equal(registration_body_text(body, token, &text), 0);
        expect_token_member(text, tricky);
        secret_freep(&text);

        /* an object without members gets no leading comma */
        assert_int_equal(registration_body_text(empty, token, &text), 0);
        parsed = json_tokener_parse((const char *)text->data);
        assert_non_null(parsed);
        assert_true(json_object_object_get_ex(parsed, "vmattest_enrolment_token", &member));
        assert_string_equal(json_object_get_string(member), tricky);
        assert_int_equal(json_object_object_length(parsed), 1);
        json_object_put(parsed);
        secret_freep(&text);

        /* a token that breaks the rule is not sent, whoever made it */
        secret_freep(&token);
        token = secret_new_copy("short", 5);
        assert_error(registration_body_text(body, token, &text), -EINVAL, "5 characters long");
        secret_freep(&token);
        token = secret_new_copy("0123456789abcdef\n", 17);
        assert_error(registration_body_text(body, token, &text), -EINVAL, "character 17");
        assert_null(text);
        json_object_put(body);
        json_object_put(empty);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_rule),
                cmocka_unit_test(test_read_one_line),
                cmocka_unit_test(test_read_refusals),
                cmocka_unit_test(test_body_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
