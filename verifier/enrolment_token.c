#include "verifier/enrolment_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/secret.h"

bool enrolment_token_form_ok(const char *token, size_t size) {
        if (size < ENROLMENT_TOKEN_MIN || size > ENROLMENT_TOKEN_MAX)
                return false;
        for (size_t i = 0; i < size; i++)
                if (token[i] < 0x21 || token[i] > 0x7e)
                        return false;
        return true;
}

int enrolment_token_hash(const char *token, size_t size, char out[ENROLMENT_TOKEN_SHA256_HEX]) {
        unsigned char digest[32];
        unsigned digest_size = 0;

        if (!EVP_Digest(token, size, digest, &digest_size, EVP_sha256(), NULL) || digest_size != sizeof(digest))
                return vm_error(-EIO, "cannot hash the enrolment token");
        for (size_t i = 0; i < sizeof(digest); i++)
                snprintf(out + 2 * i, 3, "%02x", digest[i]);
        return 0;
}

/* 32 random bytes in base64url without padding (RFC 4648 §5): 43 characters that need no
 * quoting in YAML, JSON or a shell. */
static int token_generate(struct secret *token) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        uint8_t bytes[33] = { 0 }; /* 32 random, one zero pad so that the last group has 3 */
        size_t n = 0;

        if (RAND_priv_bytes(bytes, 32) != 1)
                return vm_error(-EIO, "no random bytes for the enrolment token");
        for (size_t i = 0; i < sizeof(bytes); i += 3) {
                uint32_t group = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];

                for (int k = 3; k >= 0 && n < ENROLMENT_TOKEN_GENERATED; k--)
                        token->data[n++] = (uint8_t)alphabet[(group >> (6 * k)) & 63];
        }
        OPENSSL_cleanse(bytes, sizeof(bytes));
        token->data[n] = '\0';
        return 0;
}

static int token_write(const char *path, struct secret *token) {
        _cleanup_(closep) int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        int ret = token_generate(token);

        if (fd < 0)
                return vm_error(-errno, "%s: cannot create the token file: %s", path, strerror(errno));
        if (ret >= 0) {
                token->data[ENROLMENT_TOKEN_GENERATED] = '\n';
                if (write(fd, token->data, ENROLMENT_TOKEN_GENERATED + 1) != ENROLMENT_TOKEN_GENERATED + 1 || fsync(fd) < 0)
                        ret = vm_error(-EIO, "%s: cannot write the token file: %s", path, strerror(errno));
                token->data[ENROLMENT_TOKEN_GENERATED] = '\0';
        }
        if (ret < 0)
                unlink(path);
        return ret;
}

static int token_read(const char *path, struct secret *token, size_t *size) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return vm_error(-errno, "%s: cannot open the token file: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return vm_error(-EINVAL, "%s: the token file is not a regular file", path);
        if (st.st_mode & 077)
                return vm_error(-EPERM, "%s: the token file is open to group or others (mode %04o): a token is a secret "
                                        "(chmod 600 it, and make a new token if others could read it)",
                                path, (unsigned)(st.st_mode & 07777));
        n = read(fd, token->data, token->size);
        if (n < 0)
                return vm_error(-EIO, "%s: cannot read the token file: %s", path, strerror(errno));
        *size = (size_t)n;
        if (*size > 0 && token->data[*size - 1] == '\n')
                (*size)--;
        if (*size > 0 && token->data[*size - 1] == '\r')
                (*size)--;
        if (!enrolment_token_form_ok((const char *)token->data, *size))
                return vm_error(-EINVAL, "%s: not an enrolment token: one line of %d-%d printable characters (no spaces) is "
                                         "needed",
                                path, ENROLMENT_TOKEN_MIN, ENROLMENT_TOKEN_MAX);
        return 0;
}

int enrolment_token_file(const char *path, char out[ENROLMENT_TOKEN_SHA256_HEX], bool *created) {
        /* room for the longest token, its line end and one byte more: a longer file is refused */
        _cleanup_(secret_freep) struct secret *token = secret_new(ENROLMENT_TOKEN_MAX + 3);
        size_t size = ENROLMENT_TOKEN_GENERATED;
        struct stat st;
        int ret;

        if (!token)
                return -ENOMEM;
        *created = lstat(path, &st) < 0 && errno == ENOENT;
        ret = *created ? token_write(path, token) : token_read(path, token, &size);
        if (ret >= 0)
                ret = enrolment_token_hash((const char *)token->data, size, out);
        return ret;
}
