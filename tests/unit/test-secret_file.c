/* lib/secret_file.c: OpenSSL's secure heap, and secret files read straight into it (the registrar's
 * TLS key), never through stdio's buffer, which is freed without being wiped. Each test works
 * in a fresh directory under /tmp. */
#include "tests/unit/unit.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/secret_file.h"

struct fixture {
        char dir[64];
        char key[128], other[128];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/vmattest-secret.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
        snprintf(f->other, sizeof(f->other), "%s/other", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        unlink(f->key);
        unlink(f->other);
        rmdir(f->dir);
        free(f);
        return 0;
}

static void write_file(const char *path, const void *data, size_t size) {
        FILE *file = fopen(path, "wb");

        assert_non_null(file);
        assert_int_equal(fwrite(data, 1, size, file), size);
        fclose(file);
}

/* A fresh P-256 key, written to `path` as PEM (encrypted under `passphrase` unless NULL). */
static EVP_PKEY *write_key(const char *path, const char *passphrase) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        FILE *file = fopen(path, "w");

        assert_non_null(key);
        assert_non_null(file);
        assert_int_equal(PEM_write_PrivateKey(file, key, passphrase ? EVP_aes_256_cbc() : NULL,
                                              (const unsigned char *)passphrase, passphrase ? (int)strlen(passphrase) : 0,
                                              NULL, NULL),
                         1);
        fclose(file);
        return key;
}

static void test_heap_is_set_up_and_locked(void **state) {
        /* the tests run as root, or with a memory lock limit of the usual 8 MiB */
        assert_int_equal(secret_heap_setup(64 * 1024), 0);
        assert_int_equal(CRYPTO_secure_malloc_initialized(), 1);
        /* asked again, the same answer */
        assert_int_equal(secret_heap_setup(1024), 0);
}

static void test_file_read_into_the_secure_heap(void **state) {
        struct fixture *f = *state;
        static const char text[] = "-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n";
        uint8_t *data = NULL;
        size_t size, alloc_size;

        assert_int_equal(secret_heap_setup(64 * 1024), 0);
        write_file(f->key, text, sizeof(text) - 1);
        assert_int_equal(secret_file_read(f->key, SECRET_PEM_MAX, &data, &size, &alloc_size), 0);
        assert_int_equal(size, sizeof(text) - 1);
        assert_int_equal(alloc_size, size + 1);
        assert_memory_equal(data, text, size);
        assert_int_equal(data[size], 0);
        /* locked memory that OPENSSL_secure_clear_free wipes, not the ordinary heap */
        assert_int_equal(CRYPTO_secure_allocated(data), 1);
        OPENSSL_secure_clear_free(data, alloc_size);
}

/* A pipe (what `add --payload <(...)` gives): read up to the limit, refused beyond it */
static void test_file_read_from_a_pipe(void **state) {
        uint8_t *data = NULL;
        size_t size, alloc_size;
        char path[64];
        int fds[2];

        assert_int_equal(secret_heap_setup(64 * 1024), 0);
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], "key bytes", 9), 9);
        close(fds[1]);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
        assert_int_equal(secret_file_read(path, 64, &data, &size, &alloc_size), 0);
        close(fds[0]);
        assert_int_equal(size, 9);
        assert_memory_equal(data, "key bytes", 10);
        assert_int_equal(CRYPTO_secure_allocated(data), 1);
        OPENSSL_secure_clear_free(data, alloc_size);

        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], "0123456789", 10), 10);
        close(fds[1]);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
        assert_error(secret_file_read(path, 9, &data, &size, &alloc_size), -EFBIG, "larger than 9 bytes");
        close(fds[0]);
}

static void test_file_read_refusals(void **state) {
        struct fixture *f = *state;
        uint8_t *data = NULL;
        size_t size, alloc_size;

        assert_error(secret_file_read(f->other, 64, &data, &size, &alloc_size), -ENOENT, f->other);
        write_file(f->other, "0123456789", 10);
        assert_error(secret_file_read(f->other, 9, &data, &size, &alloc_size), -EFBIG, "larger than 9 bytes");
        assert_error(secret_file_read(f->dir, 64, &data, &size, &alloc_size), -EINVAL, "a directory");
        assert_null(data);
}

static void test_private_key_load(void **state) {
        struct fixture *f = *state;
        EVP_PKEY *written, *loaded = NULL;

        assert_int_equal(secret_heap_setup(64 * 1024), 0);
        written = write_key(f->key, NULL);
        assert_int_equal(secret_private_key_load(f->key, &loaded), 0);
        assert_int_equal(EVP_PKEY_eq(written, loaded), 1);
        EVP_PKEY_free(loaded);
        EVP_PKEY_free(written);
}

static void test_private_key_refusals(void **state) {
        struct fixture *f = *state;
        EVP_PKEY *key = NULL;
        char big[SECRET_PEM_MAX + 2];

        assert_error(secret_private_key_load(f->key, &key), -ENOENT, f->key);
        write_file(f->other, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58);
        assert_error(secret_private_key_load(f->other, &key), -EINVAL, "not an unencrypted PEM private key");
        memset(big, 'A', sizeof(big));
        write_file(f->other, big, sizeof(big));
        assert_error(secret_private_key_load(f->other, &key), -EFBIG, "larger than");
        /* an encrypted key: refused, no passphrase asked for on the terminal */
        EVP_PKEY_free(write_key(f->key, "passphrase"));
        assert_error(secret_private_key_load(f->key, &key), -EINVAL, "not an unencrypted PEM private key");
        assert_null(key);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_heap_is_set_up_and_locked),
                cmocka_unit_test_setup_teardown(test_file_read_into_the_secure_heap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_read_refusals, setup, teardown),
                cmocka_unit_test(test_file_read_from_a_pipe),
                cmocka_unit_test_setup_teardown(test_private_key_load, setup, teardown),
                cmocka_unit_test_setup_teardown(test_private_key_refusals, setup, teardown),
        };

        return cmocka_run_group_tests_name("secret_file", tests, NULL, NULL);
}
