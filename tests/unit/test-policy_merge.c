/* --merge (policy/policy_merge.c): an existing policy's digests, excludes, keyrings, ima-buf,
 * ignored keyrings, log_hash_alg and verification-keys taken as keylime-policy's --base-policy
 * takes them (digests lower-cased), the digest algorithm guessed from the first digest's
 * length; a file the verifier would refuse is refused, naming the file and the member. */
#include "tests/unit/unit.h"

#include <errno.h>

#include "policy/keylime_json.h"
#include "policy/policy_merge.h"

static char dir[] = "/tmp/test-policy_merge.XXXXXX";

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", dir);
        return system(command);
}

static const char *write_policy(const char *name, const char *text) {
        static char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return path;
}

static void doc_done(struct runtime_policy_doc *doc) {
        name_set_done(&doc->digests);
        name_set_done(&doc->keyrings);
        name_set_done(&doc->ima_buf);
        string_set_done(&doc->excludes);
        string_set_done(&doc->ignored_keyrings);
}

static void test_members(void **state) {
        struct runtime_policy_doc doc = { 0 };
        struct merged_policy merged;
        const char *path = write_policy(
                "full.json",
                "{\"meta\": {\"version\": 1, \"generator\": 3, \"timestamp\": \"x\"}, \"release\": 7,"
                " \"digests\": {\"/z\": [\"AAAA000000000000000000000000000000000000\"], \"/a\": [\"bbbb000000000000000000000000000000000000\"]},"
                " \"excludes\": [\"/tmp/.*\"], \"keyrings\": {\".ima\": [\"cccc000000000000000000000000000000000000\"]},"
                " \"ima\": {\"ignored_keyrings\": [\".builtin_trusted_keys\"], \"log_hash_alg\": \"sha256\", \"dm_policy\": null},"
                " \"ima-buf\": {\"kexec-cmdline\": [\"dddd000000000000000000000000000000000000\"]}, \"verification-keys\": \"keys\"}\n");

        assert_int_equal(policy_merge_read(path, &doc, &merged), 0);
        assert_int_equal(doc.digests.count, 2);
        assert_string_equal(doc.digests.items[0].name, "/z");
        assert_string_equal(doc.digests.items[0].digest, "aaaa000000000000000000000000000000000000");
        assert_int_equal(merged.digest_alg, TPM2_ALG_SHA1); /* the first path's first digest: 40 hex digits */
        assert_string_equal(doc.excludes.items[0], "/tmp/.*");
        assert_string_equal(doc.keyrings.items[0].name, ".ima");
        assert_string_equal(doc.ima_buf.items[0].name, "kexec-cmdline");
        assert_string_equal(doc.ignored_keyrings.items[0], ".builtin_trusted_keys");
        assert_string_equal(merged.log_hash_alg, "sha256");
        assert_string_equal(merged.verification_keys, "keys");
        merged_policy_done(&merged);
        doc_done(&doc);

        /* the least the verifier takes: meta and digests; no digest, no algorithm */
        path = write_policy("least.json", "{\"meta\": {\"version\": 1}, \"digests\": {}}");
        assert_int_equal(policy_merge_read(path, &doc, &merged), 0);
        assert_int_equal(merged.digest_alg, TPM2_ALG_NULL);
        assert_null(merged.log_hash_alg);
        assert_null(merged.verification_keys);
        merged_policy_done(&merged);
        doc_done(&doc);
}

static void test_refused(void **state) {
        struct runtime_policy_doc doc = { 0 };
        struct merged_policy merged;
        const char *path;

        path = write_policy("version.json", "{\"meta\": {\"version\": 2}, \"digests\": {}}");
        assert_error(policy_merge_read(path, &doc, &merged), -EBADMSG, "version.json: ");
        assert_detail_contains(-EBADMSG, "version");
        path = write_policy("digest.json", "{\"meta\": {\"version\": 1}, \"digests\": {\"/a\": [\"xyz\"]}}");
        assert_error(policy_merge_read(path, &doc, &merged), -EBADMSG, "digest.json: ");
        assert_detail_contains(-EBADMSG, "digests[\"/a\"][0]");
        path = write_policy("regex.json", "{\"meta\": {\"version\": 1}, \"digests\": {}, \"excludes\": [\"[[:alpha:]]\"]}");
        assert_error(policy_merge_read(path, &doc, &merged), -EBADMSG, "excludes[0]");
        path = write_policy("text.json", "not json");
        assert_error(policy_merge_read(path, &doc, &merged), -EBADMSG, "text.json: ");
        assert_error(policy_merge_read("/nonexistent/policy.json", &doc, &merged), -ENOENT, "/nonexistent/policy.json");
        doc_done(&doc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_members),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests_name("policy_merge", tests, setup, teardown);
}
