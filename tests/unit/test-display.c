/* lib/display.c: what a peer sent, made safe to show on a terminal, in a log line or a stored
 * failure reason. */
#include "tests/unit/unit.h"

#include "lib/display.h"

static const char *escape(const char *in, size_t in_len) {
        static char out[256];

        display_escape(in, in_len, out, sizeof(out));
        return out;
}

#define ESCAPE(literal) escape(literal, sizeof(literal) - 1)

static void test_printable_ascii_unchanged(void **state) {
        assert_string_equal(ESCAPE("/usr/bin/bash sha256:00ff \"x\" {a} ~"), "/usr/bin/bash sha256:00ff \"x\" {a} ~");
        /* a backslash stays one: escaping twice reads as once */
        assert_string_equal(ESCAPE("C:\\x41"), "C:\\x41");
        assert_string_equal(ESCAPE(""), "");
}

static void test_other_bytes_escaped(void **state) {
        /* a terminal title (OSC), a screen clear (CSI), a newline forging a second line */
        assert_string_equal(ESCAPE("a\x1b]0;owned\x07z"), "a\\x1b]0;owned\\x07z");
        assert_string_equal(ESCAPE("\x1b[2J\r\nerror: forged"), "\\x1b[2J\\x0d\\x0aerror: forged");
        assert_string_equal(ESCAPE("\t\x7f"), "\\x09\\x7f");
        /* NUL inside the given length */
        assert_string_equal(ESCAPE("a\0b"), "a\\x00b");
        /* every byte >= 0x80, valid UTF-8 or not: C1 controls (U+009B, an 8-bit CSI) and
         * bidirectional overrides (U+202E) are valid UTF-8 */
        assert_string_equal(ESCAPE("\xc3\xa9"), "\\xc3\\xa9");
        assert_string_equal(ESCAPE("\xc2\x9b" "2J"), "\\xc2\\x9b2J");
        assert_string_equal(ESCAPE("\xe2\x80\xae"), "\\xe2\\x80\\xae");
        assert_string_equal(ESCAPE("\xff"), "\\xff");
}

static void test_idempotent(void **state) {
        char once[256], twice[256];
        static const char raw[] = "\"/tmp/\x1b[31mred\" \\ \xc3\xa9\n";

        display_escape(raw, sizeof(raw) - 1, once, sizeof(once));
        display_escape(once, strlen(once), twice, sizeof(twice));
        assert_string_equal(once, twice);
}

static void test_every_byte(void **state) {
        for (unsigned c = 0; c < 256; c++) {
                char in = (char)c, out[8];
                size_t n = display_escape(&in, 1, out, sizeof(out));

                assert_int_equal(strlen(out), n);
                if (c >= 0x20 && c < 0x7f) {
                        assert_int_equal(n, 1);
                        assert_int_equal((unsigned char)out[0], c);
                } else {
                        char want[8];

                        snprintf(want, sizeof(want), "\\x%02x", c);
                        assert_string_equal(out, want);
                }
        }
}

static void test_cut_never_inside_an_escape(void **state) {
        char out[8];

        /* "ab" + "\x1b" needs 6 characters and the NUL: 7 bytes fit it, 6 do not */
        assert_int_equal(display_escape("ab\x1b" "c", 4, out, 7), 6);
        assert_string_equal(out, "ab\\x1b");
        assert_int_equal(display_escape("ab\x1b" "c", 4, out, 6), 2);
        assert_string_equal(out, "ab");
        assert_int_equal(display_escape("abc", 3, out, 1), 0);
        assert_string_equal(out, "");
        out[0] = 'z';
        assert_int_equal(display_escape("abc", 3, out, 0), 0);
        assert_int_equal(out[0], 'z');
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_printable_ascii_unchanged),
                cmocka_unit_test(test_other_bytes_escaped),
                cmocka_unit_test(test_idempotent),
                cmocka_unit_test(test_every_byte),
                cmocka_unit_test(test_cut_never_inside_an_escape),
        };

        return cmocka_run_group_tests_name("display", tests, NULL, NULL);
}
