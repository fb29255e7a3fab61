#include "policy/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define COMPONENT_MAX 255 /* NAME_MAX */

static atomic_bool openat2_missing;

int open_beneath_walk(int root_fd, const char *path, int flags) {
        _cleanup_(closep) int dir = -1;
        const char *p = path;
        char name[COMPONENT_MAX + 1];

        while (*p == '/')
                p++;
        dir = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        for (;;) {
                const char *end = strchr(p, '/');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                int fd;

                if (len == 0 && !end) { /* the root itself */
                        fd = openat(dir, ".", flags | O_CLOEXEC);
                        return fd < 0 ? -errno : fd;
                }
                if (len > COMPONENT_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, len);
                name[len] = '\0';
                if (strcmp(name, "..") == 0)
                        return -EXDEV;
                if (!end) {
                        fd = openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW);
                        return fd < 0 ? -errno : fd;
                }
                fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                close(dir);
                dir = fd;
                p = end + 1;
                while (*p == '/')
                        p++;
        }
}

int open_beneath(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        if (!atomic_load_explicit(&openat2_missing, memory_order_relaxed)) {
                fd = syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                /* ENOSYS: a kernel before 5.6; EPERM: a seccomp filter that does not know it */
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                atomic_store_explicit(&openat2_missing, true, memory_order_relaxed);
        }
        return open_beneath_walk(root_fd, path, flags);
}
