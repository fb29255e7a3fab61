/* lib/python_regex.c: Keylime's excludes are Python regexes; PCRE2 must match them as
 * Python's re.compile(pattern).match(text) does. The expected answers below are what Python
 * 3.11 printed for each pattern and text (re.match: anchored at the start, str patterns:
 * Unicode \d \w \s). */
#include "tests/unit/unit.h"

#include <stdbool.h>
#include <time.h>

#include "lib/python_regex.h"

static const struct {
        const char *pattern, *text;
        bool python_matches;
} python_answers[] = {
        /* POSIX regcomp read "\d" as "d": [^\d] refused a "d" and let digits through */
        { "[^\\d]", "/x", true },
        { "[^\\d]", "5x", false },
        { "[^\\d]", "d", true },
        { "\\d+", "123/a", true },
        { "\\d+", "/123", false },
        { "/proc/\\d+/maps", "/proc/42/maps", true },
        { "/proc/\\d+/maps", "/proc/self/maps", false },
        { "\\d", "\xd9\xa3", true }, /* U+0663 ARABIC-INDIC DIGIT THREE */
        { "\\w+$", "abc_9", true },
        { "\\w", "\xc3\xa9", true }, /* é */
        { "\\w", "-", false },
        { "\\W", "-", true },
        { "\\s", "\t", true },
        { "\\s", "x", false },
        { "\\S", "x", true },
        { "a\\b", "a-", true },
        { "a\\b", "ab", false },
        { "\\Aab", "ab", true },
        /* flags */
        { "(?i)/TMP/", "/tmp/x", true },
        { "(?i)/tmp/", "/TMP/x", true },
        { "(?i)(?s)a.b", "A\nb", true },
        { "(?i:/TMP)/x", "/tmp/x", true },
        { "(?i:/TMP)/x", "/tmp/X", false },
        { "(?i)\xc3\xa9", "\xc3\x89", true }, /* é, É */
        { "(?m)a$", "a\nb", true },
        { "a$", "a\nb", false },
        { "(?s)a.b", "a\nb", true },
        { "a.b", "a\nb", false },
        /* what PCRE2 would read another way, rewritten */
        { "a{,2}b", "aab", true },
        { "a{,2}b", "aaab", false },
        { "a{,2}b", "a{,2}b", false },
        { "a{,}b", "aaaab", true },
        { "a{}", "a{}", true },
        { "/x\\Z", "/x\n", false },
        { "/x$", "/x\n", true },
        { "/x\\Z", "/x", true },
        { "\\u00e9", "\xc3\xa9", true },
        { "\\U0001F600", "\xf0\x9f\x98\x80", true },
        { "\\x41", "A", true },
        { "a\\vb", "a\vb", true },
        { "a\\vb", "a\nb", false },
        /* classes, groups, lookarounds */
        { "[]a]", "]", true },
        { "[^]a]", "b", true },
        { "[[]", "[", true },
        { "(?P<d>a)(?P=d)", "aa", true },
        { "(a)\\1", "aa", true },
        { "(?#comment[)x", "x", true },
        { "a(?=b)", "ab", true },
        { "a(?!b)", "ab", false },
        { "(?<=a)b", "ab", false },
        { "(?>a+)b", "aab", true },
        { "a++b", "aab", true },
        /* re.match: at the start only, need not reach the end */
        { "/tmp/", "/var/tmp/x", false },
        { "boot_aggregate", "boot_aggregate", true },
        { "/usr/lib/python3\\.\\d+/.*\\.pyc$", "/usr/lib/python3.11/x/y.pyc", true },
        { "(a+)+$", "aaab", false },
};

