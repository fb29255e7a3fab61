/* verifier/identity_proof.c: the registrar's proof of a TPM. The real GCE AK certificates
 * (tests/fixtures/platforms/gce: RSA, ECC) certify their AKs and chain to Google's vTPM CAs; a test
 * CA made here stands in for a cloud's to check the proof choice: an offered certificate that
 * fails refuses the registration whatever else would hold, and the order is ek-certificate,
 * ak-certificate, ek-allowlist, ek-pinned. */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "lib/file.h"
#include "verifier/cert_chain.h"
#include "verifier/ek_check.h"
#include "verifier/identity_proof.h"

#define GCE "tests/fixtures/platforms/gce/"
/* 2026-01-01T00:00:00Z: inside every GCE certificate's validity */
#define PINNED_TIME ((time_t)1767225600)

struct fixture {
        char dir[64], ek_ca_dir[96], ak_ca_dir[96], pinned_dir[96];
        EVP_PKEY *ca_key, *ek_key, *ak_key;
        X509 *ca;
        TPMT_PUBLIC ek, ak;
        struct ek_trust *ek_trust;
        struct identity_trust trust;
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

/* valid from `from` to `to` seconds from now */
static X509 *new_cert(EVP_PKEY *key, const char *cn, long from, long to) {
        X509 *cert = X509_new();
        X509_NAME *name = X509_NAME_new();

        assert_non_null(cert);
        assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 2);
        X509_gmtime_adj(X509_getm_notBefore(cert), from);
        X509_gmtime_adj(X509_getm_notAfter(cert), to);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_subject_name(cert, name);
        X509_NAME_free(name);
        assert_int_equal(X509_set_pubkey(cert, key), 1);
        return cert;
}

static X509 *new_ca(EVP_PKEY *key, const char *cn) {
        X509 *ca = new_cert(key, cn, -3600, 3600);

        X509_set_issuer_name(ca, X509_get_subject_name(ca));
        add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(ca, ca, NID_subject_key_identifier, "hash");
        assert_true(X509_sign(ca, key, EVP_sha256()) > 0);
        return ca;
}

/* DER of a certificate `ca` issues for `key`; *size its length (free with OPENSSL_free) */
static unsigned char *issue(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key, long from, long to, size_t *size) {
        X509 *cert = new_cert(key, "AK", from, to);
        unsigned char *der = NULL;
        int n;

        X509_set_issuer_name(cert, X509_get_subject_name(ca));
        add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert, ca, NID_authority_key_identifier, "keyid:always");
        assert_true(X509_sign(cert, ca_key, EVP_sha256()) > 0);
        n = i2d_X509(cert, &der);
        assert_true(n > 0);
        X509_free(cert);
        *size = (size_t)n;
        return der;
}

/* A TPMT_PUBLIC of an ECC P-256 key, as the TPM gives it */
static void tpm_public(EVP_PKEY *key, TPMT_PUBLIC *pub) {
        BIGNUM *x = NULL, *y = NULL;

        memset(pub, 0, sizeof(*pub));
        pub->type = TPM2_ALG_ECC;
        pub->nameAlg = TPM2_ALG_SHA256;
        pub->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
        pub->unique.ecc.x.size = (UINT16)BN_bn2binpad(x, pub->unique.ecc.x.buffer, 32);
        pub->unique.ecc.y.size = (UINT16)BN_bn2binpad(y, pub->unique.ecc.y.buffer, 32);
        BN_free(x);
        BN_free(y);
}

static void write_text(const char *dir, const char *name, const void *data, size_t size) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        fclose(f);
}

static void write_ca_pem(const char *dir, const char *name, X509 *cert) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(PEM_write_X509(f, cert), 1);
        fclose(f);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/vmattest-idp.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->ek_ca_dir, sizeof(f->ek_ca_dir), "%s/ek", f->dir);
        snprintf(f->ak_ca_dir, sizeof(f->ak_ca_dir), "%s/ak", f->dir);
        snprintf(f->pinned_dir, sizeof(f->pinned_dir), "%s/pinned", f->dir);
        assert_int_equal(mkdir(f->ek_ca_dir, 0700), 0);
        assert_int_equal(mkdir(f->ak_ca_dir, 0700), 0);
        assert_int_equal(mkdir(f->pinned_dir, 0700), 0);
        f->ca_key = EVP_EC_gen("P-256");
        f->ek_key = EVP_EC_gen("P-256");
        f->ak_key = EVP_EC_gen("P-256");
        assert_non_null(f->ca_key && f->ek_key && f->ak_key ? f : NULL);
        f->ca = new_ca(f->ca_key, "test cloud CA");
        /* the same CA certifies EKs and AKs here: each store is read on its own */
        write_ca_pem(f->ek_ca_dir, "ca.pem", f->ca);
        write_ca_pem(f->ak_ca_dir, "ca.pem", f->ca);
        tpm_public(f->ek_key, &f->ek);
        tpm_public(f->ak_key, &f->ak);
        assert_int_equal(ek_trust_load(f->ek_ca_dir, &f->ek_trust), 0);
        assert_int_equal(identity_trust_load(f->ak_ca_dir, f->pinned_dir, &f->trust), 0);
        *state = f;
        return 0;
}

