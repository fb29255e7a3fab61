/* agent/ak.c, ak_check_public(): what a persistent handle must hold to be taken for the AK of
 * tpm_signing_alg's kind. The RSA reference is the AK tpm2_createak made (tests/unit/vectors/
 * ak.pub); the ECC one is go-tpm-tools' AKTemplateECC, the template of GCE's ECC AK. */
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
        assert_int_equal(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), 0);
}

static void test_accepts_other_configured_hash(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA384;
        assert_int_equal(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA384), 0);
}

/* The signature's hash must be the configured tpm_hash_alg (docs/protocol.md §2). */
static void test_rejects_scheme_hash_mismatch(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA384), -EINVAL, "signing scheme is not RSASSA with sha384");
        ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA384;
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, "signing scheme is not RSASSA with sha256");
        ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA1;
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, "not RSASSA with sha256");
}

static void test_rejects_other_schemes(void **state) {
        static const TPM2_ALG_ID schemes[] = { TPM2_ALG_RSAPSS, TPM2_ALG_NULL, TPM2_ALG_RSAES, TPM2_ALG_OAEP };

        for (size_t i = 0; i < ELEMENTSOF(schemes); i++) {
                TPM2B_PUBLIC ak;

                load_ak(&ak);
                ak.publicArea.parameters.rsaDetail.scheme.scheme = schemes[i];
                assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, "signing scheme is not RSASSA with sha256");
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
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, word);
}

static void test_rejects_decrypt(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.objectAttributes |= TPMA_OBJECT_DECRYPT;
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, "not those of a restricted signing key");
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
                assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, required[i].word);
        }
}

static void test_rejects_ecc_and_other_types(void **state) {
        static const struct {
                TPM2_ALG_ID type;
                const char *word;
        } types[] = {
                { TPM2_ALG_ECC, "it is an ECC key, and tpm_signing_alg rsassa needs an RSA-2048 key" },
                { TPM2_ALG_KEYEDHASH, "not an RSA-2048 key (type 0x0008)" },
                { TPM2_ALG_ERROR, "not an RSA-2048 key (type 0x0000)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                TPM2B_PUBLIC ak;

                load_ak(&ak);
                ak.publicArea.type = types[i].type;
                assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, types[i].word);
        }
}

/* ak.h promises RSA-2048: a 3072-bit RSA key at the handle is not the agent's AK */
static void test_rejects_other_key_sizes(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.keyBits = 3072;
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL, "not an RSA-2048 key");
}

/* An ECC NIST P-256 restricted signing key, ECDSA with `hash`: the AK with tpm_signing_alg = ecdsa */
static void ecc_ak(TPM2B_PUBLIC *ak, TPM2_ALG_ID hash) {
        memset(ak, 0, sizeof(*ak));
        ak->publicArea = (TPMT_PUBLIC){
                .type = TPM2_ALG_ECC,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
                .parameters.eccDetail = {
                        .symmetric.algorithm = TPM2_ALG_NULL,
                        .scheme = { .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = hash },
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf.scheme = TPM2_ALG_NULL,
                },
        };
}

static void test_ecdsa_accepts_ecc_ak(void **state) {
        TPM2B_PUBLIC ak;

        ecc_ak(&ak, TPM2_ALG_SHA256);
        assert_int_equal(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), 0);
        ecc_ak(&ak, TPM2_ALG_SHA384);
        assert_int_equal(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA384), 0);
}

/* A key of the other kind at ak_handle (tpm_signing_alg changed after the AK was made) is named
 * in the config key's words, both ways. */
static void test_other_kind_names_tpm_signing_alg(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), -EINVAL,
                     "it is an RSA key, and tpm_signing_alg ecdsa needs an ECC NIST P-256 key");
        ecc_ak(&ak, TPM2_ALG_SHA256);
        assert_error(ak_check_public(&ak, TPM2_ALG_RSASSA, TPM2_ALG_SHA256), -EINVAL,
                     "it is an ECC key, and tpm_signing_alg rsassa needs an RSA-2048 key");
        ak.publicArea.type = TPM2_ALG_KEYEDHASH;
        assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), -EINVAL,
                     "not an ECC NIST P-256 key (type 0x0008)");
}

static void test_ecdsa_rejects_other_curves_and_schemes(void **state) {
        static const TPM2_ALG_ID schemes[] = { TPM2_ALG_ECSCHNORR, TPM2_ALG_ECDAA, TPM2_ALG_SM2, TPM2_ALG_NULL };
        TPM2B_PUBLIC ak;

        ecc_ak(&ak, TPM2_ALG_SHA256);
        ak.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
        assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), -EINVAL,
                     "not an ECC NIST P-256 key (curve 0x0004)");
        ecc_ak(&ak, TPM2_ALG_SHA256);
        assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA384), -EINVAL,
                     "signing scheme is not ECDSA with sha384");
        for (size_t i = 0; i < ELEMENTSOF(schemes); i++) {
                ecc_ak(&ak, TPM2_ALG_SHA256);
                ak.publicArea.parameters.eccDetail.scheme.scheme = schemes[i];
                assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), -EINVAL,
                             "signing scheme is not ECDSA with sha256");
        }
        ecc_ak(&ak, TPM2_ALG_SHA256);
        ak.publicArea.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
        assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), -EINVAL,
                     "not those of a restricted signing key");
        ecc_ak(&ak, TPM2_ALG_SHA256);
        ak.publicArea.objectAttributes &= ~TPMA_OBJECT_USERWITHAUTH;
        assert_error(ak_check_public(&ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256), -EINVAL, "it needs userWithAuth");
}

/* tpm_signing_alg's names and what the agent reports as sign_alg / tpm_sign_alg */
static void test_sign_alg_names(void **state) {
        struct ak ak = { .handle = ESYS_TR_NONE };

        assert_int_equal(ak_sign_alg_from_name("rsassa"), TPM2_ALG_RSASSA);
        assert_int_equal(ak_sign_alg_from_name("ecdsa"), TPM2_ALG_ECDSA);
        assert_int_equal(ak_sign_alg_from_name("ecschnorr"), TPM2_ALG_ERROR);
        assert_int_equal(ak_sign_alg_from_name("rsassa "), TPM2_ALG_ERROR);
        assert_int_equal(ak_sign_alg_from_name(""), TPM2_ALG_ERROR);

        load_ak(&ak.public);
        assert_string_equal(ak_sign_alg_name(&ak), "rsassa");
        assert_int_equal(ak_sign_hash(&ak), TPM2_ALG_SHA256);
        ecc_ak(&ak.public, TPM2_ALG_SHA384);
        assert_string_equal(ak_sign_alg_name(&ak), "ecdsa");
        assert_int_equal(ak_sign_hash(&ak), TPM2_ALG_SHA384);
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
                cmocka_unit_test(test_ecdsa_accepts_ecc_ak),
                cmocka_unit_test(test_other_kind_names_tpm_signing_alg),
                cmocka_unit_test(test_ecdsa_rejects_other_curves_and_schemes),
                cmocka_unit_test(test_sign_alg_names),
        };

        return cmocka_run_group_tests_name("ak", tests, NULL, NULL);
}