static void test_matches_as_python_does(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(python_answers); i++) {
                struct python_regex *regex = NULL;
                int ret = python_regex_compile(python_answers[i].pattern, &regex);

                if (ret < 0)
                        fail_msg("%s: refused: %s", python_answers[i].pattern, vm_error_detail(ret));
                ret = python_regex_match(regex, python_answers[i].text, strlen(python_answers[i].text));
                if (ret != python_answers[i].python_matches)
                        fail_msg("%s against \"%s\": %d, Python says %d", python_answers[i].pattern,
                                 python_answers[i].text, ret, python_answers[i].python_matches);
                python_regex_free(regex);
        }
}

/* Refused: what Python refuses too, and what Python accepts but PCRE2 would read another way. */
static void test_refused(void **state) {
        static const struct {
                const char *pattern, *detail;
        } refused[] = {
                /* Python: a class of '[', ':', 'd', 'i', 'g', 't' then ']'; PCRE2: digits */
                { "[[:digit:]]", "at offset 1: \"[:\" in a class" },
                { "/tmp/[[.a.]]", "\"[.\" in a class" },
                { "/tmp/(?i)x", "at offset 5: global flags not at the start of the expression" },
                { "(?i:a)(?s)b", "global flags not at the start" },
                { "(?-i)x", "global flags cannot turn a flag off" },
                { "(?x)a b", "the flag 'x' is not supported" },
                { "(?a)\\w", "the flag 'a' is not supported" },
                { "(?u)x", "the flag 'u' is not supported" },
                { "(?L)x", "the flag 'L' is not supported" },
                { "(?U)a+", "the flag 'U' is not supported" },
                { "\\N{LATIN SMALL LETTER E WITH ACUTE}", "\\N{name} is not supported" },
                { "\\e", "\\e is not a Python regex escape" },
                { "\\p{L}", "\\p is not a Python regex escape" },
                { "\\Qa\\E", "\\Q is not a Python regex escape" },
                { "a\\K", "at offset 1: \\K is not" },
                { "\\z", "\\z is not" },
                { "[\\Z]", "\\Z is not" },
                { "[\\A]", "\\A is not" },
                { "(*UTF)x", "\"(*\" is not Python regex syntax" },
                { "(*LIMIT_MATCH=99999999)a", "\"(*\"" },
                { "(?<n>a)", "\"(?<n\" is not a Python regex extension" },
                { "(?|a)", "is not a Python regex extension" },
                { "(?R)", "the flag 'R' is not supported" },
                { "\\u12", "\\u needs 4 hex digits" },
                { "\\x4", "\\x needs 2 hex digits" },
                { "a\\", "a lone backslash at the end" },
                { "(?#open", "a comment without its ')'" },
                /* PCRE2's own errors */
                { "(", "missing closing parenthesis" },
                { "a)|(b", "at offset 1:" },
                { "[a-", "missing terminating ]" },
                { "*a", "quantifier does not follow a repeatable item" },
                { "\xff", "UTF-8 error" },
        };

        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                struct python_regex *regex = NULL;
                int ret;

                vm_error_clear();
                ret = python_regex_compile(refused[i].pattern, &regex);
                if (ret != -EINVAL || regex || !strstr(vm_error_detail(ret), refused[i].detail))
                        fail_msg("%s: %d \"%s\", expected -EINVAL \"%s\"", refused[i].pattern, ret, vm_error_detail(ret),
                                 refused[i].detail);
        }
}

/* A path's bytes need not be UTF-8: they match nothing, and stop nothing */
static void test_invalid_utf8_text(void **state) {
        struct python_regex *regex = NULL;

        assert_int_equal(python_regex_compile("/tmp/.*", &regex), 0);
        assert_int_equal(python_regex_match(regex, "/tmp/\xff\xfe", 7), 1);
        /* an invalid byte does not start the match over after it */
        assert_int_equal(python_regex_match(regex, "/\xff/tmp/", 7), 0);
        assert_int_equal(python_regex_match(regex, "\xff/tmp/", 6), 0);
        python_regex_free(regex);
        assert_int_equal(python_regex_compile("/tmp/.$", &regex), 0);
        assert_int_equal(python_regex_match(regex, "/tmp/\xc3\xa9", 7), 1);
        assert_int_equal(python_regex_match(regex, "/tmp/\xff", 6), 0);
        python_regex_free(regex);
        /* a NUL inside the text is a character like another */
        assert_int_equal(python_regex_compile("a.b", &regex), 0);
        assert_int_equal(python_regex_match(regex, "a\0b", 3), 1);
        python_regex_free(regex);
}

