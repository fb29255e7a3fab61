/* verifier/cert_chain.c on a real chain: the AK certificate of a GCE Shielded VM
 * (tests/fixtures/platforms/gce), issued by Google's vTPM intermediate 2 under its EK root 1.
 * The chain holds at a pinned time inside every validity period, fails before the leaf was
 * issued, without the intermediate, and under another of Google's roots; hostile PEM and DER
 * are refused with the file named. */
#include "tests/unit/unit.h"

#include <openssl/pem.h>

#include "lib/file.h"
#include "verifier/cert_chain.h"

#define GCE "tests/fixtures/platforms/gce/"
/* 2026-01-01T00:00:00Z: inside every certificate's validity here */
#define PINNED_TIME ((time_t)1767225600)

DEFINE_POINTER_CLEANUP(X509, X509_free)

static X509 *load_der(const char *path) {
        _cleanup_(freep) char *der = NULL;
        size_t size = 0;
        X509 *cert = NULL;

        assert_int_equal(file_read_all(path, CERT_DER_MAX, &der, &size), 0);
        assert_int_equal(cert_der_parse(path, (const uint8_t *)der, size, &cert), 0);
        return cert;
}

static STACK_OF(X509) *stack_of(const char *path) {
        STACK_OF(X509) *certs = sk_X509_new_null();

        assert_non_null(certs);
        assert_true(sk_X509_push(certs, load_der(path)) > 0);
        return certs;
}

static void test_real_chain(void **state) {
        _cleanup_(X509_freep) X509 *ak = load_der(GCE "gce-cos-85-nonce9009/ak_cert.der");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *roots = stack_of(GCE "ca-certs/tpm_ek_root_1.cer");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *inter = stack_of(GCE "ca-certs/tpm_ek_intermediate_2.crt");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *other_root = stack_of(GCE "ca-certs/gcp_ek_ak_ca_root.crt");
        struct cert_chain_check check = {
                .roots = roots, .intermediates = inter, .at = PINNED_TIME, .leaf_name = "AK certificate"};
        uint8_t digest[32];
        static const uint8_t fingerprint[] = {0x7d, 0xbd, 0xf3, 0x6e, 0x4e, 0x89, 0x7e, 0xd2};

        (void)state;
        assert_int_equal(cert_chain_verify(ak, &check), 0);
        assert_int_equal(cert_sha256(ak, digest), 0);
        assert_memory_equal(digest, fingerprint, sizeof(fingerprint));

        /* 2021-01-01: before the leaf's notBefore (2021-08-31) */
        check.at = 1609459200;
        assert_error(cert_chain_verify(ak, &check), -EACCES, "AK certificate");
        check.at = PINNED_TIME;

        check.intermediates = NULL;
        assert_error(cert_chain_verify(ak, &check), -EACCES, "unable to get local issuer");
        check.intermediates = inter;

        check.roots = other_root;
        assert_error(cert_chain_verify(ak, &check), -EACCES, "pinned root");
        check.roots = NULL;
        assert_error(cert_chain_verify(ak, &check), -EACCES, "no trusted root");
}

/* AMD's VCEK has no Authority Key Identifier: refused by the strict checks unless the caller
 * says the leaf is one of those; the anchor found is the Milan ARK (second in the bundle). */
static void test_leaf_without_authority_key_id(void **state) {
        _cleanup_(X509_freep) X509 *vcek = load_der("tests/fixtures/platforms/snp/vcek.testcer");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *bundle = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *roots = sk_X509_new_null();
        _cleanup_(cert_stack_freep) STACK_OF(X509) *inter = sk_X509_new_null();
        X509 *anchor = NULL;
        struct cert_chain_check check = {.at = PINNED_TIME, .leaf_name = "VCEK", .anchor = &anchor};

        (void)state;
        assert_int_equal(cert_pem_load_file("tests/fixtures/platforms/snp/ask_ark_milan.pem", &bundle), 0);
        assert_true(X509_up_ref(sk_X509_value(bundle, 0)) && sk_X509_push(inter, sk_X509_value(bundle, 0)) > 0);
        assert_true(X509_up_ref(sk_X509_value(bundle, 1)) && sk_X509_push(roots, sk_X509_value(bundle, 1)) > 0);
        check.roots = roots;
        check.intermediates = inter;
        assert_error(cert_chain_verify(vcek, &check), -EACCES, "Missing Authority Key Identifier");
        assert_null(anchor);
        check.leaf_without_authority_key_id = true;
        assert_int_equal(cert_chain_verify(vcek, &check), 0);
        assert_ptr_equal(anchor, sk_X509_value(bundle, 1));
        /* the tolerance forgives nothing else: without the ASK there is no path */
        check.intermediates = NULL;
        assert_error(cert_chain_verify(vcek, &check), -EACCES, "unable to get local issuer");
}

static void test_pem_lists(void **state) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *certs = NULL;
        _cleanup_(freep) char *pem = NULL;
        _cleanup_(freep) char *many = NULL;
        size_t size = 0;
        char broken[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

        (void)state;
        assert_int_equal(cert_pem_load_file("tests/fixtures/platforms/snp/ask_ark_milan.pem", &certs), 0);
        assert_int_equal(sk_X509_num(certs), 2);

        assert_error(cert_pem_parse_all("x.pem", "", 0, &certs), -EBADMSG, "x.pem: no PEM certificate");
        assert_error(cert_pem_parse_all("x.pem", broken, sizeof(broken) - 1, &certs), -EBADMSG,
                     "x.pem: certificate 1");
        assert_error(cert_pem_load_file("tests/fixtures/platforms/none.pem", &certs), -ENOENT, "none.pem");

        assert_int_equal(file_read_all(GCE "certificates/pca_tpm_rsa_sign_cert.pem", 65536, &pem, &size), 0);
        many = malloc(size * (CERT_CHAIN_MAX + 1));
        assert_non_null(many);
        for (int i = 0; i <= CERT_CHAIN_MAX; i++)
                memcpy(many + size * (size_t)i, pem, size);
        assert_error(cert_pem_parse_all("many.pem", many, size * (CERT_CHAIN_MAX + 1), &certs), -EBADMSG,
                     "more than 16");
}

static void test_der_bounds(void **state) {
        _cleanup_(freep) char *der = NULL;
        _cleanup_(freep) char *longer = NULL;
        size_t size = 0;
        X509 *cert = NULL;

        (void)state;
        assert_int_equal(file_read_all(GCE "gce-cos-85-nonce9009/ak_cert.der", CERT_DER_MAX, &der, &size), 0);
        longer = malloc(size + 1);
        assert_non_null(longer);
        memcpy(longer, der, size);
        longer[size] = 0;
        assert_error(cert_der_parse("ak.der", (uint8_t *)longer, size + 1, &cert), -EBADMSG, "1 bytes after");
        assert_error(cert_der_parse("ak.der", (uint8_t *)der, size - 1, &cert), -EBADMSG, "not a DER");
        assert_error(cert_der_parse("ak.der", (uint8_t *)der, 0, &cert), -EBADMSG, "ak.der: 0 bytes");
        assert_null(cert);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_chain),
                cmocka_unit_test(test_leaf_without_authority_key_id),
                cmocka_unit_test(test_pem_lists),
                cmocka_unit_test(test_der_bounds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
