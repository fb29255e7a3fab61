/* payload_key_certify_check: the verifier's proof that the payload key lives in the agent's TPM
 * (docs/protocol.md §5.10). An AK made in software signs TPM2_Certify attestations built here, so
 * that each check can be made to fail on its own: no certify, another signer, another attestation
 * type, a forged magic, the wrong qualifying data, another Name, a key that is not fixedTPM (a
 * software key imported into a TPM), a certified key that is not the served one, malformed bytes. */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "lib/encoding.h"
#include "lib/tpm2b.h"
#include "verifier/payload_key_certify.h"

#define PAYLOAD_ATTRIBUTES                                                                                 \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |                \
         TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_DECRYPT)
#define AK_ATTRIBUTES                                                                                      \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |                \
         TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

struct fixture {
        EVP_PKEY *ak_key, *other_ak_key, *payload_key, *other_payload_key;
        TPM2B_PUBLIC ak, payload_public, other_payload_public;
        char *payload_pem, *other_payload_pem;
};

/* An RSA-2048 key's public area with `attributes`. */
static void rsa_public(EVP_PKEY *key, TPMA_OBJECT attributes, TPM2B_PUBLIC *pub) {
        BIGNUM *n = NULL;

        memset(pub, 0, sizeof(*pub));
        pub->publicArea.type = TPM2_ALG_RSA;
        pub->publicArea.nameAlg = TPM2_ALG_SHA256;
        pub->publicArea.objectAttributes = attributes;
        pub->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        pub->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        pub->publicArea.parameters.rsaDetail.keyBits = 2048;
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        assert_int_equal(BN_bn2binpad(n, pub->publicArea.unique.rsa.buffer, 256), 256);
        pub->publicArea.unique.rsa.size = 256;
        BN_free(n);
}

static char *pem_of(EVP_PKEY *key) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *pem;
        long size;

        assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
        size = BIO_get_mem_data(bio, &data);
        pem = strndup(data, (size_t)size);
        BIO_free(bio);
        return pem;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        f->ak_key = EVP_RSA_gen(2048);
        f->other_ak_key = EVP_RSA_gen(2048);
        f->payload_key = EVP_RSA_gen(2048);
        f->other_payload_key = EVP_RSA_gen(2048);
        rsa_public(f->ak_key, AK_ATTRIBUTES, &f->ak);
        f->ak.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        f->ak.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        rsa_public(f->payload_key, PAYLOAD_ATTRIBUTES, &f->payload_public);
        rsa_public(f->other_payload_key, PAYLOAD_ATTRIBUTES, &f->other_payload_public);
        f->payload_pem = pem_of(f->payload_key);
        f->other_payload_pem = pem_of(f->other_payload_key);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        EVP_PKEY_free(f->ak_key), EVP_PKEY_free(f->other_ak_key);
        EVP_PKEY_free(f->payload_key), EVP_PKEY_free(f->other_payload_key);
        free(f->payload_pem), free(f->other_payload_pem);
        free(f);
        return 0;
}

/* What one certification is made of; each test changes one thing. */
struct certify {
        TPMS_ATTEST attest;
        TPM2B_PUBLIC public; /* served as pubkey_certify.public */
        EVP_PKEY *signer;
};

static void certify_good(struct fixture *f, struct certify *c) {
        memset(c, 0, sizeof(*c));
        c->public = f->payload_public;
        c->signer = f->ak_key;
        c->attest.magic = TPM2_GENERATED_VALUE;
        c->attest.type = TPM2_ST_ATTEST_CERTIFY;
        assert_int_equal(tpm2b_public_name(&f->ak, &c->attest.qualifiedSigner), 0);
        c->attest.extraData.size = SHA256_DIGEST_LENGTH;
        SHA256((const unsigned char *)f->payload_pem, strlen(f->payload_pem), c->attest.extraData.buffer);
        assert_int_equal(tpm2b_public_name(&f->payload_public, &c->attest.attested.certify.name), 0);
        c->attest.attested.certify.qualifiedName = c->attest.attested.certify.name;
}

/* The quote answer's results with pubkey_certify made of `c`. */
static json_object *results_of(const struct certify *c) {
        uint8_t attest[2048], signature_bytes[1024], public[1024], sig[512];
        size_t attest_size, signature_size, public_size, sig_size = sizeof(sig);
        TPMT_SIGNATURE signature = { .sigAlg = TPM2_ALG_RSASSA };
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        json_object *results = json_object_new_object(), *certify = json_object_new_object();
        char *b64;

        assert_int_equal(tpms_attest_marshal(&c->attest, attest, sizeof(attest), &attest_size), 0);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, c->signer), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &sig_size, attest, attest_size), 1);
        EVP_MD_CTX_free(ctx);
        signature.signature.rsassa.hash = TPM2_ALG_SHA256;
        signature.signature.rsassa.sig.size = (UINT16)sig_size;
        memcpy(signature.signature.rsassa.sig.buffer, sig, sig_size);
        assert_int_equal(tpmt_signature_marshal(&signature, signature_bytes, sizeof(signature_bytes), &signature_size), 0);
        assert_int_equal(tpm2b_public_marshal(&c->public, public, sizeof(public), &public_size), 0);
        b64 = base64_encode(attest, attest_size);
        json_object_object_add(certify, "attest", json_object_new_string(b64));
        free(b64);
        b64 = base64_encode(signature_bytes, signature_size);
        json_object_object_add(certify, "signature", json_object_new_string(b64));
        free(b64);
        b64 = base64_encode(public, public_size);
        json_object_object_add(certify, "public", json_object_new_string(b64));
        free(b64);
        json_object_object_add(results, "pubkey_certify", certify);
        return results;
}

