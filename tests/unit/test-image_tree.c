/* Which files of an image tree the runtime generator lists and under which names
 * (policy/image_tree.c): regular files whoever owns them, never a symlink (to a file, to a
 * directory, out of the tree) or a special file, not Keylime's top-level state and pseudo
 * directories, not what an exclude matches, not a name JSON cannot carry; a space is IMA's '_'.
 * The filesystems it never enters are the ones the shipped IMA policy does not measure (checked
 * against ima-policy/vmattest.policy), and a tmpfs mounted inside the tree is left out. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/python_regex.h"
#include "policy/image_tree.h"

struct scratch {
        char dir[64];
};

static void put(const struct scratch *s, const char *path, const char *text) {
        char full[8192];
        FILE *f;

        snprintf(full, sizeof(full), "%s/%s", s->dir, path);
        f = fopen(full, "w");
        if (!f)
                fail_msg("cannot create %s", full);
        fputs(text, f);
        fclose(f);
}

static void dir(const struct scratch *s, const char *path) {
        char full[8192];

        snprintf(full, sizeof(full), "%s/%s", s->dir, path);
        assert_int_equal(mkdir(full, 0755), 0);
}

static void symlink_in(const struct scratch *s, const char *target, const char *path) {
        char full[8192];

        snprintf(full, sizeof(full), "%s/%s", s->dir, path);
        assert_int_equal(symlink(target, full), 0);
}

static void scratch_make(struct scratch *s) {
        snprintf(s->dir, sizeof(s->dir), "/tmp/test-image_tree.XXXXXX");
        assert_non_null(mkdtemp(s->dir));
}

static void scratch_remove(struct scratch *s) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", s->dir);
        assert_int_equal(system(command), 0);
}

static int compare_names(const void *a, const void *b) {
        return strcmp(((const struct tree_file *)a)->name, ((const struct tree_file *)b)->name);
}

/* The names walked, sorted, one a line */
static char *names(struct image_tree *tree) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        qsort(tree->files, tree->count, sizeof(*tree->files), compare_names);
        for (size_t i = 0; i < tree->count; i++)
                fprintf(f, "%s=%s\n", tree->files[i].name, tree->files[i].path);
        fclose(f);
        return text;
}

