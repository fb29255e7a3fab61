#include "verifier/payload_vault.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"

int payload_vault_key(const char *path, bool create, uint8_t **key) {
        uint8_t *k = OPENSSL_secure_malloc(AEAD_KEY_SIZE);
        _cleanup_(closep) int fd = -1;
        struct stat st;
        ssize_t n;

        if (!k)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT && create) {
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd >= 0 && (RAND_priv_bytes(k, AEAD_KEY_SIZE) != 1 || write(fd, k, AEAD_KEY_SIZE) != AEAD_KEY_SIZE ||
                                fsync(fd) < 0)) {
                        OPENSSL_secure_clear_free(k, AEAD_KEY_SIZE);
                        unlink(path);
                        return vm_error(-EIO, "%s: cannot write the payload vault key", path);
                }
                if (fd >= 0) {
                        log_info("created the payload vault key %s", path);
                        *key = k;
                        return 0;
                }
        }
        if (fd < 0) {
                int err = errno;

                OPENSSL_secure_clear_free(k, AEAD_KEY_SIZE);
                return vm_error(-err, "%s: cannot open the payload vault key: %s", path, strerror(err));
        }
        if (fstat(fd, &st) < 0 || (st.st_mode & 077) || st.st_uid != geteuid()) {
                OPENSSL_secure_clear_free(k, AEAD_KEY_SIZE);
                return vm_error(-EPERM, "%s: the payload vault key must be ours and private (owner only, mode 0600)", path);
        }
        n = read(fd, k, AEAD_KEY_SIZE);
        if (n != AEAD_KEY_SIZE) {
                OPENSSL_secure_clear_free(k, AEAD_KEY_SIZE);
                return vm_error(-EBADMSG, "%s: not a %d-byte payload vault key", path, AEAD_KEY_SIZE);
        }
        *key = k;
        return 0;
}

int payload_vault_seal(const char *path, const uint8_t *plain, size_t n, char **sealed) {
        uint8_t *vault = NULL;
        int ret = payload_vault_key(path, true, &vault);

        if (ret >= 0)
                ret = aead_seal(vault, plain, n, sealed);
        if (vault)
                OPENSSL_secure_clear_free(vault, AEAD_KEY_SIZE);
        return ret;
}