static void remove_dir(const char *dir) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static int teardown(void **state) {
        struct fixture *f = *state;

        identity_trust_done(&f->trust);
        ek_trust_free(f->ek_trust);
        X509_free(f->ca);
        EVP_PKEY_free(f->ca_key);
        EVP_PKEY_free(f->ek_key);
        EVP_PKEY_free(f->ak_key);
        remove_dir(f->dir);
        free(f);
        return 0;
}

static void test_gce_real_ak_certificate(void **state) {
        _cleanup_(freep) char *der = NULL, *tpmt = NULL;
        struct identity_trust trust = { 0 };
        size_t der_size = 0, tpmt_size = 0, offset = 0;
        TPMT_PUBLIC ak, other;
        EVP_PKEY *other_key = EVP_EC_gen("P-256");
        X509 *root = NULL;

        (void)state;
        assert_int_equal(file_read_all(GCE "gce-cos-85-nonce9009/ak_cert.der", CERT_DER_MAX, &der, &der_size), 0);
        assert_int_equal(file_read_all(GCE "gce-cos-85-nonce9009/ak_pub.tpmt", 4096, &tpmt, &tpmt_size), 0);
        assert_int_equal(Tss2_MU_TPMT_PUBLIC_Unmarshal((const uint8_t *)tpmt, tpmt_size, &offset, &ak), TSS2_RC_SUCCESS);
        assert_int_equal(offset, tpmt_size);

        /* Google's CAs as published: DER files, the root and both intermediates among others */
        assert_int_equal(identity_trust_load(GCE "ca-certs", "", &trust), 0);
        assert_int_equal(sk_X509_num(trust.ak_roots), 5);
        assert_int_equal(ak_cert_check(&trust, (const uint8_t *)der, der_size, &ak, PINNED_TIME), 0);
        /* before the certificate was issued (2021-08-31) */
        assert_error(ak_cert_check(&trust, (const uint8_t *)der, der_size, &ak, 1609459200), -EACCES, "AK certificate");
        /* the real certificate for another AK */
        tpm_public(other_key, &other);
        assert_error(ak_cert_check(&trust, (const uint8_t *)der, der_size, &other, PINNED_TIME), -EBADMSG,
                     "ak_cert certifies another key than aik_tpm");
        /* truncated or padded */
        assert_error(ak_cert_check(&trust, (const uint8_t *)der, der_size - 1, &ak, PINNED_TIME), -EBADMSG, "ak_cert");
        identity_trust_done(&trust);

        /* the root alone: the intermediate 2 that signed it is not sent with a registration */
        assert_int_equal(identity_trust_load("", "", &trust), 0);
        {
                _cleanup_(freep) char *root_der = NULL;
                size_t root_size = 0;

                assert_int_equal(file_read_all(GCE "ca-certs/tpm_ek_root_1.cer", CERT_DER_MAX, &root_der, &root_size), 0);
                assert_int_equal(cert_der_parse("root", (const uint8_t *)root_der, root_size, &root), 0);
                assert_true(sk_X509_push(trust.ak_roots, root) > 0);
        }
        assert_error(ak_cert_check(&trust, (const uint8_t *)der, der_size, &ak, PINNED_TIME), -EACCES,
                     "unable to get local issuer");
        identity_trust_done(&trust);
        EVP_PKEY_free(other_key);
}

/* GCE's ECC AK certificate (go-tpm-tools' test vector from a real VM): an ECC NIST P-256 key,
 * issued by Google's EK/AK CA Intermediate (v3); aik_tpm is the key as the TPM gives it. */
