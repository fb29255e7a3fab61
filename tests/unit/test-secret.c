/* secret: the one type for secret bytes, its size carried, a zero byte after them, freed (and
 * wiped) by its cleanup. */
#include "tests/unit/unit.h"

#include <openssl/crypto.h>

#include "lib/secret.h"

static void check_new(void) {
        _cleanup_(secret_freep) struct secret *s = secret_new(48);
        _cleanup_(secret_freep) struct secret *empty = secret_new(0);
        struct secret *none = NULL;

        assert_non_null(s);
        assert_int_equal(s->size, 48);
        for (size_t i = 0; i <= s->size; i++)
                assert_int_equal(s->data[i], 0);
        assert_non_null(empty);
        assert_int_equal(empty->size, 0);
        assert_int_equal(empty->data[0], 0);
        assert_null(secret_new(SIZE_MAX));
        secret_freep(&none); /* NULL is fine */
        secret_free(NULL);
}

static void check_copy(void) {
        _cleanup_(secret_freep) struct secret *s = secret_new_copy("passphrase", 10);
        struct secret *taken;

        assert_non_null(s);
        assert_int_equal(s->size, 10);
        assert_string_equal((const char *)s->data, "passphrase"); /* the zero byte after the bytes */
        taken = TAKE_PTR(s);
        assert_null(s);
        secret_free(taken);
}

static void test_in_plain_heap(void **state) {
        check_new();
        check_copy();
}

static void test_in_secure_heap(void **state) {
        _cleanup_(secret_freep) struct secret *s = NULL;
        uint8_t *data;

        if (!CRYPTO_secure_malloc_initialized())
                assert_int_equal(CRYPTO_secure_malloc_init(64 * 1024, 32), 1);
        check_new();
        check_copy();
        s = secret_new_copy("K", 1);
        assert_non_null(s);
        assert_true(CRYPTO_secure_allocated(s->data));
        /* the older interface's hand-over: the bytes stay in the secure heap */
        data = secret_take_data(TAKE_PTR(s));
        assert_true(CRYPTO_secure_allocated(data));
        assert_int_equal(data[0], 'K');
        OPENSSL_secure_clear_free(data, 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_in_plain_heap),
                cmocka_unit_test(test_in_secure_heap),
        };

        return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
