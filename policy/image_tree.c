#include "policy/image_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "policy/beneath.h"
#include "policy/utf8.h"

/* keylime/policy/create_runtime_policy.py, BASE_EXCLUDE_DIRS (Keylime 7.14.3) */
const char *const image_tree_skipped_dirs[] = {
        "sys", "run", "proc", "lost+found", "dev", "media", "snap", "mnt", "var", "tmp", NULL,
};

/* ima-policy/vmattest.policy's dont_measure fsmagic= rules, stages 1 and 3 (the unit test
 * checks this list against the file) */
static const unsigned long unmeasured_magics[] = {
        0x9fa0,     /* proc */
        0x62656572, /* sysfs */
        0x64626720, /* debugfs */
        0x74726163, /* tracefs */
        0x73636673, /* securityfs */
        0xf97cff8c, /* selinuxfs */
        0x43415d53, /* smackfs */
        0x5a3c69f0, /* apparmorfs */
        0x27e0eb,   /* cgroup */
        0x63677270, /* cgroup2 */
        0x6e736673, /* nsfs */
        0xde5e81e4, /* efivarfs */
        0xcafe4a11, /* bpf */
        0x42494e4d, /* binfmt_misc */
        0x1cd1,     /* devpts */
        0x6c6f6f70, /* binderfs */
        0x6165676c, /* pstore */
        0x01021994, /* tmpfs */
        0x858458f6, /* ramfs */
};

bool image_tree_unmeasured_fs(unsigned long magic) {
        for (size_t i = 0; i < ELEMENTSOF(unmeasured_magics); i++)
                if (unmeasured_magics[i] == magic)
                        return true;
        return false;
}

struct pending_dir {
        char *path;
        dev_t parent_dev;
};

struct walk {
        struct image_tree *tree;
        struct python_regex *const *excludes;
        size_t exclude_count;
        struct pending_dir *stack;
        size_t depth, cap;
};

static int push_dir(struct walk *w, char *path, dev_t parent_dev) {
        if (w->depth == w->cap) {
                size_t cap = w->cap ? 2 * w->cap : 64;
                struct pending_dir *p = reallocarray(w->stack, cap, sizeof(*p));

                if (!p) {
                        free(path);
                        return -ENOMEM;
                }
                w->stack = p;
                w->cap = cap;
        }
        w->stack[w->depth++] = (struct pending_dir){ .path = path, .parent_dev = parent_dev };
        return 0;
}

static bool excluded(const struct walk *w, const char *name, size_t len) {
        for (size_t i = 0; i < w->exclude_count; i++)
                /* a regex that gives up (-E2BIG) excludes nothing, as in the verifier: the file
                 * is listed, which allows no more than its digest */
                if (python_regex_match(w->excludes[i], name, len) == 1)
                        return true;
        return false;
}

static int add_file(struct walk *w, char *path) {
        struct image_tree *tree = w->tree;
        size_t len = strlen(path);
        char *name;

        if (!utf8_valid(path, len)) {
                log_warning("/%s: the name is not UTF-8, left out (a JSON policy cannot name it as IMA logs it)", path);
                tree->not_utf8++;
                free(path);
                return 0;
        }
        name = malloc(len + 2);
        if (!name) {
                free(path);
                return -ENOMEM;
        }
        name[0] = '/';
        for (size_t i = 0; i <= len; i++)
                name[i + 1] = path[i] == ' ' ? '_' : path[i];
        if (excluded(w, name, len + 1)) {
                tree->excluded++;
                free(name);
                free(path);
                return 0;
        }
        if (tree->count == tree->cap) {
                size_t cap = tree->cap ? 2 * tree->cap : 1024;
                struct tree_file *p = reallocarray(tree->files, cap, sizeof(*p));

                if (!p) {
                        free(name);
                        free(path);
                        return -ENOMEM;
                }
                tree->files = p;
                tree->cap = cap;
        }
        tree->files[tree->count++] = (struct tree_file){ .path = path, .name = name };
        return 0;
}

static bool skipped_top_dir(const char *name) {
        for (size_t i = 0; image_tree_skipped_dirs[i]; i++)
                if (strcmp(image_tree_skipped_dirs[i], name) == 0)
                        return true;
        return false;
}

