/* Hashing one file as IMA does (policy/file_digest.c): the contents through a fixed buffer
 * (a file larger than the buffer too), in each bank; not a FIFO or a device put in a file's place,
 * not through a symlink; a file whose size changes while it is read (a /proc file claims 0
 * bytes and has more) is an error, not a digest. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "lib/hashalg.h"
#include "policy/file_digest.h"

static char tree[] = "/tmp/test-file_digest.XXXXXX";
static uint8_t big[FILE_DIGEST_BUFFER * 2 + 12345];

static void write_file(const char *rel, const void *data, size_t size) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", tree, rel);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        fclose(f);
}

static int setup(void **state) {
        uint64_t seed = FUZZ_SEED;
        char path[256];

        assert_non_null(mkdtemp(tree));
        prng_fill(&seed, big, sizeof(big));
        write_file("big", big, sizeof(big));
        write_file("empty", "", 0);
        snprintf(path, sizeof(path), "%s/fifo", tree);
        assert_int_equal(mkfifo(path, 0600), 0);
        snprintf(path, sizeof(path), "%s/link", tree);
        assert_int_equal(symlink("big", path), 0);
        return 0;
}

static int teardown(void **state) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", tree);
        return system(command);
}

static void test_digests(void **state) {
        static const TPM2_ALG_ID banks[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512 };
        int root = open(tree, O_RDONLY | O_DIRECTORY);
        uint8_t digest[64], expected[64];

        assert_true(root >= 0);
        for (size_t i = 0; i < ELEMENTSOF(banks); i++) {
                struct file_hasher h;

                assert_int_equal(file_hasher_init(&h, banks[i]), 0);
                assert_int_equal(file_hasher_digest_beneath(&h, root, "big", digest), 0);
                assert_int_equal(hashalg_digest(banks[i], big, sizeof(big), expected), 0);
                assert_memory_equal(digest, expected, hashalg_size(banks[i]));
                assert_int_equal(file_hasher_digest_beneath(&h, root, "empty", digest), 0);
                assert_int_equal(hashalg_digest(banks[i], "", 0, expected), 0);
                assert_memory_equal(digest, expected, hashalg_size(banks[i]));
                file_hasher_done(&h);
        }
        close(root);
}

static void test_refused(void **state) {
        int root = open(tree, O_RDONLY | O_DIRECTORY);
        struct file_hasher h;
        uint8_t digest[32];
        char path[256];

        assert_true(root >= 0);
        assert_int_equal(file_hasher_init(&h, TPM2_ALG_SHA256), 0);
        assert_error(file_hasher_digest_beneath(&h, root, "fifo", digest), -EINVAL, "/fifo: not a regular file");
        assert_error(file_hasher_digest_beneath(&h, root, "link", digest), -ELOOP, "/link: a symlink on the way");
        assert_int_equal(file_hasher_digest_beneath(&h, root, "gone", digest), -ENOENT);
        assert_error(file_hasher_digest_path(&h, "/proc/self/status", digest), -ESTALE, "/proc/self/status: grew while it was read");
        assert_error(file_hasher_digest_path(&h, "/dev/null", digest), -EINVAL, "/dev/null: not a regular file");
        snprintf(path, sizeof(path), "%s/link", tree);
        assert_int_equal(file_hasher_digest_path(&h, path, digest), 0); /* a path the user gave is followed */
        assert_error(file_hasher_digest_path(&h, "/nonexistent/file", digest), -ENOENT, "/nonexistent/file: cannot open");
        file_hasher_done(&h);
        assert_error(file_hasher_init(&h, TPM2_ALG_SM3_256), -EINVAL, "no hash algorithm");
        close(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digests),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests_name("file_digest", tests, setup, teardown);
}
