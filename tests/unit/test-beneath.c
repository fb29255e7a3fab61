/* Opening a file of an image tree by its path in the tree (policy/beneath.c), with openat2 and
 * with the component-by-component fallback: a symlink anywhere on the way fails (ELOOP, or the
 * fallback's O_NOFOLLOW errors), whether it points inside the tree, above it or at the host's
 * files; ".." does not climb out. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "policy/beneath.h"

static char tree[] = "/tmp/test-beneath.XXXXXX";

static void make(const char *rel, bool directory) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", tree, rel);
        if (directory)
                assert_int_equal(mkdir(path, 0755), 0);
        else {
                FILE *f = fopen(path, "w");

                assert_non_null(f);
                fputs(rel, f);
                fclose(f);
        }
}

static void link_in(const char *target, const char *rel) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", tree, rel);
        assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state) {
        assert_non_null(mkdtemp(tree));
        make("usr", true), make("usr/bin", true), make("usr/bin/prog", false);
        link_in("usr/bin", "bin");          /* a directory link inside */
        link_in("prog", "usr/bin/sh");      /* a file link inside */
        link_in("/etc", "usr/etc");         /* the host's */
        link_in("../..", "usr/bin/up");     /* above the tree */
        return 0;
}

static int teardown(void **state) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", tree);
        return system(command);
}

/* 0 when `path` opens as a readable file; the negative errno otherwise */
static int try_open(int (*open_fn)(int, const char *, int), int root, const char *path) {
        int fd = open_fn(root, path, O_RDONLY);

        if (fd >= 0)
                close(fd);
        return fd >= 0 ? 0 : fd;
}

static void check_both(int root, const char *path, bool opens) {
        int with_openat2 = try_open(open_beneath, root, path), walked = try_open(open_beneath_walk, root, path);

        if (opens) {
                assert_int_equal(with_openat2, 0);
                assert_int_equal(walked, 0);
        } else {
                if (with_openat2 == 0 || walked == 0)
                        fail_msg("%s opened (openat2 %d, walk %d)", path, with_openat2, walked);
        }
}

static void test_paths(void **state) {
        int root = open(tree, O_RDONLY | O_DIRECTORY);

        assert_true(root >= 0);
        check_both(root, "usr/bin/prog", true);
        check_both(root, "", true);
        check_both(root, "bin/prog", false);
        check_both(root, "usr/bin/sh", false);
        check_both(root, "usr/etc/passwd", false);
        check_both(root, "usr/bin/up/etc/passwd", false);
        check_both(root, "../etc/passwd", false);
        check_both(root, "usr/bin/missing", false);
        assert_int_equal(try_open(open_beneath_walk, root, "usr/bin/sh"), -ELOOP);
        assert_int_equal(try_open(open_beneath_walk, root, "bin/prog"), -ENOTDIR);
        assert_int_equal(try_open(open_beneath_walk, root, "../etc/passwd"), -EXDEV);
        close(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),
        };

        return cmocka_run_group_tests_name("beneath", tests, setup, teardown);
}
