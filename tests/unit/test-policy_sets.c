/* The sets a runtime policy is gathered in (policy/policy_sets.c): sorted bytewise (Python's
 * order for UTF-8 str), each pair and each string once, hex lower-cased, a NUL or a non-hex
 * digest refused. */
#include "tests/unit/unit.h"

#include <errno.h>

#include "policy/policy_sets.h"

static void test_name_set(void **state) {
        static const uint8_t digest[] = { 0xab, 0x01 };
        struct name_set set = { 0 };

        assert_int_equal(name_set_add_hex(&set, "/b", 2, "FF00", 4), 0);
        assert_int_equal(name_set_add(&set, "/a", 2, digest, sizeof(digest)), 0);
        assert_int_equal(name_set_add_hex(&set, "/a", 2, "AB01", 4), 0);
        assert_int_equal(name_set_add_hex(&set, "/\xc3\xa4", 3, "00", 2), 0);
        assert_int_equal(name_set_add_hex(&set, "/z", 2, "00", 2), 0);
        assert_int_equal(name_set_add_hex(&set, "/a", 2, "0001", 4), 0);
        assert_error(name_set_add_hex(&set, "/a", 2, "0g", 2), -EINVAL, "not hex");
        assert_error(name_set_add_hex(&set, "/a\0b", 4, "00", 2), -EINVAL, "NUL");
        name_set_finish(&set);
        assert_int_equal(set.count, 5);
        assert_string_equal(set.items[0].name, "/a"), assert_string_equal(set.items[0].digest, "0001");
        assert_string_equal(set.items[1].name, "/a"), assert_string_equal(set.items[1].digest, "ab01");
        assert_string_equal(set.items[2].name, "/b"), assert_string_equal(set.items[2].digest, "ff00");
        assert_string_equal(set.items[3].name, "/z");
        assert_string_equal(set.items[4].name, "/\xc3\xa4"); /* U+00E4 after 'z', as Python sorts */
        name_set_done(&set);
        name_set_finish(&set); /* empty */
}

static void test_string_set(void **state) {
        struct string_set set = { 0 };

        for (int i = 0; i < 200; i++) {
                char text[16];

                snprintf(text, sizeof(text), "/x%d", i % 50);
                assert_int_equal(string_set_add(&set, text, strlen(text)), 0);
        }
        assert_error(string_set_add(&set, "a\0b", 3), -EINVAL, "NUL");
        string_set_finish(&set);
        assert_int_equal(set.count, 50);
        assert_string_equal(set.items[0], "/x0");
        assert_string_equal(set.items[1], "/x1");
        assert_string_equal(set.items[2], "/x10");
        string_set_done(&set);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_set),
                cmocka_unit_test(test_string_set),
        };

        return cmocka_run_group_tests_name("policy_sets", tests, NULL, NULL);
}
