/* The runtime policy as Keylime's generator writes it (policy/keylime_json.c): strings escaped
 * as Python's json.dumps escapes them (the expected texts are json.dumps's, Python 3.11), the
 * policy's members, separators and order as keylime-policy writes them, and the result loads in
 * the verifier's parser. */
#include "tests/unit/unit.h"

#include <errno.h>

#include "lib/runtime_policy.h"
#include "policy/keylime_json.h"
#include "policy/policy_sets.h"

static char *written(int (*write)(FILE *, const void *), const void *arg, int *ret) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        *ret = write(f, arg);
        fclose(f);
        return text;
}

static int write_string(FILE *f, const void *s) {
        return python_json_string(f, s, strlen(s));
}

static void test_strings(void **state) {
        static const struct {
                const char *text, *json;
        } cases[] = {
                { "plain /usr/bin/ls", "\"plain /usr/bin/ls\"" },
                { "quo\"te\\\\back", "\"quo\\\"te\\\\\\\\back\"" },
                { "new\nline\ttab\r\b\f", "\"new\\nline\\ttab\\r\\b\\f\"" },
                { "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
                { "\xc3\xbc" "n\xc3\xaf\xe2\x82\xac", "\"\\u00fcn\\u00ef\\u20ac\"" },
                { "\xf0\x9f\x98\x80x", "\"\\ud83d\\ude00x\"" },
                { "/", "\"/\"" },
                { "<>&'", "\"<>&'\"" },
                { "", "\"\"" },
        };
        int ret;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *text = written(write_string, cases[i].text, &ret);

                assert_int_equal(ret, 0);
                assert_string_equal(text, cases[i].json);
        }
        /* not UTF-8: nothing written */
        {
                _cleanup_(freep) char *text = written(write_string, "a\xff", &ret);

                assert_int_equal(ret, -EILSEQ);
                assert_string_equal(text, "");
        }
}

static int write_policy(FILE *f, const void *doc) {
        return runtime_policy_write(f, doc);
}

static void test_policy(void **state) {
        struct runtime_policy_doc doc = { .timestamp = "2026-12-06 14:16:44.510207" };
        _cleanup_(runtime_policy_freep) struct runtime_policy *parsed = NULL;
        _cleanup_(freep) char *empty = NULL, *full = NULL;
        int ret;

        empty = written(write_policy, &doc, &ret);
        assert_int_equal(ret, 0);
        /* keylime-policy create runtime of an empty tree, its timestamp aside */
        assert_string_equal(empty, "{\"meta\": {\"version\": 1, \"generator\": 3, \"timestamp\": \"2026-12-06 14:16:44.510207\"}, "
                                   "\"release\": 0, \"digests\": {}, \"excludes\": [], \"keyrings\": {}, \"ima\": "
                                   "{\"ignored_keyrings\": [], \"log_hash_alg\": \"sha1\", \"dm_policy\": null}, "
                                   "\"ima-buf\": {}, \"verification-keys\": \"\"}");
        assert_int_equal(name_set_add_hex(&doc.digests, "/b", 2, "BB", 2), 0);
        assert_int_equal(name_set_add_hex(&doc.digests, "/a", 2, "cc", 2), 0);
        assert_int_equal(name_set_add_hex(&doc.digests, "/a", 2, "aa", 2), 0);
        assert_int_equal(name_set_add_hex(&doc.keyrings, ".ima", 4, "dd", 2), 0);
        assert_int_equal(name_set_add_hex(&doc.ima_buf, "kexec-cmdline", 13, "ee", 2), 0);
        assert_int_equal(string_set_add(&doc.excludes, "/tmp/.*", 7), 0);
        assert_int_equal(string_set_add(&doc.excludes, "/run/.*", 7), 0);
        assert_int_equal(string_set_add(&doc.ignored_keyrings, "*", 1), 0);
        name_set_finish(&doc.digests);
        string_set_finish(&doc.excludes);
        doc.timestamp = NULL;
        doc.log_hash_alg = "sha256";
        doc.verification_keys = "k";
        full = written(write_policy, &doc, &ret);
        assert_int_equal(ret, 0);
        assert_string_equal(full, "{\"meta\": {\"version\": 1, \"generator\": 3}, \"release\": 0, "
                                  "\"digests\": {\"/a\": [\"aa\", \"cc\"], \"/b\": [\"bb\"]}, "
                                  "\"excludes\": [\"/run/.*\", \"/tmp/.*\"], \"keyrings\": {\".ima\": [\"dd\"]}, "
                                  "\"ima\": {\"ignored_keyrings\": [\"*\"], \"log_hash_alg\": \"sha256\", \"dm_policy\": null}, "
                                  "\"ima-buf\": {\"kexec-cmdline\": [\"ee\"]}, \"verification-keys\": \"k\"}");
        name_set_done(&doc.digests);
        name_set_done(&doc.keyrings);
        name_set_done(&doc.ima_buf);
        string_set_done(&doc.excludes);
        string_set_done(&doc.ignored_keyrings);
        /* what the verifier loads */
        free(full);
        assert_int_equal(name_set_add_hex(&doc.digests, "/usr/bin/\xc3\xbc", 11,
                                          "6b1bf35c0000000000000000000000000000000000000000000000000000abcd", 64), 0);
        full = written(write_policy, &doc, &ret);
        assert_int_equal(ret, 0);
        assert_int_equal(runtime_policy_parse(full, strlen(full), &parsed), 0);
        name_set_done(&doc.digests);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_policy),
        };

        return cmocka_run_group_tests_name("keylime_json", tests, NULL, NULL);
}