static unsigned char entry_type(int dir_fd, const struct dirent *entry) {
        struct stat st;

        if (entry->d_type != DT_UNKNOWN)
                return entry->d_type;
        if (fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return DT_UNKNOWN;
        return S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
}

/* Lists one directory: files into the tree, subdirectories onto the stack. */
static int walk_dir(struct walk *w, const char *path, dev_t parent_dev) {
        struct image_tree *tree = w->tree;
        struct dirent *entry;
        struct stat st;
        struct statfs fs;
        size_t path_len = strlen(path);
        DIR *dir;
        int fd, ret = 0;

        fd = open_beneath(tree->root_fd, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return vm_error(fd, "/%s: cannot open the directory: %s", path, strerror(-fd));
        if (fstat(fd, &st) < 0) {
                ret = vm_error(-errno, "/%s: cannot stat the directory: %m", path);
                close(fd);
                return ret;
        }
        if (st.st_dev != parent_dev && fstatfs(fd, &fs) == 0 && image_tree_unmeasured_fs((unsigned long)fs.f_type)) {
                log_debug("/%s: a mount of a filesystem IMA does not measure (magic 0x%lx), skipped", path,
                          (unsigned long)fs.f_type);
                tree->skipped_mounts++;
                close(fd);
                return 0;
        }
        dir = fdopendir(fd);
        if (!dir) {
                ret = vm_error(-errno, "/%s: cannot read the directory: %m", path);
                close(fd);
                return ret;
        }
        for (;;) {
                size_t name_len;
                char *child;
                unsigned char type;

                errno = 0;
                entry = readdir(dir);
                if (!entry) {
                        if (errno)
                                ret = vm_error(-errno, "/%s: cannot read the directory: %m", path);
                        break;
                }
                if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                        continue;
                type = entry_type(dirfd(dir), entry);
                if (type == DT_LNK) {
                        tree->symlinks++;
                        continue;
                }
                if (type != DT_REG && type != DT_DIR) {
                        tree->special++;
                        continue;
                }
                if (type == DT_DIR && path_len == 0 && skipped_top_dir(entry->d_name)) {
                        tree->skipped_dirs++;
                        continue;
                }
                name_len = strlen(entry->d_name);
                if (path_len + 1 + name_len + 1 > IMAGE_TREE_NAME_MAX) {
                        ret = vm_error(-ENAMETOOLONG, "a name longer than IMA's %d bytes: /%.120s.../%.64s",
                                       IMAGE_TREE_NAME_MAX, path, entry->d_name);
                        break;
                }
                child = malloc(path_len + 1 + name_len + 1);
                if (!child) {
                        ret = -ENOMEM;
                        break;
                }
                if (path_len) {
                        memcpy(child, path, path_len);
                        child[path_len] = '/';
                        memcpy(child + path_len + 1, entry->d_name, name_len + 1);
                } else
                        memcpy(child, entry->d_name, name_len + 1);
                if (type == DT_DIR) {
                        if (!utf8_valid(child, strlen(child))) {
                                log_warning("/%s: the name is not UTF-8, the directory is left out", child);
                                tree->not_utf8++;
                                free(child);
                                continue;
                        }
                        ret = push_dir(w, child, st.st_dev);
                } else
                        ret = add_file(w, child);
                if (ret < 0)
                        break;
        }
        closedir(dir);
        return ret;
}

int image_tree_walk(const char *root, struct python_regex *const *excludes, size_t exclude_count,
                    struct image_tree *tree) {
        struct walk w = { .tree = tree, .excludes = excludes, .exclude_count = exclude_count };
        struct stat st;
        char *start;
        int ret;

        memset(tree, 0, sizeof(*tree));
        tree->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tree->root_fd < 0)
                return vm_error(-errno, "%s: cannot open the image tree: %m", root);
        if (fstat(tree->root_fd, &st) < 0)
                return vm_error(-errno, "%s: cannot stat the image tree: %m", root);
        start = strdup("");
        if (!start)
                return -ENOMEM;
        ret = push_dir(&w, start, st.st_dev);
        while (ret >= 0 && w.depth > 0) {
                struct pending_dir dir = w.stack[--w.depth];

                ret = walk_dir(&w, dir.path, dir.parent_dev);
                free(dir.path);
        }
        while (w.depth > 0)
                free(w.stack[--w.depth].path);
        free(w.stack);
        return ret;
}

void image_tree_done(struct image_tree *tree) {
        for (size_t i = 0; i < tree->count; i++) {
                free(tree->files[i].path);
                free(tree->files[i].name);
        }
        free(tree->files);
        if (tree->root_fd >= 0)
                close(tree->root_fd);
        memset(tree, 0, sizeof(*tree));
        tree->root_fd = -1;
}
