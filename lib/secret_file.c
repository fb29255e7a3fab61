#include "secret_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "secret.h"

int secret_heap_setup(size_t size) {
        /* CRYPTO_secure_malloc_init's answer: 1 set up, 2 set up but not locked, 0 not made */
        static int answer = -1;

        if (answer < 0)
                answer = CRYPTO_secure_malloc_init(size, 32);
        if (answer == 1)
                return 0;
        if (answer == 2)
                return vm_error(-EPERM, "OpenSSL's secure heap could not be locked in memory (mlock) or kept out of "
                                        "core dumps: raise the memory lock limit (LimitMEMLOCK=, ulimit -l) to at "
                                        "least its size or grant CAP_IPC_LOCK");
        return vm_error(-ENOMEM, "OpenSSL's secure heap could not be set up");
}

/* The whole of `fd` (st: its fstat) in the secure heap; `name` for the detail. */
static int read_whole(int fd, const char *name, const struct stat *st, size_t max, uint8_t **data, size_t *size,
                      size_t *alloc_size) {
        uint8_t *buf;
        size_t cap, used = 0;
        ssize_t n = 0;
        char extra;

        if (S_ISDIR(st->st_mode))
                return vm_error(-EINVAL, "%s: a directory", name);
        if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > max)
                return vm_error(-EFBIG, "%s: larger than %zu bytes", name, max);
        /* a regular file as large as it says; a pipe (a tenant's "<(...)") up to `max` */
        cap = S_ISREG(st->st_mode) ? (size_t)st->st_size : max;
        buf = OPENSSL_secure_malloc(cap + 1);
        if (!buf)
                return vm_error(-ENOMEM, "%s: no room in the secure heap for %zu bytes", name, cap + 1);
        while (used < cap) {
                n = read(fd, buf + used, cap - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                used += (size_t)n;
        }
        /* nothing may be left: a regular file must not have grown while it was read */
        while (n >= 0 && (n = read(fd, &extra, 1)) < 0 && errno == EINTR)
                ;
        if (n != 0 || (S_ISREG(st->st_mode) && used != cap)) {
                OPENSSL_secure_clear_free(buf, cap + 1);
                return n > 0 && !S_ISREG(st->st_mode) ? vm_error(-EFBIG, "%s: larger than %zu bytes", name, max)
                                                      : vm_error(-EIO, "%s: cannot read it whole (did it change?)", name);
        }
        buf[used] = '\0';
        *data = buf;
        *size = used;
        *alloc_size = cap + 1;
        return 0;
}

int secret_file_read(const char *path, size_t max, uint8_t **data, size_t *size, size_t *alloc_size) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return errno == ENOENT ? vm_error(-ENOENT, "%s: no such file", path)
                                       : vm_error(-errno, "%s: cannot open: %m", path);
        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "%s: cannot stat: %m", path);
        return read_whole(fd, path, &st, max, data, size, alloc_size);
}

int secret_fd_read(int fd, const char *name, size_t max, struct secret **out) {
        uint8_t *data = NULL;
        size_t size, alloc_size;
        struct stat st;
        int ret;

        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "%s: cannot stat: %m", name);
        /* a regular file is read as a pipe is: from where the descriptor stands, up to `max` */
        if (S_ISREG(st.st_mode))
                st.st_mode = S_IFIFO;
        ret = read_whole(fd, name, &st, max, &data, &size, &alloc_size);
        if (ret < 0)
                return ret;
        *out = secret_new_copy(data, size);
        OPENSSL_secure_clear_free(data, alloc_size);
        return *out ? 0 : vm_error(-ENOMEM, "%s: no room in the secure heap for %zu bytes", name, size + 1);
}

/* A key that asks for a passphrase is refused: a service has no one to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *user) {
        return -1;
}

int secret_private_key_load(const char *path, EVP_PKEY **out) {
        uint8_t *pem = NULL;
        size_t size, alloc_size;
        BIO *bio;
        int ret;

        ret = secret_file_read(path, SECRET_PEM_MAX, &pem, &size, &alloc_size);
        if (ret < 0)
                return ret;
        bio = BIO_new_mem_buf(pem, (int)size);
        *out = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
        BIO_free(bio);
        OPENSSL_secure_clear_free(pem, alloc_size);
        ERR_clear_error();
        if (!*out)
                return vm_error(-EINVAL, "%s: not an unencrypted PEM private key", path);
        return 0;
}