static int check(struct fixture *f, const struct certify *c, const char *pem) {
        json_object *results = results_of(c);
        int ret = payload_key_certify_check(results, &f->ak, TPM2_ALG_SHA256, pem);

        json_object_put(results);
        return ret;
}

static void genuine_passes(void **state) {
        struct fixture *f = *state;
        struct certify c;

        certify_good(f, &c);
        assert_int_equal(check(f, &c, f->payload_pem), 0);
}

static void missing_refused(void **state) {
        struct fixture *f = *state;
        json_object *results = json_object_new_object();

        assert_error(payload_key_certify_check(results, &f->ak, TPM2_ALG_SHA256, f->payload_pem), -ENOENT,
                     "serves no pubkey_certify");
        json_object_object_add(results, "pubkey_certify", json_object_new_string("yes"));
        assert_error(payload_key_certify_check(results, &f->ak, TPM2_ALG_SHA256, f->payload_pem), -EBADMSG,
                     "not an object");
        json_object_put(results);
}

static void forged_refused(void **state) {
        struct fixture *f = *state;
        struct certify c;

        certify_good(f, &c);
        c.signer = f->other_ak_key;
        assert_error(check(f, &c, f->payload_pem), -EPERM, "not signed by the agent's registered AK");
        certify_good(f, &c);
        c.attest.type = TPM2_ST_ATTEST_QUOTE;
        memset(&c.attest.attested, 0, sizeof(c.attest.attested)); /* an empty quote */
        assert_error(check(f, &c, f->payload_pem), -EPERM, "not a TPM2_Certify");
        certify_good(f, &c);
        c.attest.magic = 0x12345678;
        assert_error(check(f, &c, f->payload_pem), -EPERM, "not made by a TPM");
        certify_good(f, &c);
        c.attest.extraData.buffer[0] ^= 1;
        assert_error(check(f, &c, f->payload_pem), -EPERM, "does not qualify SHA-256 of the served pubkey");
        /* the AK certified some other key of the TPM; public claims to be the payload key */
        certify_good(f, &c);
        assert_int_equal(tpm2b_public_name(&f->other_payload_public, &c.attest.attested.certify.name), 0);
        assert_error(check(f, &c, f->payload_pem), -EPERM, "certified Name is not the Name of public");
}

static void not_tpm_resident_refused(void **state) {
        struct fixture *f = *state;
        struct certify c;

        /* a software key imported into the TPM: no fixedTPM, no sensitiveDataOrigin */
        certify_good(f, &c);
        c.public.publicArea.objectAttributes &= ~(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_SENSITIVEDATAORIGIN);
        assert_int_equal(tpm2b_public_name(&c.public, &c.attest.attested.certify.name), 0);
        assert_error(check(f, &c, f->payload_pem), -EPERM, "lack fixedTPM");
        /* a key that may also sign */
        certify_good(f, &c);
        c.public.publicArea.objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
        assert_int_equal(tpm2b_public_name(&c.public, &c.attest.attested.certify.name), 0);
        assert_error(check(f, &c, f->payload_pem), -EPERM, "must neither sign nor be restricted");
}

static void other_key_refused(void **state) {
        struct fixture *f = *state;
        struct certify c;

        /* a genuine certification of a TPM key, served beside a software key's PEM */
        certify_good(f, &c);
        c.public = f->other_payload_public;
        assert_int_equal(tpm2b_public_name(&c.public, &c.attest.attested.certify.name), 0);
        assert_error(check(f, &c, f->payload_pem), -EPERM, "public is not the key served as pubkey");
}

static void malformed_refused(void **state) {
        struct fixture *f = *state;
        static const char *const members[] = { "attest", "signature", "public" };
        struct certify c;

        certify_good(f, &c);
        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                json_object *results = results_of(&c), *certify;

                json_object_object_get_ex(results, "pubkey_certify", &certify);
                json_object_object_add(certify, members[i], json_object_new_string("AAAA"));
                assert_error(payload_key_certify_check(results, &f->ak, TPM2_ALG_SHA256, f->payload_pem), -EBADMSG,
                             "pubkey_certify: ");
                json_object_object_add(certify, members[i], json_object_new_string("not base64!"));
                assert_error(payload_key_certify_check(results, &f->ak, TPM2_ALG_SHA256, f->payload_pem), -EBADMSG,
                             "is not base64");
                json_object_object_del(certify, members[i]);
                assert_error(payload_key_certify_check(results, &f->ak, TPM2_ALG_SHA256, f->payload_pem), -EBADMSG,
                             members[i]);
                json_object_put(results);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(genuine_passes),   cmocka_unit_test(missing_refused),
                cmocka_unit_test(forged_refused),   cmocka_unit_test(not_tpm_resident_refused),
                cmocka_unit_test(other_key_refused), cmocka_unit_test(malformed_refused),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
