/* agent/ak.c, ak_check_public(): what a persistent handle must hold to be taken for the AK.
 * The reference is the AK tpm2_createak made (tests/unit/vectors/ak.pub). */
#include "tests/unit/unit.h"

#include "agent/ak.h"
#include "lib/tpm2b.h"

static void load_ak(TPM2B_PUBLIC *ak) {
        uint8_t data[sizeof(TPM2B_PUBLIC)];
        size_t size = load_vector(VECTOR("ak.pub"), data, sizeof(data));

        assert_int_equal(tpm2b_public_unmarshal(data, size, ak), 0);
}

static void test_accepts_tpm2_tools_ak(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_int_equal(ak_check_public(&ak, TPM2_ALG_SHA256), 0);
}

static void test_accepts_other_configured_hash(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA384;
        assert_int_equal(ak_check_public(&ak, TPM2_ALG_SHA384), 0);
}

/* The signature's hash must be the configured tpm_hash_alg (docs/protocol.md §2). */
static void test_rejects_scheme_hash_mismatch(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_error(ak_check_public(&ak, TPM2_ALG_SHA384), -EINVAL, "signing scheme is not RSASSA with sha384");
        ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA384;
        assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, "signing scheme is not RSASSA with sha256");
        ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA1;
        assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, "not RSASSA with sha256");
}

static void test_rejects_other_schemes(void **state) {
        static const TPM2_ALG_ID schemes[] = { TPM2_ALG_RSAPSS, TPM2_ALG_NULL, TPM2_ALG_RSAES, TPM2_ALG_OAEP };

        for (size_t i = 0; i < ELEMENTSOF(schemes); i++) {
                TPM2B_PUBLIC ak;

                load_ak(&ak);
                ak.publicArea.parameters.rsaDetail.scheme.scheme = schemes[i];
                assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, "signing scheme is not RSASSA with sha256");
        }
}

/* A key that is not restricted would sign anything, a forged TPMS_ATTEST included. */
static void test_rejects_unrestricted(void **state) {
        TPM2B_PUBLIC ak;
        char word[80];

        load_ak(&ak);
        ak.publicArea.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
        snprintf(word, sizeof(word), "attributes 0x%08x are not those of a restricted signing key",
                 ak.publicArea.objectAttributes);
        assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, word);
}

static void test_rejects_decrypt(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.objectAttributes |= TPMA_OBJECT_DECRYPT;
        assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, "not those of a restricted signing key");
}

/* Each attribute of the AK template is required, not only restricted. userWithAuth has its
 * own reason: the agent authorizes its quotes with the AK's empty password. */
static void test_rejects_each_missing_attribute(void **state) {
        static const struct {
                TPMA_OBJECT attribute;
                const char *word;
        } required[] = {
                { TPMA_OBJECT_FIXEDTPM, "not those of a restricted signing key" },
                { TPMA_OBJECT_FIXEDPARENT, "not those of a restricted signing key" },
                { TPMA_OBJECT_SENSITIVEDATAORIGIN, "not those of a restricted signing key" },
                { TPMA_OBJECT_RESTRICTED, "not those of a restricted signing key" },
                { TPMA_OBJECT_SIGN_ENCRYPT, "not those of a restricted signing key" },
                { TPMA_OBJECT_USERWITHAUTH, "it needs userWithAuth" },
        };

        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                TPM2B_PUBLIC ak;

                load_ak(&ak);
                ak.publicArea.objectAttributes &= ~required[i].attribute;
                assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, required[i].word);
        }
}

static void test_rejects_ecc_and_other_types(void **state) {
        static const struct {
                TPM2_ALG_ID type;
                const char *word;
        } types[] = {
                { TPM2_ALG_ECC, "not an RSA-2048 key (type 0x0023)" },
                { TPM2_ALG_KEYEDHASH, "not an RSA-2048 key (type 0x0008)" },
                { TPM2_ALG_ERROR, "not an RSA-2048 key (type 0x0000)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                TPM2B_PUBLIC ak;

                load_ak(&ak);
                ak.publicArea.type = types[i].type;
                assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, types[i].word);
        }
}

/* ak.h promises RSA-2048: a 3072-bit RSA key at the handle is not the agent's AK */
static void test_rejects_other_key_sizes(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.keyBits = 3072;
        assert_error(ak_check_public(&ak, TPM2_ALG_SHA256), -EINVAL, "not an RSA-2048 key");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accepts_tpm2_tools_ak),
                cmocka_unit_test(test_rejects_other_key_sizes),
                cmocka_unit_test(test_accepts_other_configured_hash),
                cmocka_unit_test(test_rejects_scheme_hash_mismatch),
                cmocka_unit_test(test_rejects_other_schemes),
                cmocka_unit_test(test_rejects_unrestricted),
                cmocka_unit_test(test_rejects_decrypt),
                cmocka_unit_test(test_rejects_each_missing_attribute),
                cmocka_unit_test(test_rejects_ecc_and_other_types),
        };

        return cmocka_run_group_tests_name("ak", tests, NULL, NULL);
}
