#include "agent/ima_source.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"

#define READ_CHUNK (256 * 1024)

void ima_source_init(struct ima_source *src, const char *path) {
        memset(src, 0, sizeof(*src));
        snprintf(src->path, sizeof(src->path), "%s", path);
        src->fd = -1;
}

static void ima_source_reset(struct ima_source *src) {
        if (src->fd >= 0)
                close(src->fd);
        src->fd = -1;
        src->entries = src->offset = src->tail_entry = 0;
        src->ncheckpoints = src->tail_size = src->pending = 0;
}

void ima_source_done(struct ima_source *src) {
        ima_source_reset(src);
        free(src->checkpoints);
        free(src->tail);
        memset(src, 0, sizeof(*src));
        src->fd = -1;
}

static int tail_reserve(struct ima_source *src, size_t more) {
        size_t need = src->tail_size + more, cap = src->tail_cap ? src->tail_cap : 65536;
        char *grown;

        if (need <= src->tail_cap)
                return 0;
        while (cap < need)
                cap *= 2;
        grown = realloc(src->tail, cap);
        if (!grown)
                return -ENOMEM;
        src->tail = grown, src->tail_cap = cap;
        return 0;
}

static int checkpoint_add(struct ima_source *src, uint64_t offset) {
        if (src->ncheckpoints == src->checkpoints_cap) {
                size_t cap = src->checkpoints_cap ? 2 * src->checkpoints_cap : 64;
                uint64_t *grown = realloc(src->checkpoints, cap * sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                src->checkpoints = grown, src->checkpoints_cap = cap;
        }
        src->checkpoints[src->ncheckpoints++] = offset;
        return 0;
}

/* Drops the tail's text before entry `keep_from` (or more, to stay under IMA_TAIL_MAX). */
static void tail_trim(struct ima_source *src, uint64_t keep_from) {
        size_t cut = 0;

        while (src->tail_entry < keep_from || src->tail_size - cut - src->pending > IMA_TAIL_MAX) {
                char *nl = memchr(src->tail + cut, '\n', src->tail_size - src->pending - cut);

                if (!nl)
                        break;
                cut = (size_t)(nl - src->tail) + 1;
                src->tail_entry++;
        }
        memmove(src->tail, src->tail + cut, src->tail_size - cut);
        src->tail_size -= cut;
        /* after a first read of a long list, give the memory back: serving stays small */
        if (src->tail_cap > 4 * IMA_TAIL_MAX && src->tail_size < IMA_TAIL_MAX) {
                char *smaller = realloc(src->tail, 2 * IMA_TAIL_MAX);

                if (smaller)
                        src->tail = smaller, src->tail_cap = 2 * IMA_TAIL_MAX;
        }
}

/* securityfs (SECURITYFS_MAGIC, linux/magic.h), where the kernel's IMA list lives */
#define SECURITYFS_MAGIC_NUMBER 0x73636673

static bool ima_source_sized_by_kernel(int fd) {
        struct statfs fs;

        return fstatfs(fd, &fs) == 0 && fs.f_type == SECURITYFS_MAGIC_NUMBER;
}

/* Reads what was appended since the last call: complete lines are counted and kept. */
static int ima_source_refresh(struct ima_source *src) {
        struct stat st;

        if (src->fd < 0) {
                src->fd = open(src->path, O_RDONLY | O_CLOEXEC);
                if (src->fd < 0)
                        return errno == ENOENT ? -ENOENT : vm_error(-errno, "%s: cannot open: %m", src->path);
        }
        /* a regular file (tests, a copy) that shrank was replaced: start over. securityfs' list
         * says it is a regular file of size 0 whatever it holds: its size says nothing */
        if (fstat(src->fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < src->offset + src->pending &&
            !ima_source_sized_by_kernel(src->fd)) {
                log_info("%s: the list shrank (new boot?): reading it from the start", src->path);
                ima_source_reset(src);
                return ima_source_refresh(src);
        }
        for (;;) {
                ssize_t n;
                size_t scan_from;

                if (tail_reserve(src, READ_CHUNK) < 0)
                        return -ENOMEM;
                n = read(src->fd, src->tail + src->tail_size, READ_CHUNK);
                if (n < 0)
                        return vm_error(-errno, "%s: cannot read: %m", src->path);
                if (n == 0)
                        return 0;
                scan_from = src->tail_size - src->pending;
                src->tail_size += (size_t)n;
                src->pending += (size_t)n;
                for (char *p = src->tail + scan_from, *end = src->tail + src->tail_size;
                     (p = memchr(p, '\n', (size_t)(end - p))); p++) {
                        size_t line = (size_t)(p - (src->tail + src->tail_size - src->pending)) + 1;

                        if (src->entries % IMA_CHECKPOINT_EVERY == 0 && checkpoint_add(src, src->offset) < 0)
                                return -ENOMEM;
                        src->entries++;
                        src->offset += line;
                        src->pending -= line;
                }
                if (src->tail_size - src->pending > IMA_TAIL_MAX)
                        tail_trim(src, src->tail_entry);
        }
}

/* Entries [from, end) re-read from the file: for a `from` older than the kept tail. */
static int read_from_checkpoint(struct ima_source *src, uint64_t from, char **text, size_t *size) {
        _cleanup_(closep) int fd = open(src->path, O_RDONLY | O_CLOEXEC);
        uint64_t entry = from / IMA_CHECKPOINT_EVERY * IMA_CHECKPOINT_EVERY;
        uint64_t want = src->offset - src->checkpoints[from / IMA_CHECKPOINT_EVERY];
        char *buf, *p;
        size_t got = 0;

        if (fd < 0)
                return vm_error(-errno, "%s: cannot open: %m", src->path);
        if (want > IMA_ANSWER_MAX)
                return vm_error(-EFBIG, "%s: %llu bytes from entry %llu exceed %u", src->path,
                                (unsigned long long)want, (unsigned long long)from, IMA_ANSWER_MAX);
        if (lseek(fd, (off_t)src->checkpoints[from / IMA_CHECKPOINT_EVERY], SEEK_SET) < 0)
                return vm_error(-errno, "%s: cannot seek: %m", src->path);
        buf = malloc(want + 1);
        if (!buf)
                return -ENOMEM;
        while (got < want) {
                ssize_t n = read(fd, buf + got, want - got);

                if (n <= 0) {
                        free(buf);
                        return vm_error(-EIO, "%s: changed while read", src->path);
                }
                got += (size_t)n;
        }
        for (p = buf; entry < from; entry++) {
                char *nl = memchr(p, '\n', (size_t)(buf + got - p));

                if (!nl) {
                        free(buf);
                        return vm_error(-EIO, "%s: changed while read", src->path);
                }
                p = nl + 1;
        }
        *size = (size_t)(buf + got - p);
        memmove(buf, p, *size);
        buf[*size] = '\0';
        *text = buf;
        return 0;
}

int ima_source_read(struct ima_source *src, uint64_t from, char **text, size_t *size, uint64_t *start) {
        size_t complete, skip = 0;
        uint64_t entry;
        int ret;

        ret = ima_source_refresh(src);
        if (ret < 0)
                return ret;
        /* docs/protocol.md §2: an entry beyond the end means the list was reset (a reboot): answer
         * from 0 */
        if (from > src->entries)
                from = 0;
        *start = from;
        if (from < src->tail_entry)
                return read_from_checkpoint(src, from, text, size);

        complete = src->tail_size - src->pending;
        for (entry = src->tail_entry; entry < from; entry++)
                skip = (size_t)((char *)memchr(src->tail + skip, '\n', complete - skip) - src->tail) + 1;
        *size = complete - skip;
        *text = malloc(*size + 1);
        if (!*text)
                return -ENOMEM;
        memcpy(*text, src->tail + skip, *size);
        (*text)[*size] = '\0';
        /* the verifier asks from `from` on next time, or later: the text before it is not needed */
        tail_trim(src, from);
        return 0;
}

int ima_source_count(struct ima_source *src, uint64_t *count) {
        int ret = ima_source_refresh(src);

        if (ret < 0)
                return ret;
        *count = src->entries;
        return 0;
}
