/* Strict UTF-8 (policy/utf8.c): what Python decodes without surrogateescape, no more. */
#include "tests/unit/unit.h"

#include "policy/utf8.h"

static void test_valid(void **state) {
        static const char *const valid[] = { "", "ascii", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
                                             "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf" };
        static const char *const invalid[] = {
                "\x80",             /* a continuation alone */
                "\xc0\x80",         /* overlong NUL */
                "\xc1\xbf",         /* overlong */
                "\xe0\x9f\xbf",     /* overlong */
                "\xed\xa0\x80",     /* a surrogate (Python's surrogateescape output, encoded) */
                "\xf0\x8f\xbf\xbf", /* overlong */
                "\xf4\x90\x80\x80", /* above U+10FFFF */
                "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe2\x82", "\xc3\x28",
        };
        uint32_t cp;

        for (size_t i = 0; i < ELEMENTSOF(valid); i++)
                assert_true(utf8_valid(valid[i], strlen(valid[i])));
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
                if (utf8_valid(invalid[i], strlen(invalid[i])))
                        fail_msg("case %zu is taken for UTF-8", i);
        assert_int_equal(utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
        assert_int_equal(cp, 0x1f600);
        assert_int_equal(utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 3, &cp), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
        };

        return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