static void test_walk(void **state) {
        struct scratch s;
        struct image_tree tree;
        char path[128];
        _cleanup_(freep) char *listed = NULL;

        scratch_make(&s);
        dir(&s, "usr"), dir(&s, "usr/bin"), dir(&s, "usr/lib"), dir(&s, "usr/lib/a"), dir(&s, "usr/lib/a/b");
        dir(&s, "etc"), dir(&s, "var"), dir(&s, "var/lib"), dir(&s, "tmp"), dir(&s, "proc"), dir(&s, "dev");
        dir(&s, "opt"), dir(&s, "opt/var"), dir(&s, "bad\xff" "dir");
        put(&s, "usr/bin/prog", "p");
        put(&s, "usr/bin/with space", "s");
        put(&s, "usr/lib/a/b/deep.so", "d");
        put(&s, "etc/conf", "c");
        put(&s, "var/lib/state", "v");
        put(&s, "tmp/scratch", "t");
        put(&s, "opt/var/kept", "k"); /* /var is skipped at the top only */
        put(&s, "usr/bin/bad\xfe" "name", "b");
        put(&s, "bad\xff" "dir/inside", "i");
        symlink_in(&s, "prog", "usr/bin/link");
        symlink_in(&s, "/etc/passwd", "usr/bin/escape");
        symlink_in(&s, "usr/bin", "bin");
        symlink_in(&s, "..", "usr/lib/up");
        snprintf(path, sizeof(path), "%s/usr/bin/fifo", s.dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        snprintf(path, sizeof(path), "%s/etc/sock", s.dir);
        assert_int_equal(mknod(path, S_IFSOCK | 0600, 0), 0);

        assert_int_equal(image_tree_walk(s.dir, NULL, 0, &tree), 0);
        listed = names(&tree);
        assert_string_equal(listed, "/etc/conf=etc/conf\n"
                                    "/opt/var/kept=opt/var/kept\n"
                                    "/usr/bin/prog=usr/bin/prog\n"
                                    "/usr/bin/with_space=usr/bin/with space\n"
                                    "/usr/lib/a/b/deep.so=usr/lib/a/b/deep.so\n");
        assert_int_equal(tree.symlinks, 4);
        assert_int_equal(tree.special, 2);
        assert_int_equal(tree.skipped_dirs, 4); /* var tmp proc dev */
        assert_int_equal(tree.not_utf8, 2);     /* a file and a directory */
        image_tree_done(&tree);
        scratch_remove(&s);
}

static void test_excludes(void **state) {
        struct python_regex *regexes[2] = { NULL, NULL };
        struct scratch s;
        struct image_tree tree;
        _cleanup_(freep) char *listed = NULL;

        scratch_make(&s);
        dir(&s, "etc"), dir(&s, "usr");
        put(&s, "etc/keep", "k"), put(&s, "etc/drop me", "d"), put(&s, "usr/x.pyc", "p"), put(&s, "usr/x.py", "q");
        assert_int_equal(python_regex_compile("/etc/drop_", &regexes[0]), 0); /* IMA's name, '_' for the space */
        assert_int_equal(python_regex_compile(".*\\.pyc$", &regexes[1]), 0);
        assert_int_equal(image_tree_walk(s.dir, regexes, 2, &tree), 0);
        listed = names(&tree);
        assert_string_equal(listed, "/etc/keep=etc/keep\n/usr/x.py=usr/x.py\n");
        assert_int_equal(tree.excluded, 2);
        image_tree_done(&tree);
        python_regex_free(regexes[0]);
        python_regex_free(regexes[1]);
        scratch_remove(&s);
}

static void test_errors(void **state) {
        struct scratch s;
        struct image_tree tree;
        char path[8192];
        size_t len;
        int fd;

        assert_error(image_tree_walk("/nonexistent/tree", NULL, 0, &tree), -ENOENT, "/nonexistent/tree: cannot open the image tree");
        image_tree_done(&tree);
        scratch_make(&s);
        /* a name longer than IMA's 4096 bytes, 250 bytes a directory */
        fd = open(s.dir, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        memset(path, 'd', 250);
        path[250] = '\0';
        for (len = 0; len < 4200; len += 251) {
                int next;

                assert_int_equal(mkdirat(fd, path, 0755), 0);
                next = openat(fd, path, O_RDONLY | O_DIRECTORY);
                close(fd);
                fd = next;
                assert_true(fd >= 0);
        }
        close(fd);
        assert_error(image_tree_walk(s.dir, NULL, 0, &tree), -ENAMETOOLONG, "longer than IMA's 4096 bytes");
        image_tree_done(&tree);
        scratch_remove(&s);
}

/* ima-policy/vmattest.policy's dont_measure fsmagic= rules are exactly the walk's list */
static void test_unmeasured_filesystems(void **state) {
        _cleanup_(freep) uint8_t *policy = NULL;
        size_t size, rules = 0;
        char *line, *save = NULL;

        policy = read_vector("ima-policy/vmattest.policy", &size);
        for (line = strtok_r((char *)policy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned long magic;

                if (sscanf(line, "dont_measure fsmagic=0x%lx", &magic) == 1) {
                        if (!image_tree_unmeasured_fs(magic))
                                fail_msg("%s: the walk enters this filesystem", line);
                        rules++;
                }
        }
        assert_int_equal(rules, 19);
        assert_false(image_tree_unmeasured_fs(0xef53));     /* ext4 */
        assert_false(image_tree_unmeasured_fs(0x794c7630)); /* overlayfs: measured */
}

/* A tmpfs mounted in the tree holds nothing of the image (where the test may mount) */
static void test_tmpfs_mount(void **state) {
        struct scratch s;
        struct image_tree tree;
        char path[128];
        _cleanup_(freep) char *listed = NULL;

        scratch_make(&s);
        dir(&s, "usr"), dir(&s, "usr/shm");
        put(&s, "usr/file", "f");
        snprintf(path, sizeof(path), "%s/usr/shm", s.dir);
        if (mount("tmpfs", path, "tmpfs", 0, "size=1m") < 0) {
                scratch_remove(&s);
                skip(); /* no CAP_SYS_ADMIN here */
                return;
        }
        put(&s, "usr/shm/runtime", "r");
        assert_int_equal(image_tree_walk(s.dir, NULL, 0, &tree), 0);
        listed = names(&tree);
        assert_string_equal(listed, "/usr/file=usr/file\n");
        assert_int_equal(tree.skipped_mounts, 1);
        image_tree_done(&tree);
        assert_int_equal(umount2(path, MNT_DETACH), 0);
        scratch_remove(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_walk),
                cmocka_unit_test(test_excludes),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_unmeasured_filesystems),
                cmocka_unit_test(test_tmpfs_mount),
        };

        return cmocka_run_group_tests_name("image_tree", tests, NULL, NULL);
}
