#include "agent/state.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"

int state_dir_ensure(const struct agent_config *config) {
        struct stat st;

        if (mkdir(config->state_dir, 0700) < 0 && errno != EEXIST)
                return vm_error(-errno, "state directory %s: cannot create: %m", config->state_dir);
        if (stat(config->state_dir, &st) < 0)
                return vm_error(-errno, "state directory %s: %m", config->state_dir);
        if (!S_ISDIR(st.st_mode))
                return vm_error(-ENOTDIR, "state directory %s is not a directory", config->state_dir);
        /* the mTLS private key lives here: nobody but the owner may look in */
        if ((st.st_mode & 077) && chmod(config->state_dir, 0700) < 0)
                return vm_error(-errno, "state directory %s: cannot make it private: %m", config->state_dir);
        return 0;
}

int state_path(const struct agent_config *config, const char *name, char *out, size_t size) {
        int n = name[0] == '/' ? snprintf(out, size, "%s", name) : snprintf(out, size, "%s/%s", config->state_dir, name);

        if (n < 0 || (size_t)n >= size)
                return vm_error(-ENAMETOOLONG, "path of %s too long", name);
        return 0;
}

int state_read_text(const char *path, char *out, size_t size) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;

        if (fd < 0)
                return errno == ENOENT ? -ENOENT : vm_error(-errno, "%s: cannot open: %m", path);
        n = read(fd, out, size);
        if (n < 0)
                return vm_error(-errno, "%s: cannot read: %m", path);
        if ((size_t)n >= size)
                return vm_error(-EFBIG, "%s: longer than %zu bytes", path, size - 1);
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
        return 0;
}

int state_write_file(const char *path, const void *data, size_t size, unsigned mode) {
        return state_write_file_owned(path, data, size, mode, (uid_t)-1);
}

int state_write_file_owned(const char *path, const void *data, size_t size, unsigned mode, uid_t owner) {
        char tmp[4096];
        int fd, n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

        if (n < 0 || (size_t)n >= sizeof(tmp))
                return vm_error(-ENAMETOOLONG, "%s: path too long", path);
        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return vm_error(-errno, "%s: cannot create: %m", tmp);
        if (owner != (uid_t)-1 && fchown(fd, owner, (gid_t)-1) < 0) {
                int err = errno;

                close(fd);
                unlink(tmp);
                return vm_error(-err, "%s: cannot give it to uid %u: %s", tmp, (unsigned)owner, strerror(err));
        }
        if (write(fd, data, size) != (ssize_t)size || fsync(fd) < 0) {
                int err = errno;

                close(fd);
                unlink(tmp);
                return vm_error(-err, "%s: cannot write: %s", tmp, strerror(err));
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int err = errno;

                unlink(tmp);
                return vm_error(-err, "%s: cannot rename into place: %s", path, strerror(err));
        }
        return 0;
}
