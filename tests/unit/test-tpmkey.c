/* lib/tpmkey.c: TPM public keys as OpenSSL keys, and the attributes an AK must have. The AK
 * tpm2_createak made must verify the quotes tpm2_quote signed, and its PEM must be the one
 * tpm2_readpublic -f pem wrote. */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

static void load_ak(TPM2B_PUBLIC *ak) {
        uint8_t data[sizeof(TPM2B_PUBLIC)];
        size_t size = load_vector(VECTOR("ak.pub"), data, sizeof(data));

        assert_int_equal(tpm2b_public_unmarshal(data, size, ak), 0);
}

/* The RSASSA signature bytes of a tpm2_quote -s file. */
static size_t load_signature(const char *path, uint8_t *sig) {
        uint8_t data[sizeof(TPMT_SIGNATURE)];
        TPMT_SIGNATURE signature;
        size_t size = load_vector(path, data, sizeof(data));

        assert_int_equal(tpmt_signature_unmarshal(data, size, &signature), 0);
        assert_int_equal(signature.sigAlg, TPM2_ALG_RSASSA);
        memcpy(sig, signature.signature.rsassa.sig.buffer, signature.signature.rsassa.sig.size);
        return signature.signature.rsassa.sig.size;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over `msg`, as a verifier checks a quote: 1 when it verifies. */
static int verify(EVP_PKEY *key, const uint8_t *msg, size_t msg_size, const uint8_t *sig, size_t sig_size) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int ok;

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
        ok = EVP_DigestVerify(ctx, sig, sig_size, msg, msg_size);
        EVP_MD_CTX_free(ctx);
        return ok;
}

static void test_ak_is_rsa_2048(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(BN_freep) BIGNUM *n = NULL;
        _cleanup_(BN_freep) BIGNUM *e = NULL;
        uint8_t modulus[256];
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_int_equal(tpmkey_to_evp(&ak.publicArea, &key), 0);
        assert_true(EVP_PKEY_is_a(key, "RSA"));
        assert_int_equal(EVP_PKEY_get_bits(key), 2048);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
        assert_int_equal(BN_bn2binpad(n, modulus, sizeof(modulus)), 256);
        assert_memory_equal(modulus, ak.publicArea.unique.rsa.buffer, 256);
        assert_true(BN_is_word(e, 65537)); /* exponent 0 in the TPM key means 2^16+1 */
}

