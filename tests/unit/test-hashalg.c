/* lib/hashalg.c: the hash algorithms by Keylime's names, their sizes and OpenSSL digests. */
#include "tests/unit/unit.h"

#include "lib/hashalg.h"

static void test_names_and_ids(void **state) {
        static const struct {
                const char *name;
                TPM2_ALG_ID id;
                size_t size;
        } known[] = {
                { "sha1", TPM2_ALG_SHA1, 20 },
                { "sha256", TPM2_ALG_SHA256, 32 },
                { "sha384", TPM2_ALG_SHA384, 48 },
                { "sha512", TPM2_ALG_SHA512, 64 },
        };

        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                assert_int_equal(hashalg_from_name(known[i].name), known[i].id);
                assert_string_equal(hashalg_name(known[i].id), known[i].name);
                assert_int_equal(hashalg_size(known[i].id), known[i].size);
                assert_non_null(hashalg_md(known[i].id));
                assert_int_equal(EVP_MD_get_size(hashalg_md(known[i].id)), (int)known[i].size);
        }
}

static void test_unknown(void **state) {
        /* names are exact: Keylime writes them lower-case */
        assert_int_equal(hashalg_from_name("SHA256"), TPM2_ALG_ERROR);
        assert_int_equal(hashalg_from_name("sm3_256"), TPM2_ALG_ERROR);
        assert_int_equal(hashalg_from_name(""), TPM2_ALG_ERROR);
        assert_null(hashalg_name(TPM2_ALG_SM3_256));
        assert_null(hashalg_name(TPM2_ALG_NULL));
        assert_int_equal(hashalg_size(TPM2_ALG_RSA), 0);
        assert_null(hashalg_md(TPM2_ALG_ERROR));
}

static void test_digest(void **state) {
        /* FIPS 180-2 "abc" */
        static const uint8_t abc_sha256[32] = {
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        };
        uint8_t out[64];

        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, "abc", 3, out), 0);
        assert_memory_equal(out, abc_sha256, sizeof(abc_sha256));
        assert_error(hashalg_digest(TPM2_ALG_SM3_256, "abc", 3, out), -EINVAL, "0x0012");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_and_ids),
                cmocka_unit_test(test_unknown),
                cmocka_unit_test(test_digest),
        };

        return cmocka_run_group_tests_name("hashalg", tests, NULL, NULL);
}
