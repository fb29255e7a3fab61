/* aead: the payload's AES-256-GCM layout, sealed and opened, and refused when altered. */
#include "tests/unit/unit.h"

#include <openssl/crypto.h>

#include "lib/aead.h"
#include "lib/encoding.h"
#include "lib/key_split.h"

static const uint8_t key[AEAD_KEY_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                            17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static void test_round_trip(void **state) {
        _cleanup_(freep) char *sealed = NULL;
        uint8_t *plain = NULL;
        size_t size;

        assert_int_equal(aead_seal(key, (const uint8_t *)"passphrase", 10, &sealed), 0);
        assert_int_equal(strlen(sealed), 4 * ((16 + 10 + 16 + 2) / 3)); /* IV || ciphertext || tag */
        assert_int_equal(aead_open(key, sealed, &plain, &size), 0);
        assert_int_equal(size, 10);
        assert_memory_equal(plain, "passphrase", 10);
        assert_int_equal(plain[size], 0);
        OPENSSL_secure_clear_free(plain, size + 1);
}

/* The agent's form: the plaintext as a secret (lib/secret.h), which carries its size. */
static void test_round_trip_secret(void **state) {
        _cleanup_(freep) char *sealed = NULL;
        _cleanup_(secret_freep) struct secret *plain = NULL;
        uint8_t other[AEAD_KEY_SIZE];

        assert_int_equal(aead_seal(key, (const uint8_t *)"passphrase", 10, &sealed), 0);
        assert_int_equal(aead_open_secret(key, sealed, &plain), 0);
        assert_int_equal(plain->size, 10);
        assert_string_equal((const char *)plain->data, "passphrase");
        memcpy(other, key, sizeof(other));
        other[31] ^= 1;
        secret_freep(&plain);
        assert_error(aead_open_secret(other, sealed, &plain), -EPERM, "does not open");
        assert_null(plain);
}

static void test_refused(void **state) {
        _cleanup_(freep) char *sealed = NULL;
        _cleanup_(freep) uint8_t *raw = NULL;
        _cleanup_(freep) char *flipped = NULL;
        uint8_t other[AEAD_KEY_SIZE], *plain = NULL;
        size_t size, raw_size;

        assert_int_equal(aead_seal(key, (const uint8_t *)"passphrase", 10, &sealed), 0);
        memcpy(other, key, sizeof(other));
        other[0] ^= 1;
        assert_error(aead_open(other, sealed, &plain, &size), -EPERM, "does not open");
        assert_int_equal(base64_decode(sealed, strlen(sealed), &raw, &raw_size), 0);
        for (size_t i = 0; i < raw_size; i++) { /* any byte altered: IV, ciphertext or tag */
                raw[i] ^= 0x80;
                flipped = base64_encode(raw, raw_size);
                assert_error(aead_open(key, flipped, &plain, &size), -EPERM, "does not open");
                free(TAKE_PTR(flipped));
                raw[i] ^= 0x80;
        }
        flipped = base64_encode(raw, 31); /* shorter than IV and tag */
        assert_error(aead_open(key, flipped, &plain, &size), -EBADMSG, "cannot hold an IV and a tag");
        assert_error(aead_open(key, "not base64!", &plain, &size), -EBADMSG, "base64");
}

/* The tenant's split: U xor V is K, and the auth_tag is HMAC-SHA384(K, agent id). */
static void test_key_split(void **state) {
        struct key_split *split = NULL;
        char tag[AUTH_TAG_HEX_SIZE];

        assert_int_equal(key_split_new("agent-1", &split), 0);
        for (size_t i = 0; i < KEY_SPLIT_SIZE; i++)
                assert_int_equal(split->u[i] ^ split->v[i], split->k[i]);
        assert_int_equal(auth_tag_compute(split->k, KEY_SPLIT_SIZE, "agent-1", tag), 0);
        assert_string_equal(tag, split->auth_tag);
        assert_memory_not_equal(split->u, split->k, KEY_SPLIT_SIZE);
        key_split_free(split);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_round_trip_secret),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_key_split),
        };
        return cmocka_run_group_tests_name("aead", tests, NULL, NULL);
}
