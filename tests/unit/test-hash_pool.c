/* The worker pool that hashes an image tree (policy/hash_pool.c): one worker or several give the
 * same digests, in the tree's order; a file gone since the walk is left out; a file replaced by
 * something that is not one fails the run naming it, the lowest-numbered failure reported when
 * one worker meets several. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <sys/stat.h>

#include "lib/hashalg.h"
#include "policy/hash_pool.h"
#include "policy/image_tree.h"

#define FILES 300

static char tree[] = "/tmp/test-hash_pool.XXXXXX";

static void path_of(int i, char *out, size_t size) {
        snprintf(out, size, "%s/d%d/f%03d", tree, i % 7, i);
}

static int setup(void **state) {
        char path[256];

        assert_non_null(mkdtemp(tree));
        for (int d = 0; d < 7; d++) {
                snprintf(path, sizeof(path), "%s/d%d", tree, d);
                assert_int_equal(mkdir(path, 0755), 0);
        }
        for (int i = 0; i < FILES; i++) {
                FILE *f;

                path_of(i, path, sizeof(path));
                f = fopen(path, "w");
                assert_non_null(f);
                for (int j = 0; j < i * 37; j++)
                        fprintf(f, "%d ", j);
                fclose(f);
        }
        return 0;
}

static int teardown(void **state) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", tree);
        return system(command);
}

static void test_workers(void **state) {
        struct image_tree walked;
        uint8_t *one = calloc(FILES, 32), *many = calloc(FILES, 32);
        bool gone[FILES];

        assert_int_equal(image_tree_walk(tree, NULL, 0, &walked), 0);
        assert_int_equal(walked.count, FILES);
        assert_int_equal(hash_pool_run(&walked, TPM2_ALG_SHA256, 1, one, gone), 0);
        assert_int_equal(hash_pool_run(&walked, TPM2_ALG_SHA256, 5, many, gone), 0);
        assert_memory_equal(one, many, FILES * 32);
        for (size_t i = 0; i < walked.count; i++) {
                _cleanup_(freep) uint8_t *data = NULL;
                char path[256];
                uint8_t expected[32];
                size_t size;

                assert_false(gone[i]);
                snprintf(path, sizeof(path), "%s/%s", tree, walked.files[i].path);
                data = read_vector(path, &size);
                assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, data, size, expected), 0);
                assert_memory_equal(one + 32 * i, expected, 32);
        }
        /* more workers than files, and an empty tree */
        walked.count = 2;
        assert_int_equal(hash_pool_run(&walked, TPM2_ALG_SHA256, 64, many, gone), 0);
        walked.count = FILES;
        image_tree_done(&walked);
        free(one);
        free(many);
        assert_true(hash_pool_default_workers() >= 1);
}

static void test_changed_since_the_walk(void **state) {
        struct image_tree walked;
        uint8_t *digests = calloc(FILES, 32);
        bool gone[FILES];
        char path[256], first[256], second[256];

        assert_int_equal(image_tree_walk(tree, NULL, 0, &walked), 0);
        /* one file removed: left out */
        snprintf(path, sizeof(path), "%s/%s", tree, walked.files[10].path);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(hash_pool_run(&walked, TPM2_ALG_SHA256, 3, digests, gone), 0);
        for (size_t i = 0; i < walked.count; i++)
                assert_int_equal(gone[i], i == 10);
        /* two replaced by FIFOs: the first of them is named */
        snprintf(first, sizeof(first), "%s/%s", tree, walked.files[20].path);
        snprintf(second, sizeof(second), "%s/%s", tree, walked.files[200].path);
        assert_int_equal(unlink(first), 0);
        assert_int_equal(mkfifo(first, 0600), 0);
        assert_int_equal(unlink(second), 0);
        assert_int_equal(mkfifo(second, 0600), 0);
        snprintf(path, sizeof(path), "/%s: not a regular file", walked.files[20].path);
        assert_error(hash_pool_run(&walked, TPM2_ALG_SHA256, 1, digests, gone), -EINVAL, path);
        assert_int_equal(hash_pool_run(&walked, TPM2_ALG_SHA256, 4, digests, gone), -EINVAL);
        assert_detail_contains(-EINVAL, "not a regular file");
        image_tree_done(&walked);
        free(digests);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_workers),
                cmocka_unit_test(test_changed_since_the_walk),
        };

        return cmocka_run_group_tests_name("hash_pool", tests, setup, teardown);
}