static void test_quote_signatures_verify(void **state) {
        static const char *const quotes[][2] = {
                { VECTOR("quote.msg"), VECTOR("quote.sig") },
                { VECTOR("quote3.msg"), VECTOR("quote3.sig") },
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_int_equal(tpmkey_to_evp(&ak.publicArea, &key), 0);
        for (size_t i = 0; i < ELEMENTSOF(quotes); i++) {
                _cleanup_(freep) uint8_t *msg = NULL;
                uint8_t sig[512];
                size_t msg_size, sig_size = load_signature(quotes[i][1], sig);

                msg = read_vector(quotes[i][0], &msg_size);
                assert_int_equal(sig_size, 256);
                assert_int_equal(verify(key, msg, msg_size, sig, sig_size), 1);
        }
}

/* The verification above can fail: any byte of the message flipped, a signature byte flipped,
 * or one quote's signature over the other quote. */
static void test_tampered_quote_fails(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(freep) uint8_t *msg = NULL;
        _cleanup_(freep) uint8_t *msg3 = NULL;
        uint8_t sig[512], sig3[512];
        size_t msg_size, msg3_size, sig_size, sig3_size;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_int_equal(tpmkey_to_evp(&ak.publicArea, &key), 0);
        msg = read_vector(VECTOR("quote.msg"), &msg_size);
        msg3 = read_vector(VECTOR("quote3.msg"), &msg3_size);
        sig_size = load_signature(VECTOR("quote.sig"), sig);
        sig3_size = load_signature(VECTOR("quote3.sig"), sig3);

        for (size_t i = 0; i < msg_size; i++) {
                msg[i] ^= 0x01;
                assert_int_not_equal(verify(key, msg, msg_size, sig, sig_size), 1);
                msg[i] ^= 0x01;
        }
        sig[sig_size / 2] ^= 0x80;
        assert_int_not_equal(verify(key, msg, msg_size, sig, sig_size), 1);
        sig[sig_size / 2] ^= 0x80;
        assert_int_not_equal(verify(key, msg, msg_size, sig3, sig3_size), 1);
        assert_int_not_equal(verify(key, msg3, msg3_size, sig, sig_size), 1);
        assert_int_equal(verify(key, msg, msg_size, sig, sig_size), 1); /* and untouched, it still does */
}

static void test_spki_pem_matches_tpm2_tools(void **state) {
        _cleanup_(freep) char *pem = NULL;
        _cleanup_(freep) uint8_t *expected = NULL;
        size_t expected_size;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        expected = read_vector(VECTOR("ak.pem"), &expected_size);
        assert_int_equal(tpmkey_spki_pem(&ak.publicArea, &pem), 0);
        assert_string_equal(pem, (const char *)expected);
}

/* Keylime's hash_ek: hex SHA-256 of that PEM text, computed here from tpm2-tools' file. */
static void test_hash_ek(void **state) {
        _cleanup_(freep) uint8_t *pem = NULL;
        uint8_t digest[32];
        char hash[65], expected[65];
        size_t pem_size;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        pem = read_vector(VECTOR("ak.pem"), &pem_size);
        assert_int_equal(EVP_Digest(pem, pem_size, digest, NULL, EVP_sha256(), NULL), 1);
        for (size_t i = 0; i < sizeof(digest); i++)
                snprintf(expected + 2 * i, 3, "%02x", digest[i]);
        memset(hash, 'X', sizeof(hash));
        assert_int_equal(tpmkey_hash_ek(&ak.publicArea, hash), 0);
        assert_string_equal(hash, expected);
}

static void test_rsa_explicit_exponent(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(BN_freep) BIGNUM *e = NULL;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.exponent = 3;
        assert_int_equal(tpmkey_to_evp(&ak.publicArea, &key), 0);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
        assert_true(BN_is_word(e, 3));
}

static void test_rsa_modulus_size_must_match_key_bits(void **state) {
        EVP_PKEY *key = NULL;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        ak.publicArea.unique.rsa.size = 255;
        assert_error(tpmkey_to_evp(&ak.publicArea, &key), -EBADMSG, "modulus of 255 bytes for 2048 key bits");
        ak.publicArea.unique.rsa.size = 0;
        assert_error(tpmkey_to_evp(&ak.publicArea, &key), -EBADMSG, "modulus of 0 bytes");
        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.keyBits = 3072;
        assert_error(tpmkey_to_evp(&ak.publicArea, &key), -EBADMSG, "for 3072 key bits");
        assert_null(key);
}

static void test_rejects_other_types(void **state) {
        static const TPM2_ALG_ID types[] = { TPM2_ALG_KEYEDHASH, TPM2_ALG_SYMCIPHER, TPM2_ALG_ERROR };
        char *pem = NULL;
        EVP_PKEY *key = NULL;
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                ak.publicArea.type = types[i];
                assert_error(tpmkey_to_evp(&ak.publicArea, &key), -EBADMSG, "neither RSA nor ECC");
                assert_error(tpmkey_spki_pem(&ak.publicArea, &pem), -EBADMSG, "neither RSA nor ECC");
        }
        assert_null(key);
        assert_null(pem);
}

/* tpmkey_check_ak (what the registrar asks of any AK, docs/protocol.md §1): accepts tpm2_createak's
 * key. */
static void test_check_ak_accepts_tpm2_tools_ak(void **state) {
        TPM2B_PUBLIC ak;

        load_ak(&ak);
        assert_int_equal(tpmkey_check_ak(&ak.publicArea), 0);
        /* userWithAuth is the agent's own need (ak_check_public), not every AK's */
        ak.publicArea.objectAttributes &= ~TPMA_OBJECT_USERWITHAUTH;
        assert_int_equal(tpmkey_check_ak(&ak.publicArea), 0);
        /* an ECC key with the same attributes is an AK too */
        ak.publicArea.type = TPM2_ALG_ECC;
        assert_int_equal(tpmkey_check_ak(&ak.publicArea), 0);
}

/* A key the TPM would let out, or one that is not restricted (and so signs a forged
 * TPMS_ATTEST as readily as a quote), or one that decrypts, is refused. */