static void test_gce_real_ecc_ak_certificate(void **state) {
        struct identity_trust trust = { 0 };
        _cleanup_(freep) char *rsa_tpmt = NULL;
        size_t rsa_size = 0, offset = 0;
        TPMT_PUBLIC ak, other, rsa_ak;
        EVP_PKEY *other_key = EVP_EC_gen("P-256");
        FILE *pem = fopen(GCE "certificates/pca_tpm_ecc_sign_cert.pem", "r");
        X509 *cert = pem ? PEM_read_X509(pem, NULL, NULL, NULL) : NULL;
        unsigned char *der = NULL;
        int der_size = cert ? i2d_X509(cert, &der) : -1;

        (void)state;
        assert_true(der_size > 0);
        tpm_public(X509_get0_pubkey(cert), &ak);
        ak.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                              TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
        ak.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        ak.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;

        assert_int_equal(identity_trust_load(GCE "ca-certs", "", &trust), 0);
        assert_int_equal(ak_cert_check(&trust, der, (size_t)der_size, &ak, PINNED_TIME), 0);
        /* another ECC key, and the real RSA AK of the same platform, are not the key it certifies */
        tpm_public(other_key, &other);
        assert_error(ak_cert_check(&trust, der, (size_t)der_size, &other, PINNED_TIME), -EBADMSG,
                     "ak_cert certifies another key than aik_tpm");
        assert_int_equal(file_read_all(GCE "gce-cos-85-nonce9009/ak_pub.tpmt", 4096, &rsa_tpmt, &rsa_size), 0);
        assert_int_equal(Tss2_MU_TPMT_PUBLIC_Unmarshal((const uint8_t *)rsa_tpmt, rsa_size, &offset, &rsa_ak),
                         TSS2_RC_SUCCESS);
        assert_error(ak_cert_check(&trust, der, (size_t)der_size, &rsa_ak, PINNED_TIME), -EBADMSG,
                     "ak_cert certifies another key than aik_tpm");
        /* before it was issued (2022-11-23) */
        assert_error(ak_cert_check(&trust, der, (size_t)der_size, &ak, 1609459200), -EACCES, "AK certificate");
        identity_trust_done(&trust);
        OPENSSL_free(der);
        X509_free(cert);
        fclose(pem);
        EVP_PKEY_free(other_key);
}

static int decide(const struct fixture *f, const uint8_t *ekcert, size_t ekcert_size, const uint8_t *ak_cert,
                  size_t ak_cert_size, bool allowlisted, const char **proof) {
        struct identity_evidence e = { .ek = &f->ek, .ak = &f->ak, .ekcert = ekcert, .ekcert_size = ekcert_size,
                                       .ak_cert = ak_cert, .ak_cert_size = ak_cert_size,
                                       .ek_allowlisted = allowlisted };

        *proof = NULL;
        vm_error_clear();
        return identity_proof_decide(f->ek_trust, &f->trust, &e, proof);
}

