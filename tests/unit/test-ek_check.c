/* verifier/ek_check.c: an EK certificate must certify the registered EK, chain to the tenant's
 * CA store, and have been issued for an EK (TCG EK Credential Profile: extendedKeyUsage
 * tcg-kp-EKCertificate, keyUsage keyEncipherment for RSA, keyAgreement for ECC). The CA and
 * the certificates are made here, for a key pair made here; swtpm's own EK certificates are
 * registered in tests/integration/test-register.sh. */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "verifier/ek_check.h"

struct fixture {
        char dir[64], ca_path[128];
        EVP_PKEY *ca_key;
        X509 *ca;
        struct ek_trust *trust;
};

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;

        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(cert, ext, -1), 1);
        X509_EXTENSION_free(ext);
}

static X509 *new_cert(EVP_PKEY *key, const char *cn) {
        X509 *cert = X509_new();
        X509_NAME *name = X509_NAME_new();

        assert_non_null(cert);
        assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 2);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_subject_name(cert, name);
        X509_NAME_free(name);
        assert_int_equal(X509_set_pubkey(cert, key), 1);
        return cert;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        FILE *file;

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/vmattest-ek.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->ca_path, sizeof(f->ca_path), "%s/ca.pem", f->dir);
        f->ca_key = EVP_EC_gen("P-256");
        assert_non_null(f->ca_key);
        f->ca = new_cert(f->ca_key, "test EK CA");
        X509_set_issuer_name(f->ca, X509_get_subject_name(f->ca));
        add_ext(f->ca, f->ca, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(f->ca, f->ca, NID_key_usage, "critical,keyCertSign,cRLSign");
        assert_true(X509_sign(f->ca, f->ca_key, EVP_sha256()) > 0);
        file = fopen(f->ca_path, "w");
        assert_non_null(file);
        assert_int_equal(PEM_write_X509(file, f->ca), 1);
        fclose(file);
        assert_int_equal(ek_trust_load(f->dir, &f->trust), 0);
        assert_int_equal(ek_trust_count(f->trust), 1);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        ek_trust_free(f->trust);
        X509_free(f->ca);
        EVP_PKEY_free(f->ca_key);
        unlink(f->ca_path);
        rmdir(f->dir);
        free(f);
        return 0;
}

/* The EK's TPMT_PUBLIC for an OpenSSL key: RSA-2048 (exponent 65537) or ECC P-256. */
static void ek_public(EVP_PKEY *key, TPMT_PUBLIC *pub) {
        BIGNUM *a = NULL, *b = NULL;

        memset(pub, 0, sizeof(*pub));
        pub->nameAlg = TPM2_ALG_SHA256;
        if (EVP_PKEY_is_a(key, "RSA")) {
                pub->type = TPM2_ALG_RSA;
                pub->parameters.rsaDetail.keyBits = 2048;
                assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &a), 1);
                pub->unique.rsa.size = (UINT16)BN_bn2bin(a, pub->unique.rsa.buffer);
        } else {
                pub->type = TPM2_ALG_ECC;
                pub->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
                assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &a), 1);
                assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &b), 1);
                pub->unique.ecc.x.size = (UINT16)BN_bn2bin(a, pub->unique.ecc.x.buffer);
                pub->unique.ecc.y.size = (UINT16)BN_bn2bin(b, pub->unique.ecc.y.buffer);
        }
        BN_free(a);
        BN_free(b);
}

/* ek_cert_check of a certificate the fixture's CA issues for `ek_key` with the extendedKeyUsage
 * and keyUsage given (NULL: the extension left out). */
static int check_issued(const struct fixture *f, EVP_PKEY *ek_key, const char *eku, const char *ku) {
        X509 *cert = new_cert(ek_key, "EK");
        unsigned char *der = NULL;
        TPMT_PUBLIC ek;
        int der_size, ret;

        X509_set_issuer_name(cert, X509_get_subject_name(f->ca));
        add_ext(cert, f->ca, NID_basic_constraints, "critical,CA:FALSE");
        if (eku)
                add_ext(cert, f->ca, NID_ext_key_usage, eku);
        if (ku)
                add_ext(cert, f->ca, NID_key_usage, ku);
        assert_true(X509_sign(cert, f->ca_key, EVP_sha256()) > 0);
        der_size = i2d_X509(cert, &der);
        assert_true(der_size > 0);
        ek_public(ek_key, &ek);
        vm_error_clear();
        ret = ek_cert_check(f->trust, der, (size_t)der_size, &ek);
        OPENSSL_free(der);
        X509_free(cert);
        return ret;
}

