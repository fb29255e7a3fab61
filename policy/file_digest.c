#include "policy/file_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "policy/beneath.h"

int file_hasher_init(struct file_hasher *h, TPM2_ALG_ID alg) {
        const EVP_MD *md = hashalg_md(alg);

        memset(h, 0, sizeof(*h));
        if (!md)
                return vm_error(-EINVAL, "no hash algorithm 0x%04x", alg);
        /* fetched once: an implicit fetch on every file's init costs more than hashing a small
         * file does */
        h->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(md), NULL);
        h->ctx = EVP_MD_CTX_new();
        h->buf = malloc(FILE_DIGEST_BUFFER);
        h->digest_size = hashalg_size(alg);
        if (!h->md || !h->ctx || !h->buf) {
                file_hasher_done(h);
                return -ENOMEM;
        }
        return 0;
}

void file_hasher_done(struct file_hasher *h) {
        EVP_MD_free(h->md);
        EVP_MD_CTX_free(h->ctx);
        free(h->buf);
        memset(h, 0, sizeof(*h));
}

/* `shown` is the name for details: "/path" inside a tree, or the path given. */
static int digest_fd(struct file_hasher *h, int fd, const char *prefix, const char *shown, uint8_t *digest) {
        struct stat st;
        off_t left;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "%s%s: cannot stat: %m", prefix, shown);
        if (!S_ISREG(st.st_mode))
                return vm_error(-EINVAL, "%s%s: not a regular file (any more)", prefix, shown);
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
                return vm_error(-EIO, "%s%s: cannot start the digest", prefix, shown);
        for (left = st.st_size; left > 0; left -= n) {
                n = read(fd, h->buf, left < (off_t)FILE_DIGEST_BUFFER ? (size_t)left : FILE_DIGEST_BUFFER);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n < 0)
                        return vm_error(-errno, "%s%s: cannot read: %m", prefix, shown);
                if (n == 0)
                        return vm_error(-ESTALE, "%s%s: shrank while it was read (%lld of %lld bytes)", prefix, shown,
                                        (long long)(st.st_size - left), (long long)st.st_size);
                if (EVP_DigestUpdate(h->ctx, h->buf, (size_t)n) != 1)
                        return vm_error(-EIO, "%s%s: cannot hash", prefix, shown);
        }
        do
                n = read(fd, h->buf, 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return vm_error(-errno, "%s%s: cannot read: %m", prefix, shown);
        if (n > 0)
                return vm_error(-ESTALE, "%s%s: grew while it was read (beyond %lld bytes)", prefix, shown,
                                (long long)st.st_size);
        if (EVP_DigestFinal_ex(h->ctx, digest, NULL) != 1)
                return vm_error(-EIO, "%s%s: cannot finish the digest", prefix, shown);
        return 0;
}

int file_hasher_digest_beneath(struct file_hasher *h, int root_fd, const char *path, uint8_t *digest) {
        /* O_NONBLOCK: a FIFO put where the walk saw a file must not block the open (it then
         * fails as not regular); O_NOCTTY for a terminal device in the same place */
        _cleanup_(closep) int fd = open_beneath(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);

        if (fd == -ENOENT)
                return -ENOENT;
        if (fd == -ELOOP)
                return vm_error(-ELOOP, "/%s: a symlink on the way (not followed)", path);
        if (fd < 0)
                return vm_error(fd, "/%s: cannot open: %s", path, strerror(-fd));
        return digest_fd(h, fd, "/", path, digest);
}

int file_hasher_digest_path(struct file_hasher *h, const char *path, uint8_t *digest) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

        if (fd < 0)
                return vm_error(-errno, "%s: cannot open: %m", path);
        return digest_fd(h, fd, "", path, digest);
}