static void test_check_ak_rejects(void **state) {
        static const TPMA_OBJECT required[] = { TPMA_OBJECT_FIXEDTPM, TPMA_OBJECT_FIXEDPARENT,
                                                TPMA_OBJECT_SENSITIVEDATAORIGIN, TPMA_OBJECT_RESTRICTED,
                                                TPMA_OBJECT_SIGN_ENCRYPT };
        TPM2B_PUBLIC ak;
        char word[80];

        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                load_ak(&ak);
                ak.publicArea.objectAttributes &= ~required[i];
                snprintf(word, sizeof(word), "attributes 0x%08x are not those of a restricted signing key",
                         ak.publicArea.objectAttributes);
                assert_error(tpmkey_check_ak(&ak.publicArea), -EINVAL, word);
        }
        load_ak(&ak);
        ak.publicArea.objectAttributes |= TPMA_OBJECT_DECRYPT;
        assert_error(tpmkey_check_ak(&ak.publicArea), -EINVAL, "not those of a restricted signing key");
        load_ak(&ak);
        ak.publicArea.type = TPM2_ALG_KEYEDHASH;
        assert_error(tpmkey_check_ak(&ak.publicArea), -EINVAL, "not an RSA or ECC key (type 0x0008)");
}

/* A TPMT_PUBLIC for the EC key `key` on `curve`, coordinates as BN_bn2bin writes them:
 * without leading zeros, as a TPM may send them. */
static void ecc_public(EVP_PKEY *key, TPM2_ECC_CURVE curve, TPMT_PUBLIC *pub) {
        _cleanup_(BN_freep) BIGNUM *x = NULL;
        _cleanup_(BN_freep) BIGNUM *y = NULL;

        memset(pub, 0, sizeof(*pub));
        pub->type = TPM2_ALG_ECC;
        pub->nameAlg = TPM2_ALG_SHA256;
        pub->parameters.eccDetail.curveID = curve;
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
        pub->unique.ecc.x.size = (UINT16)BN_bn2bin(x, pub->unique.ecc.x.buffer);
        pub->unique.ecc.y.size = (UINT16)BN_bn2bin(y, pub->unique.ecc.y.buffer);
}

static const struct {
        const char *openssl_name;
        TPM2_ECC_CURVE curve;
        size_t field;
} curves[] = {
        { "P-256", TPM2_ECC_NIST_P256, 32 },
        { "P-384", TPM2_ECC_NIST_P384, 48 },
        { "P-521", TPM2_ECC_NIST_P521, 66 },
};

static void test_ecc_keys(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(curves); i++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *generated = EVP_EC_gen(curves[i].openssl_name);
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                TPMT_PUBLIC pub;

                assert_non_null(generated);
                ecc_public(generated, curves[i].curve, &pub);
                assert_int_equal(tpmkey_to_evp(&pub, &key), 0);
                assert_true(EVP_PKEY_is_a(key, "EC"));
                assert_int_equal(EVP_PKEY_eq(key, generated), 1);
        }
}

/* A coordinate shorter than the field (its leading byte zero, 1 in 128 keys) is left-padded:
 * draw P-256 keys until one has such a coordinate. */
static void test_ecc_short_coordinate(void **state) {
        for (unsigned tries = 0; tries < 10000; tries++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *generated = EVP_EC_gen("P-256");
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                TPMT_PUBLIC pub;

                assert_non_null(generated);
                ecc_public(generated, TPM2_ECC_NIST_P256, &pub);
                if (pub.unique.ecc.x.size == 32 && pub.unique.ecc.y.size == 32)
                        continue;
                assert_int_equal(tpmkey_to_evp(&pub, &key), 0);
                assert_int_equal(EVP_PKEY_eq(key, generated), 1);
                return;
        }
        fail_msg("no P-256 key with a short coordinate in 10000");
}

static void test_ecc_errors(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *generated = EVP_EC_gen("P-256");
        EVP_PKEY *key = NULL;
        TPMT_PUBLIC pub;

        assert_non_null(generated);
        ecc_public(generated, TPM2_ECC_BN_P256, &pub);
        assert_error(tpmkey_to_evp(&pub, &key), -EBADMSG, "unsupported curve 0x0010");

        ecc_public(generated, TPM2_ECC_NIST_P256, &pub);
        pub.unique.ecc.x.size = 33;
        assert_error(tpmkey_to_evp(&pub, &key), -EBADMSG, "coordinates of 33/");
        pub.unique.ecc.x.size = 0;
        assert_error(tpmkey_to_evp(&pub, &key), -EBADMSG, "coordinates of 0/");

        /* (1, 1) is not on the curve */
        pub.unique.ecc.x = (TPM2B_ECC_PARAMETER){ .size = 1, .buffer = { 1 } };
        pub.unique.ecc.y = (TPM2B_ECC_PARAMETER){ .size = 1, .buffer = { 1 } };
        assert_error(tpmkey_to_evp(&pub, &key), -EBADMSG, "OpenSSL refuses");
        assert_null(key);
}

/* An ECC key's PEM is SubjectPublicKeyInfo with 64-column lines and a final newline, and reads
 * back as the same key. */
