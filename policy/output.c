/* Writing a policy file whole or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "policy/commands.h"

int output_write(const char *path, int (*write)(FILE *out, const void *data), const void *data) {
        struct stat st;
        char *tmp;
        FILE *out;
        int fd, ret;

        if (!path || strcmp(path, "-") == 0) {
                ret = write(stdout, data);
                if (ret >= 0 && fflush(stdout) != 0)
                        ret = vm_error(-EIO, "cannot write to the standard output: %m");
                return ret;
        }
        /* /dev/null, /dev/stdout, a FIFO: written as they are; renaming a file over a device
         * node would replace it */
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                out = fopen(path, "we");
                if (!out)
                        return vm_error(-errno, "%s: cannot open: %m", path);
                ret = write(out, data);
                if (fclose(out) != 0 && ret >= 0)
                        ret = vm_error(-EIO, "%s: cannot write: %m", path);
                return ret;
        }
        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkstemp(tmp);
        if (fd < 0) {
                ret = vm_error(-errno, "%s: cannot create: %m", tmp);
                free(tmp);
                return ret;
        }
        /* a policy is no secret: readable like any configuration file */
        (void)fchmod(fd, 0644);
        out = fdopen(fd, "w");
        if (!out) {
                close(fd);
                ret = -ENOMEM;
        } else {
                ret = write(out, data);
                if (fclose(out) != 0 && ret >= 0)
                        ret = vm_error(-EIO, "%s: cannot write: %m", tmp);
        }
        if (ret >= 0 && rename(tmp, path) < 0)
                ret = vm_error(-errno, "%s: cannot rename to %s: %m", tmp, path);
        if (ret < 0)
                unlink(tmp);
        free(tmp);
        return ret;
}