static double seconds_since(const struct timespec *start) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Catastrophic backtracking: 2^n steps for n bytes (Python answers re.match("(a+)+$", "a" * 30
 * + "b") with None after some 2^30 steps); here the match gives up, quickly, and says so
 * (-E2BIG, which the runtime policy reads as "not excluded", Python's answer). */
static void test_backtracking_is_bounded(void **state) {
        static const char *const hostile[] = { "(a+)+$", "(a|a)*$", "(a|aa)+$", "((a+)+)+$", "(.*a){12}$" };
        char path[4097];
        struct timespec start;

        memset(path, 'a', sizeof(path) - 2);
        path[sizeof(path) - 2] = 'b';
        path[sizeof(path) - 1] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                struct python_regex *regex = NULL;
                int ret;

                assert_int_equal(python_regex_compile(hostile[i], &regex), 0);
                clock_gettime(CLOCK_MONOTONIC, &start);
                ret = python_regex_match(regex, path, strlen(path));
                if (ret != -E2BIG && ret != 0)
                        fail_msg("%s: %d", hostile[i], ret);
                print_message("# %s on %zu bytes: %d in %.4f s\n", hostile[i], strlen(path), ret, seconds_since(&start));
                if (seconds_since(&start) > 0.5)
                        fail_msg("%s took %.3f s", hostile[i], seconds_since(&start));
                python_regex_free(regex);
        }
}

/* The limits leave room for what a policy reasonably asks of a path of the greatest length */
static void test_long_paths_still_match(void **state) {
        static const char *const patterns[] = { "/.*\\.pyc$", "(/[a-z]+)*/x\\.pyc", "(?:[^/]*/)*x\\.pyc", ".*/.*/.*\\.pyc" };
        char path[4097];

        for (size_t i = 0; i + 2 < sizeof(path) - 6; i += 2)
                path[i] = '/', path[i + 1] = 'd';
        strcpy(path + sizeof(path) - 7, "/x.pyc");
        path[0] = '/';
        assert_int_equal(strlen(path), 4096);
        for (size_t i = 0; i < ELEMENTSOF(patterns); i++) {
                struct python_regex *regex = NULL;
                int ret;

                assert_int_equal(python_regex_compile(patterns[i], &regex), 0);
                ret = python_regex_match(regex, path, strlen(path));
                if (ret != 1)
                        fail_msg("%s on a 4096-byte path: %d", patterns[i], ret);
                python_regex_free(regex);
        }
}

static void test_too_long(void **state) {
        char *pattern = malloc(PYTHON_REGEX_MAX + 2);
        struct python_regex *regex = NULL;

        assert_non_null(pattern);
        memset(pattern, 'a', PYTHON_REGEX_MAX + 1);
        pattern[PYTHON_REGEX_MAX + 1] = '\0';
        assert_error(python_regex_compile(pattern, &regex), -EINVAL, "longer than 4096 bytes");
        pattern[PYTHON_REGEX_MAX] = '\0';
        assert_int_equal(python_regex_compile(pattern, &regex), 0);
        python_regex_free(regex);
        free(pattern);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_matches_as_python_does),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_invalid_utf8_text),
                cmocka_unit_test(test_backtracking_is_bounded),
                cmocka_unit_test(test_long_paths_still_match),
                cmocka_unit_test(test_too_long),
        };

        return cmocka_run_group_tests_name("python_regex", tests, NULL, NULL);
}
