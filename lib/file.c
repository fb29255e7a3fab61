#include "file.h"

#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "error.h"

int file_read_all(const char *path, size_t max, char **data, size_t *size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char *buf;
        size_t n;

        if (!f)
                return errno == ENOENT ? -ENOENT : vm_error(-errno, "%s: cannot open: %m", path);
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, max + 1, f);
        if (ferror(f)) {
                free(buf);
                return vm_error(-EIO, "%s: cannot read", path);
        }
        if (n > max) {
                free(buf);
                return vm_error(-EFBIG, "%s: larger than %zu bytes", path, max);
        }
        buf[n] = '\0';
        *data = buf;
        *size = n;
        return 0;
}