static void test_proof_choice(void **state) {
        struct fixture *f = *state;
        EVP_PKEY *rogue_key = EVP_EC_gen("P-256");
        X509 *rogue = new_ca(rogue_key, "rogue CA");
        size_t ak_size, ek_size, bad_ak_size, bad_ek_size, expired_size, other_size;
        unsigned char *ak_der = issue(f->ca, f->ca_key, f->ak_key, -60, 3600, &ak_size);
        unsigned char *ek_der = issue(f->ca, f->ca_key, f->ek_key, -60, 3600, &ek_size);
        unsigned char *bad_ak = issue(rogue, rogue_key, f->ak_key, -60, 3600, &bad_ak_size);
        unsigned char *bad_ek = issue(rogue, rogue_key, f->ek_key, -60, 3600, &bad_ek_size);
        unsigned char *expired = issue(f->ca, f->ca_key, f->ak_key, -7200, -3600, &expired_size);
        unsigned char *other = issue(f->ca, f->ca_key, f->ek_key, -60, 3600, &other_size); /* certifies the EK */
        BIO *pem = BIO_new(BIO_s_mem());
        char *pem_text;
        long pem_size;
        const char *proof;

        /* nothing offered, nothing configured */
        assert_int_equal(decide(f, NULL, 0, NULL, 0, false, &proof), -EACCES);
        assert_detail_contains(-EACCES, "neither in the registrar's ek_allowlist nor in its ek_pinned_store");

        /* each proof alone */
        assert_int_equal(decide(f, ek_der, ek_size, NULL, 0, false, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_EK_CERTIFICATE);
        assert_int_equal(decide(f, NULL, 0, ak_der, ak_size, false, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_AK_CERTIFICATE);
        assert_int_equal(decide(f, NULL, 0, NULL, 0, true, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_EK_ALLOWLIST);

        /* the order: the strongest offered names the proof */
        assert_int_equal(decide(f, ek_der, ek_size, ak_der, ak_size, true, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_EK_CERTIFICATE);
        assert_int_equal(decide(f, NULL, 0, ak_der, ak_size, true, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_AK_CERTIFICATE);

        /* an offered certificate that fails is the answer, never a fall back to another proof */
        assert_int_equal(decide(f, NULL, 0, bad_ak, bad_ak_size, true, &proof), -EACCES);
        assert_detail_contains(-EACCES, "AK certificate does not chain to a pinned root");
        assert_null(proof);
        assert_int_equal(decide(f, NULL, 0, expired, expired_size, true, &proof), -EACCES);
        assert_detail_contains(-EACCES, "expired");
        assert_int_equal(decide(f, NULL, 0, other, other_size, true, &proof), -EBADMSG);
        assert_detail_contains(-EBADMSG, "ak_cert certifies another key than aik_tpm");
        assert_int_equal(decide(f, bad_ek, bad_ek_size, ak_der, ak_size, true, &proof), -EACCES);
        assert_detail_contains(-EACCES, "EK certificate does not chain");
        assert_int_equal(decide(f, ek_der, ek_size, bad_ak, bad_ak_size, true, &proof), -EACCES);
        assert_detail_contains(-EACCES, "AK certificate");

        /* the EK pinned by its public key: compared as a key */
        assert_non_null(pem);
        assert_int_equal(PEM_write_bio_PUBKEY(pem, rogue_key), 1);
        assert_int_equal(PEM_write_bio_PUBKEY(pem, f->ek_key), 1);
        pem_size = BIO_get_mem_data(pem, &pem_text);
        write_text(f->pinned_dir, "aws-instance.pem", pem_text, (size_t)pem_size);
        identity_trust_done(&f->trust);
        assert_int_equal(identity_trust_load(f->ak_ca_dir, f->pinned_dir, &f->trust), 0);
        assert_int_equal(f->trust.ek_pinned_count, 2);
        assert_int_equal(decide(f, NULL, 0, NULL, 0, false, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_EK_PINNED);
        assert_int_equal(decide(f, NULL, 0, NULL, 0, true, &proof), 0);
        assert_string_equal(proof, IDENTITY_PROOF_EK_ALLOWLIST);
        assert_int_equal(decide(f, NULL, 0, bad_ak, bad_ak_size, false, &proof), -EACCES);

        BIO_free(pem);
        OPENSSL_free(ak_der);
        OPENSSL_free(ek_der);
        OPENSSL_free(bad_ak);
        OPENSSL_free(bad_ek);
        OPENSSL_free(expired);
        OPENSSL_free(other);
        X509_free(rogue);
        EVP_PKEY_free(rogue_key);
}

/* A store file that is not what its suffix says is an error naming it, not a silent skip. */
static void test_store_files(void **state) {
        struct fixture *f = *state;
        struct identity_trust trust;
        static const char broken[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        static const char not_a_key[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

        write_text(f->ak_ca_dir, "broken.crt", broken, sizeof(broken) - 1);
        assert_error(identity_trust_load(f->ak_ca_dir, "", &trust), -EBADMSG, "broken.crt");
        write_text(f->ak_ca_dir, "broken.crt", "\x30\x03\x02\x01", 4);
        assert_error(identity_trust_load(f->ak_ca_dir, "", &trust), -EBADMSG, "broken.crt");
        assert_int_equal(identity_trust_load("/nonexistent/ak_cert_store", "/nonexistent/ek_pinned_store", &trust), 0);
        assert_int_equal(sk_X509_num(trust.ak_roots), 0);
        identity_trust_done(&trust);

        write_text(f->pinned_dir, "ek.pem", not_a_key, sizeof(not_a_key) - 1);
        assert_error(identity_trust_load("", f->pinned_dir, &trust), -EBADMSG, "ek.pem: key 1 is not a PEM public key");
        write_text(f->pinned_dir, "ek.pem", "", 0);
        assert_error(identity_trust_load("", f->pinned_dir, &trust), -EBADMSG, "ek.pem");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gce_real_ak_certificate),
                cmocka_unit_test(test_gce_real_ecc_ak_certificate),
                cmocka_unit_test_setup_teardown(test_proof_choice, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_files, setup, teardown),
        };

        return cmocka_run_group_tests_name("identity_proof", tests, NULL, NULL);
}
