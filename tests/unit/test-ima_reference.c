/* A known-good boot's IMA list as a runtime policy's digests (policy/ima_reference.c): the
 * fixture boot's list (tests/fixtures/boot) gives its 7 paths, boot_aggregate among them, as
 * keylime-policy's -m does; keys measured into keyrings with --keyrings only, other ima-buf
 * entries never; violations and zero digests left out; a line whose template hash is not its
 * data's, or that does not parse, is an error naming its number. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <openssl/pem.h>

#include "lib/encoding.h"
#include "lib/imalog.h"
#include "policy/ima_reference.h"

#define FIXTURE_LIST "tests/fixtures/boot/ascii_runtime_measurements"

static char dir[] = "/tmp/test-ima_reference.XXXXXX";

/* One line with the template hash the kernel would have printed (all zero: a violation). */
static void forge(FILE *out, const char *template, const char *digest, const char *name, const char *data_hex,
                  bool violation) {
        struct ima_entry entry;
        uint8_t data[IMA_TEMPLATE_DATA_MAX], hash[20];
        char line[IMA_LINE_MAX], hex[41];
        size_t size;

        snprintf(line, sizeof(line), "10 %040d %s %s %s%s%s", 0, template, digest, name, data_hex ? " " : "",
                 data_hex ? data_hex : "");
        assert_int_equal(ima_entry_parse(line, strlen(line), &entry), 0);
        if (violation) {
                fprintf(out, "%s\n", line);
                return;
        }
        assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
        SHA1(data, size, hash);
        for (int i = 0; i < 20; i++)
                sprintf(hex + 2 * i, "%02x", hash[i]);
        memcpy(line + 3, hex, 40);
        fprintf(out, "%s\n", line);
}

static char *key_hex(void) {
        FILE *f = fopen("tests/unit/vectors/ak.pem", "r");
        EVP_PKEY *key;
        unsigned char *der = NULL;
        int len;
        char *hex;

        assert_non_null(f);
        key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(key);
        len = i2d_PUBKEY(key, &der);
        assert_true(len > 0);
        hex = hex_encode(der, (size_t)len);
        OPENSSL_free(der);
        EVP_PKEY_free(key);
        return hex;
}

static const char *zero64 = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
static const char *digest_a = "sha256:aaaa000000000000000000000000000000000000000000000000000000000001";

static void write_list(const char *path) {
        _cleanup_(freep) char *key = key_hex();
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        forge(f, "ima-ng", "sha256:1111111111111111111111111111111111111111111111111111111111111111", "boot_aggregate", NULL, false);
        forge(f, "ima-ng", digest_a, "/usr/bin/a", NULL, false);
        forge(f, "ima-sig", digest_a, "/usr/bin/a_copy", "", false);
        forge(f, "ima-ng", "sha256:bbbb000000000000000000000000000000000000000000000000000000000002", "/usr/bin/a", NULL, false);
        forge(f, "ima-ng", digest_a, "/usr/bin/a", NULL, false);             /* again: once in the policy */
        forge(f, "ima-ng", digest_a, "/usr/bin/violated", NULL, true);       /* a violation */
        forge(f, "ima-ng", zero64, "/usr/bin/unreadable", NULL, false);      /* IMA could not read it */
        forge(f, "ima-buf", "sha256:cccc000000000000000000000000000000000000000000000000000000000003", ".ima", key, false);
        forge(f, "ima-buf", "sha256:dddd000000000000000000000000000000000000000000000000000000000004", "kexec-cmdline", "6b65726e656c", false);
        fclose(f);
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", dir);
        return system(command);
}

static void test_fixture(void **state) {
        struct name_set digests = { 0 }, keys = { 0 };
        struct ima_reference_stats stats;

        assert_int_equal(ima_reference_read(FIXTURE_LIST, false, &digests, &keys, &stats), 0);
        name_set_finish(&digests);
        assert_int_equal(digests.count, 7);
        assert_int_equal(stats.entries, 7);
        assert_string_equal(stats.digest_alg, "sha256");
        assert_string_equal(digests.items[0].name, "/bin/busybox");
        assert_string_equal(digests.items[0].digest, "3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6");
        assert_string_equal(digests.items[6].name, "boot_aggregate");
        assert_int_equal(keys.count, 0);
        name_set_done(&digests);
}

static void test_entries(void **state) {
        struct name_set digests = { 0 }, keys = { 0 };
        struct ima_reference_stats stats;
        char path[128];

        snprintf(path, sizeof(path), "%s/list", dir);
        write_list(path);
        assert_int_equal(ima_reference_read(path, true, &digests, &keys, &stats), 0);
        name_set_finish(&digests);
        name_set_finish(&keys);
        assert_int_equal(stats.entries, 9);
        assert_int_equal(stats.violations, 1);
        assert_int_equal(stats.zero_digests, 1);
        assert_int_equal(stats.keys, 1);
        assert_int_equal(stats.buffers, 1);
        assert_int_equal(digests.count, 4); /* /usr/bin/a twice, /usr/bin/a_copy, boot_aggregate */
        assert_string_equal(digests.items[0].name, "/usr/bin/a");
        assert_string_equal(digests.items[1].name, "/usr/bin/a");
        assert_string_equal(digests.items[2].name, "/usr/bin/a_copy");
        assert_int_equal(keys.count, 1);
        assert_string_equal(keys.items[0].name, ".ima");
        name_set_done(&digests);
        name_set_done(&keys);
        /* without --keyrings the key is not taken */
        assert_int_equal(ima_reference_read(path, false, &digests, &keys, &stats), 0);
        assert_int_equal(keys.count, 0);
        name_set_done(&digests);
}

static void test_refused(void **state) {
        struct name_set digests = { 0 }, keys = { 0 };
        struct ima_reference_stats stats;
        char path[128], command[512];

        snprintf(path, sizeof(path), "%s/altered", dir);
        snprintf(command, sizeof(command), "sed '5s/ima-sig sha256:7/ima-sig sha256:8/' %s >%s", FIXTURE_LIST, path);
        assert_int_equal(system(command), 0);
        assert_error(ima_reference_read(path, false, &digests, &keys, &stats), -EBADMSG, "altered: line 5: IMA log line: template-hash");
        name_set_done(&digests);
        snprintf(command, sizeof(command), "(head -2 %s; echo '10 junk'; tail -1 %s) >%s", FIXTURE_LIST, FIXTURE_LIST, path);
        assert_int_equal(system(command), 0);
        assert_error(ima_reference_read(path, false, &digests, &keys, &stats), -EBADMSG, "altered: line 3:");
        name_set_done(&digests);
        assert_error(ima_reference_read("/nonexistent/list", false, &digests, &keys, &stats), -ENOENT, "/nonexistent/list");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixture),
                cmocka_unit_test(test_entries),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests_name("ima_reference", tests, setup, teardown);
}