/* What the registrar accepts of an EK or AK: RSA >= 2048 bits with exponent 65537, ECC on
 * P-256 or P-384. */
static void test_check_strength(void **state) {
        TPM2B_PUBLIC ak;
        TPMT_PUBLIC pub;

        load_ak(&ak);
        assert_int_equal(ak.publicArea.parameters.rsaDetail.exponent, 0); /* 0: 65537 */
        assert_int_equal(tpmkey_check_strength(&ak.publicArea), 0);
        ak.publicArea.parameters.rsaDetail.exponent = 65537;
        assert_int_equal(tpmkey_check_strength(&ak.publicArea), 0);
        ak.publicArea.parameters.rsaDetail.exponent = 3;
        assert_error(tpmkey_check_strength(&ak.publicArea), -EINVAL, "public exponent 3: only 65537");
        ak.publicArea.parameters.rsaDetail.exponent = 65539;
        assert_error(tpmkey_check_strength(&ak.publicArea), -EINVAL, "public exponent 65539: only 65537");
        load_ak(&ak);
        ak.publicArea.parameters.rsaDetail.keyBits = 1024;
        ak.publicArea.unique.rsa.size = 128;
        assert_error(tpmkey_check_strength(&ak.publicArea), -EINVAL, "RSA key of 1024 bits (a 128-byte modulus): at least 2048");
        /* keyBits cannot vouch for a short modulus */
        ak.publicArea.parameters.rsaDetail.keyBits = 2048;
        assert_error(tpmkey_check_strength(&ak.publicArea), -EINVAL, "at least 2048");
        for (size_t i = 0; i < ELEMENTSOF(curves); i++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *generated = EVP_EC_gen(curves[i].openssl_name);

                assert_non_null(generated);
                ecc_public(generated, curves[i].curve, &pub);
                if (curves[i].curve == TPM2_ECC_NIST_P521)
                        assert_error(tpmkey_check_strength(&pub), -EINVAL, "curve 0x0005: only NIST P-256 and P-384");
                else
                        assert_int_equal(tpmkey_check_strength(&pub), 0);
        }
        pub.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
        assert_error(tpmkey_check_strength(&pub), -EINVAL, "curve 0x0010");
        pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P192;
        assert_error(tpmkey_check_strength(&pub), -EINVAL, "curve 0x0001");
        pub.type = TPM2_ALG_KEYEDHASH;
        assert_error(tpmkey_check_strength(&pub), -EINVAL, "not an RSA or ECC key");
}

static void test_ecc_spki_pem(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *generated = EVP_EC_gen("P-384");
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *parsed = NULL;
        _cleanup_(freep) char *pem = NULL;
        TPMT_PUBLIC pub;
        BIO *bio;
        size_t len;

        assert_non_null(generated);
        ecc_public(generated, TPM2_ECC_NIST_P384, &pub);
        assert_int_equal(tpmkey_spki_pem(&pub, &pem), 0);
        len = strlen(pem);
        assert_true(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
        assert_true(len > 25 && strcmp(pem + len - 25, "-----END PUBLIC KEY-----\n") == 0);
        for (const char *line = pem; *line;) {
                const char *end = strchr(line, '\n');

                assert_non_null(end);
                assert_true(end - line <= 64);
                line = end + 1;
        }
        bio = BIO_new_mem_buf(pem, (int)len);
        assert_non_null(bio);
        parsed = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(parsed);
        assert_int_equal(EVP_PKEY_eq(parsed, generated), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ak_is_rsa_2048),
                cmocka_unit_test(test_quote_signatures_verify),
                cmocka_unit_test(test_tampered_quote_fails),
                cmocka_unit_test(test_spki_pem_matches_tpm2_tools),
                cmocka_unit_test(test_hash_ek),
                cmocka_unit_test(test_rsa_explicit_exponent),
                cmocka_unit_test(test_rsa_modulus_size_must_match_key_bits),
                cmocka_unit_test(test_rejects_other_types),
                cmocka_unit_test(test_check_ak_accepts_tpm2_tools_ak),
                cmocka_unit_test(test_check_ak_rejects),
                cmocka_unit_test(test_ecc_keys),
                cmocka_unit_test(test_ecc_short_coordinate),
                cmocka_unit_test(test_ecc_errors),
                cmocka_unit_test(test_ecc_spki_pem),
                cmocka_unit_test(test_check_strength),
        };

        return cmocka_run_group_tests_name("tpmkey", tests, NULL, NULL);
}