#define assert_refused(call, word)                          \
        do {                                                \
                int ret_ = (call);                          \
                assert_int_equal(ret_, -EACCES);            \
                assert_detail_contains(ret_, (word));       \
        } while (0)

static void test_rsa_ek_usage(void **state) {
        struct fixture *f = *state;
        EVP_PKEY *ek = EVP_RSA_gen(2048);

        assert_non_null(ek);
        /* as swtpm_setup --create-ek-cert makes it */
        assert_int_equal(check_issued(f, ek, "2.23.133.8.1", "critical,keyEncipherment"), 0);
        /* either extension may be left out; other purposes beside the EK's are allowed */
        assert_int_equal(check_issued(f, ek, NULL, NULL), 0);
        assert_int_equal(check_issued(f, ek, "2.23.133.8.1", NULL), 0);
        assert_int_equal(check_issued(f, ek, NULL, "keyEncipherment"), 0);
        assert_int_equal(check_issued(f, ek, "serverAuth,2.23.133.8.1", "digitalSignature,keyEncipherment"), 0);
        /* a certificate issued for something else */
        assert_refused(check_issued(f, ek, "serverAuth", "keyEncipherment"),
                       "extendedKeyUsage does not include the TCG EK certificate purpose 2.23.133.8.1");
        assert_refused(check_issued(f, ek, "2.23.133.8.3", NULL), "extendedKeyUsage does not include");
        assert_refused(check_issued(f, ek, "2.23.133.8.1", "critical,digitalSignature"),
                       "keyUsage does not allow keyEncipherment, which the TCG EK Credential Profile sets for an RSA EK");
        assert_refused(check_issued(f, ek, NULL, "keyAgreement"), "keyUsage does not allow keyEncipherment");
        EVP_PKEY_free(ek);
}

static void test_ecc_ek_usage(void **state) {
        struct fixture *f = *state;
        EVP_PKEY *ek = EVP_EC_gen("P-256");

        assert_non_null(ek);
        assert_int_equal(check_issued(f, ek, "2.23.133.8.1", "critical,keyAgreement"), 0);
        assert_int_equal(check_issued(f, ek, NULL, NULL), 0);
        assert_refused(check_issued(f, ek, "2.23.133.8.1", "critical,keyEncipherment"),
                       "keyUsage does not allow keyAgreement, which the TCG EK Credential Profile sets for an ECC EK");
        assert_refused(check_issued(f, ek, "clientAuth", "keyAgreement"), "extendedKeyUsage does not include");
        EVP_PKEY_free(ek);
}

/* the usage is checked on top of the chain: a certificate from elsewhere still fails there */
static void test_other_ca_still_refused(void **state) {
        struct fixture *f = *state;
        EVP_PKEY *ek = EVP_RSA_gen(2048), *other_key = EVP_EC_gen("P-256");
        X509 *cert = new_cert(ek, "EK");
        unsigned char *der = NULL;
        TPMT_PUBLIC pub;
        int der_size;

        assert_non_null(ek);
        X509_set_issuer_name(cert, X509_get_subject_name(f->ca));
        add_ext(cert, f->ca, NID_ext_key_usage, "2.23.133.8.1");
        assert_true(X509_sign(cert, other_key, EVP_sha256()) > 0);
        der_size = i2d_X509(cert, &der);
        ek_public(ek, &pub);
        assert_error(ek_cert_check(f->trust, der, (size_t)der_size, &pub), -EACCES, "does not chain");
        OPENSSL_free(der);
        X509_free(cert);
        EVP_PKEY_free(other_key);
        EVP_PKEY_free(ek);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_rsa_ek_usage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ecc_ek_usage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_ca_still_refused, setup, teardown),
        };

        return cmocka_run_group_tests_name("ek_check", tests, NULL, NULL);
}
