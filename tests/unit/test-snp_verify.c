/* verifier/snp_verify.c. The real Milan report of tests/fixtures/platforms/snp verifies with its
 * VCEK under the pinned Milan ARK at a pinned time; each tampered variant is refused with its
 * reason: a flipped signed byte, a flipped signature byte, another chip's VCEK (the Azure
 * bundle's), another product's root (Genoa), an expired chain, an unpinned root. Synthetic
 * reports, signed with the test-only keys of tests/fixtures/platforms/snp/fake-keys under
 * certificates made here with AMD's extensions, cover versions 2, 3 and 5, Turin's TCB layout,
 * the VLEK path and every policy reason. */
#include "tests/unit/unit.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "verifier/cert_chain.h"
#include "verifier/snp_report.h"
#include "verifier/snp_verify.h"

#define SNP "tests/fixtures/platforms/snp/"
/* 2026-01-01T00:00:00Z: inside every real certificate's validity here */
#define PINNED_TIME ((time_t)1767225600)
/* 2030-01-01: after the real VCEK's notAfter (2029-09-24) */
#define AFTER_EXPIRY ((time_t)1893456000)

DEFINE_POINTER_CLEANUP(X509, X509_free)

static const uint8_t real_report_data[64] = {1, 2, 3, 4, 5};

static X509 *load_der(const char *path) {
        _cleanup_(freep) uint8_t *der = NULL;
        size_t size = 0;
        X509 *cert = NULL;

        der = read_vector(path, &size);
        assert_int_equal(cert_der_parse(path, der, size, &cert), 0);
        return cert;
}

static void load_report(struct snp_report *report) {
        _cleanup_(freep) uint8_t *data = NULL;
        size_t size;

        data = read_vector(SNP "attestation.bin", &size);
        assert_int_equal(snp_report_parse(data, size, report), 0);
}

/* Re-parses the report's bytes after a test changed them. */
static int reparse(struct snp_report *report) {
        uint8_t bytes[SNP_REPORT_SIZE];

        memcpy(bytes, report->bytes, sizeof(bytes));
        return snp_report_parse(bytes, sizeof(bytes), report);
}

static struct snp_policy permissive_policy(const struct snp_report *report) {
        return (struct snp_policy){.measurements = &report->measurement,
                                   .measurement_count = 1,
                                   .report_data = report->report_data,
                                   .allowed_vmpls = 0x1};
}

static void test_real_report(void **state) {
        _cleanup_(X509_freep) X509 *vcek = load_der(SNP "vcek.testcer");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *milan = NULL;
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_report report;
        struct snp_verified verified;
        struct snp_policy policy;
        uint8_t measurements[2][48] = {{0}};

        (void)state;
        load_report(&report);
        assert_int_equal(cert_pem_load_file(SNP "ask_ark_milan.pem", &milan), 0);
        trust.amd_certs = milan;
        memcpy(measurements[1], report.measurement, 48);
        policy = (struct snp_policy){.measurements = (const uint8_t(*)[48])measurements,
                                     .measurement_count = 2,
                                     .report_data = real_report_data,
                                     .check_host_data = true,
                                     .allowed_vmpls = 0x1,
                                     /* this test machine's guest allowed SMT and debugging */
                                     .allow_smt = true,
                                     .allow_debug = true,
                                     .min_tcb = {.bl = 2, .tee = 0, .snp = 5, .ucode = 68}};
        assert_int_equal(snp_verify(&report, vcek, NULL, &trust, &policy, &verified), 0);
        assert_int_equal(verified.product, SNP_PRODUCT_MILAN);
        assert_int_equal(verified.signing_key, SNP_SIGNING_KEY_VCEK);
        assert_true(verified.pinned_root);
        assert_int_equal(verified.reported_tcb.bl, 2);
        assert_int_equal(verified.reported_tcb.tee, 0);
        assert_int_equal(verified.reported_tcb.snp, 5);
        assert_int_equal(verified.reported_tcb.ucode, 68);

        /* the ASK may come from the host instead (the certificate table); the ARK stays pinned */
        {
                _cleanup_(cert_stack_freep) STACK_OF(X509) *ark = sk_X509_new_null();
                _cleanup_(cert_stack_freep) STACK_OF(X509) *ask = sk_X509_new_null();

                assert_true(X509_up_ref(sk_X509_value(milan, 1)) && sk_X509_push(ark, sk_X509_value(milan, 1)));
                assert_true(X509_up_ref(sk_X509_value(milan, 0)) && sk_X509_push(ask, sk_X509_value(milan, 0)));
                trust.amd_certs = ark;
                assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                             "VCEK does not chain to a pinned root");
                assert_int_equal(snp_verify_endorsement(&report, vcek, ask, &trust, &verified), 0);
                trust.amd_certs = milan;
        }

        /* the fingerprints pinned in the code are those of the bundles' ARKs */
        for (size_t i = 0; i < 3; i++) {
                static const char *const bundles[] = {SNP "ask_ark_milan.pem", SNP "ask_ark_genoa.pem",
                                                      SNP "ask_ark_turin_vcek.pem"};
                static const enum snp_product products[] = {SNP_PRODUCT_MILAN, SNP_PRODUCT_GENOA, SNP_PRODUCT_TURIN};
                _cleanup_(cert_stack_freep) STACK_OF(X509) *bundle = NULL;
                uint8_t digest[32];

                assert_int_equal(cert_pem_load_file(bundles[i], &bundle), 0);
                assert_int_equal(cert_sha256(sk_X509_value(bundle, 1), digest), 0);
                assert_int_equal(snp_pinned_ark_product(digest), products[i]);
                assert_int_equal(cert_sha256(sk_X509_value(bundle, 0), digest), 0);
                assert_int_equal(snp_pinned_ark_product(digest), SNP_PRODUCT_UNKNOWN);
        }
}

/* The bundles `make install` puts in SNP_AMD_CERTS_DIR, loaded as the verifier loads them. */
static void test_installed_bundles(void **state) {
        _cleanup_(X509_freep) X509 *vcek = load_der(SNP "vcek.testcer");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *amd = NULL;
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_report report;
        struct snp_verified verified;

        (void)state;
        load_report(&report);
        assert_int_equal(snp_amd_certs_load_dir("verifier/amd", &amd), 0);
        assert_int_equal(sk_X509_num(amd), 6);
        trust.amd_certs = amd;
        assert_int_equal(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), 0);
        assert_int_equal(verified.product, SNP_PRODUCT_MILAN);
        assert_error(snp_amd_certs_load_dir("tests/fixtures/platforms/snp/fake-keys", &amd), -EBADMSG,
                     "ark_private_key.pem: no PEM certificate");
        assert_error(snp_amd_certs_load_dir("tests/fixtures/platforms/eventlogs", &amd), -ENOENT, "no AMD certificate");
        assert_error(snp_amd_certs_load_dir("tests/fixtures/none", &amd), -ENOENT, "cannot list");
}

static void test_real_tampered(void **state) {
        _cleanup_(X509_freep) X509 *vcek = load_der(SNP "vcek.testcer");
        _cleanup_(cert_stack_freep) STACK_OF(X509) *milan = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *genoa = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *azure = NULL;
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_report report;
        struct snp_verified verified;

        (void)state;
        assert_int_equal(cert_pem_load_file(SNP "ask_ark_milan.pem", &milan), 0);
        assert_int_equal(cert_pem_load_file(SNP "ask_ark_genoa.pem", &genoa), 0);
        assert_int_equal(cert_pem_load_file("tests/fixtures/platforms/azure/certs.pem", &azure), 0);
        trust.amd_certs = milan;

        /* one flipped byte of the measurement: still a report, no longer the signed one */
        load_report(&report);
        report.bytes[0x90] ^= 1;
        assert_int_equal(reparse(&report), 0);
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                     "SNP report: signature does not verify with the VCEK");
        /* ... of the signature's r, then of its s */
        load_report(&report);
        report.signature_r[0] ^= 1;
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                     "signature does not verify with the VCEK");
        load_report(&report);
        report.signature_s[47] ^= 0x80;
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                     "signature does not verify with the VCEK");
        report.signature_s[47] ^= 0x80;
        report.signature_s[48] = 1;
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES, "wider than 48 bytes");

        /* another chip's Milan VCEK, valid under the same ARK */
        load_report(&report);
        assert_error(snp_verify_endorsement(&report, sk_X509_value(azure, 0), NULL, &trust, &verified), -EACCES,
                     "VCEK: hwID is not the report's chip_id");
        /* with the chip id masked the hwID is not compared; its key still does not verify */
        report.bytes[0x48] = 2;
        assert_int_equal(reparse(&report), 0);
        assert_error(snp_verify_endorsement(&report, sk_X509_value(azure, 0), NULL, &trust, &verified), -EACCES,
                     "VCEK: blSPL 3 is not the report's reported_tcb (2)");

        /* Genoa's ARK does not vouch for a Milan VCEK */
        load_report(&report);
        trust.amd_certs = genoa;
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                     "VCEK does not chain to a pinned root");
        /* Milan's ASK with only Genoa's ARK pinned */
        assert_error(snp_verify_endorsement(&report, vcek, milan, &trust, &verified), -EACCES,
                     "VCEK does not chain to a pinned root");
        trust.amd_certs = NULL;
        assert_error(snp_verify_endorsement(&report, vcek, milan, &trust, &verified), -EACCES,
                     "no pinned AMD root key");
        trust.amd_certs = milan;

        trust.at = AFTER_EXPIRY;
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES, "certificate has expired");
        trust.at = PINNED_TIME;

        /* signer_info naming the VLEK while a VCEK is given (the report then fails to verify
         * anyway: signer_info is signed) */
        report.bytes[0x48] = 1 << 2;
        assert_int_equal(reparse(&report), 0);
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                     "signer_info names the VLEK, but the certificate's subject CN is \"SEV-VCEK\"");
        report.bytes[0x48] = 7 << 2;
        assert_int_equal(reparse(&report), 0);
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES, "no key signed it");
        load_report(&report);
        report.signature_algo = 2;
        assert_error(snp_verify_endorsement(&report, vcek, NULL, &trust, &verified), -EACCES,
                     "signature_algo 2 is not ECDSA P-384");
        load_report(&report);
        assert_error(snp_verify_endorsement(&report, NULL, NULL, &trust, &verified), -EACCES, "no VCEK certificate");
        /* the ASK as the signing certificate */
        assert_error(snp_verify_endorsement(&report, sk_X509_value(milan, 0), NULL, &trust, &verified), -EACCES,
                     "subject CN is \"SEV-Milan\"");
}

/* Flipped bytes in the real VCEK: not a certificate, or refused with a reason; never accepted,
 * never a crash (the extensions are read from a certificate no signature vouched for yet). */
static void test_flipped_vcek(void **state) {
        _cleanup_(freep) uint8_t *der = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *milan = NULL;
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_report report;
        struct snp_verified verified;
        uint64_t prng = FUZZ_SEED;
        size_t size;

        (void)state;
        load_report(&report);
        der = read_vector(SNP "vcek.testcer", &size);
        assert_int_equal(cert_pem_load_file(SNP "ask_ark_milan.pem", &milan), 0);
        trust.amd_certs = milan;
        for (int i = 0; i < 500; i++) {
                _cleanup_(freep) uint8_t *copy = malloc(size);
                _cleanup_(X509_freep) X509 *vcek = NULL;
                int ret;

                assert_non_null(copy);
                memcpy(copy, der, size);
                prng_mutate(&prng, copy, size);
                if (cert_der_parse("VCEK", copy, size, &vcek) < 0)
                        continue;
                if (memcmp(copy, der, size) == 0)
                        continue;
                vm_error_clear();
                ret = snp_verify_endorsement(&report, vcek, NULL, &trust, &verified);
                assert_true(ret == -EACCES || ret == -EBADMSG);
        }
}

/* The policy over the real report's fields (a parsed report changed in memory: the policy
 * check runs on what the endorsement check accepted). */
static void test_real_policy(void **state) {
        struct snp_report report;
        struct snp_policy policy;
        uint8_t other[64] = {9};

        (void)state;
        load_report(&report);
        policy = permissive_policy(&report);
        policy.allow_smt = true;
        policy.allow_debug = true;
        assert_int_equal(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), 0);

        policy.report_data = other;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), -EACCES,
                     "SNP report: report_data is not the expected one");
        policy.report_data = NULL;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), -EACCES, "no expected report_data");
        policy.report_data = real_report_data;

        /* the real guest's policy (0xb0000) allows debugging: refused unless the tenant allows it */
        policy.allow_debug = false;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), -EACCES, "allows debugging (policy bit 19)");
        report.policy &= ~SNP_POLICY_DEBUG;
        assert_int_equal(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), 0);

        policy.min_tcb.snp = 6;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), -EACCES,
                     "SNP report: reported_tcb snp SPL 5 is below the minimum 6");
        policy.min_tcb.snp = 5;
        policy.min_tcb.ucode = 69;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), -EACCES, "reported_tcb ucode SPL 68");
        policy.min_tcb.ucode = 68;
        report.committed_tcb = 0x4404000000000002ULL;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_MILAN, &policy), -EACCES, "committed_tcb snp SPL 4");
}

/* ---- synthetic reports under the test-only keys ---- */

struct fake_pki {
        EVP_PKEY *ark_key, *ask_key, *asvk_key, *vcek_key, *vlek_key;
        X509 *ark, *ask, *asvk;
        STACK_OF(X509) *roots, *intermediates;
};

static EVP_PKEY *load_key(const char *name) {
        char path[256];
        _cleanup_(fclosep) FILE *f = NULL;
        EVP_PKEY *key;

        snprintf(path, sizeof(path), SNP "fake-keys/%s", name);
        f = fopen(path, "r");
        assert_non_null(f);
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        assert_non_null(key);
        return key;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;

        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(cert, ext, -1), 1);
        X509_EXTENSION_free(ext);
}

/* An AMD extension whose value is `der` as it is. */
static void add_amd_ext(X509 *cert, const char *oid, const uint8_t *der, int size) {
        ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
        X509_EXTENSION *ext;

        assert_non_null(obj);
        assert_int_equal(ASN1_OCTET_STRING_set(value, der, size), 1);
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(cert, ext, -1), 1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(value);
        ASN1_OBJECT_free(obj);
}

static void add_spl(X509 *cert, const char *oid, uint8_t spl) {
        ASN1_INTEGER *v = ASN1_INTEGER_new();
        uint8_t *der = NULL;
        int size;

        assert_int_equal(ASN1_INTEGER_set_int64(v, spl), 1);
        size = i2d_ASN1_INTEGER(v, &der);
        assert_true(size > 0);
        add_amd_ext(cert, oid, der, size);
        OPENSSL_free(der);
        ASN1_INTEGER_free(v);
}

static void add_product(X509 *cert, const char *name) {
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        uint8_t *der = NULL;
        int size;

        assert_int_equal(ASN1_STRING_set(s, name, (int)strlen(name)), 1);
        size = i2d_ASN1_IA5STRING(s, &der);
        assert_true(size > 0);
        add_amd_ext(cert, "1.3.6.1.4.1.3704.1.2", der, size);
        OPENSSL_free(der);
        ASN1_IA5STRING_free(s);
}

/* A certificate for `cn` and `key`, issued by `issuer` (NULL: self-signed) with `issuer_key`;
 * CAs get the extensions the strict RFC 5280 checks want, leaves none (as AMD's). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca) {
        X509 *cert = X509_new();
        X509_NAME *name = X509_NAME_new();

        assert_non_null(cert);
        assert_int_equal(X509_set_version(cert, 2), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), ca ? 2 : 3), 1);
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const uint8_t *)"vmattest test keys", -1, -1, 0), 1);
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)cn, -1, -1, 0), 1);
        assert_int_equal(X509_set_subject_name(cert, name), 1);
        assert_int_equal(X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name), 1);
        X509_NAME_free(name);
        assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), PINNED_TIME - 86400 * 365));
        assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), PINNED_TIME + 86400 * 365));
        assert_int_equal(X509_set_pubkey(cert, key), 1);
        if (ca) {
                add_ext(cert, issuer ? issuer : cert, NID_basic_constraints, "critical,CA:TRUE");
                add_ext(cert, issuer ? issuer : cert, NID_key_usage, "critical,keyCertSign,cRLSign");
                add_ext(cert, issuer ? issuer : cert, NID_subject_key_identifier, "hash");
                if (issuer)
                        add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always");
        }
        return cert;
}

static void sign_cert(X509 *cert, EVP_PKEY *issuer_key) {
        assert_true(X509_sign(cert, issuer_key, EVP_sha384()) > 0);
}

static void fake_pki_setup(struct fake_pki *pki) {
        pki->ark_key = load_key("ark_private_key.pem");
        pki->ask_key = load_key("ask_private_key.pem");
        pki->asvk_key = load_key("asvk_private_key.pem");
        pki->vcek_key = load_key("vcek_private_key.pem");
        pki->vlek_key = load_key("vlek_private_key.pem");
        pki->ark = make_cert("ARK-Test", pki->ark_key, NULL, NULL, true);
        sign_cert(pki->ark, pki->ark_key);
        pki->ask = make_cert("SEV-Test", pki->ask_key, pki->ark, pki->ark_key, true);
        sign_cert(pki->ask, pki->ark_key);
        pki->asvk = make_cert("SEV-VLEK-Test", pki->asvk_key, pki->ark, pki->ark_key, true);
        sign_cert(pki->asvk, pki->ark_key);
        pki->roots = sk_X509_new_null();
        pki->intermediates = sk_X509_new_null();
        assert_true(sk_X509_push(pki->roots, pki->ark));
        assert_true(sk_X509_push(pki->intermediates, pki->ask));
        assert_true(sk_X509_push(pki->intermediates, pki->asvk));
}

static void fake_pki_free(struct fake_pki *pki) {
        sk_X509_pop_free(pki->roots, X509_free);
        sk_X509_pop_free(pki->intermediates, X509_free);
        EVP_PKEY_free(pki->ark_key);
        EVP_PKEY_free(pki->ask_key);
        EVP_PKEY_free(pki->asvk_key);
        EVP_PKEY_free(pki->vcek_key);
        EVP_PKEY_free(pki->vlek_key);
}

/* What a hostile (or broken) VCEK may get wrong in its AMD extensions. */
enum vcek_defect {
        VCEK_WELL_FORMED,
        VCEK_NO_PRODUCT_NAME,
        VCEK_PRODUCT_NAME_NOT_IA5,
        VCEK_BL_SPL_NOT_INTEGER,
        VCEK_BL_SPL_TOO_LARGE,
        VCEK_BL_SPL_TWICE,
        VCEK_BL_SPL_TRAILING_BYTES,
        VCEK_NO_HWID,
        VCEK_SHORT_HWID,
};

static X509 *make_vcek(const struct fake_pki *pki, const struct snp_report *report, const char *product_name,
                       enum snp_product product, bool vlek, enum vcek_defect defect) {
        X509 *cert = make_cert(vlek ? "SEV-VLEK" : "SEV-VCEK", vlek ? pki->vlek_key : pki->vcek_key,
                               vlek ? pki->asvk : pki->ask, NULL, false);
        static const uint8_t octets[] = {0x04, 0x01, 0x02};
        static const uint8_t spl_trailing[] = {0x02, 0x01, 0x02, 0x00};
        struct snp_tcb tcb;

        snp_tcb_decode(report->reported_tcb, product, &tcb);
        if (defect == VCEK_PRODUCT_NAME_NOT_IA5)
                add_spl(cert, "1.3.6.1.4.1.3704.1.2", 1);
        else if (defect != VCEK_NO_PRODUCT_NAME)
                add_product(cert, product_name);
        if (defect == VCEK_BL_SPL_NOT_INTEGER)
                add_amd_ext(cert, "1.3.6.1.4.1.3704.1.3.1", octets, sizeof(octets));
        else if (defect == VCEK_BL_SPL_TRAILING_BYTES)
                add_amd_ext(cert, "1.3.6.1.4.1.3704.1.3.1", spl_trailing, sizeof(spl_trailing));
        else
                add_spl(cert, "1.3.6.1.4.1.3704.1.3.1", defect == VCEK_BL_SPL_TOO_LARGE ? 0 : tcb.bl);
        if (defect == VCEK_BL_SPL_TOO_LARGE) {
                /* 256, which no SPL byte can be: replaces the 0 above */
                ASN1_INTEGER *v = ASN1_INTEGER_new();
                uint8_t *der = NULL;
                int size;

                X509_EXTENSION_free(X509_delete_ext(cert, X509_get_ext_count(cert) - 1));
                assert_int_equal(ASN1_INTEGER_set_int64(v, 256), 1);
                size = i2d_ASN1_INTEGER(v, &der);
                add_amd_ext(cert, "1.3.6.1.4.1.3704.1.3.1", der, size);
                OPENSSL_free(der);
                ASN1_INTEGER_free(v);
        }
        if (defect == VCEK_BL_SPL_TWICE)
                add_spl(cert, "1.3.6.1.4.1.3704.1.3.1", tcb.bl);
        add_spl(cert, "1.3.6.1.4.1.3704.1.3.2", tcb.tee);
        add_spl(cert, "1.3.6.1.4.1.3704.1.3.3", tcb.snp);
        add_spl(cert, "1.3.6.1.4.1.3704.1.3.8", tcb.ucode);
        if (tcb.has_fmc)
                add_spl(cert, "1.3.6.1.4.1.3704.1.3.9", tcb.fmc);
        if (!vlek && defect != VCEK_NO_HWID)
                add_amd_ext(cert, "1.3.6.1.4.1.3704.1.4", report->chip_id,
                            defect == VCEK_SHORT_HWID ? 32 : product == SNP_PRODUCT_TURIN ? 8 : 64);
        sign_cert(cert, vlek ? pki->asvk_key : pki->ask_key);
        return cert;
}

/* A VCEK (or, with `vlek`, a VLEK under the ASVK) for the report's chip and reported_tcb. */
static X509 *make_endorsement(const struct fake_pki *pki, const struct snp_report *report, const char *product_name,
                              enum snp_product product, bool vlek) {
        return make_vcek(pki, report, product_name, product, vlek, VCEK_WELL_FORMED);
}

static void put_u32le(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64le(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* Signs `bytes` (a report with its fields set) with `key` as the firmware would, and parses it. */
static void sign_report(uint8_t bytes[SNP_REPORT_SIZE], EVP_PKEY *key, struct snp_report *report) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        uint8_t der[128];
        const uint8_t *p = der;
        size_t der_size = sizeof(der);
        ECDSA_SIG *sig;

        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(md, der, &der_size, bytes, SNP_REPORT_SIGNED_SIZE), 1);
        sig = d2i_ECDSA_SIG(NULL, &p, (long)der_size);
        assert_non_null(sig);
        memset(bytes + SNP_REPORT_SIGNED_SIZE, 0, SNP_REPORT_SIZE - SNP_REPORT_SIGNED_SIZE);
        assert_int_equal(BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), bytes + SNP_REPORT_SIGNED_SIZE, 72), 72);
        assert_int_equal(BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), bytes + SNP_REPORT_SIGNED_SIZE + 72, 72), 72);
        ECDSA_SIG_free(sig);
        EVP_MD_CTX_free(md);
        assert_int_equal(snp_report_parse(bytes, SNP_REPORT_SIZE, report), 0);
}

/* The real report's fields as a start, made `version`, signed by `key`. */
static void synthetic_report(uint32_t version, uint32_t signer_info, EVP_PKEY *key, struct snp_report *report,
                             uint8_t bytes[SNP_REPORT_SIZE]) {
        struct snp_report real;

        load_report(&real);
        memcpy(bytes, real.bytes, SNP_REPORT_SIZE);
        put_u32le(bytes, version);
        put_u32le(bytes + 0x48, signer_info);
        put_u64le(bytes + 0x08, 0x30000); /* SMT allowed, no debugging */
        if (version >= 3) {
                bytes[0x188] = 0x19; /* Milan */
                bytes[0x189] = 0x01;
                bytes[0x18A] = 0x01;
        }
        if (version >= 5)
                put_u64le(bytes + 0x1F8, 1);
        sign_report(bytes, key, report);
}

static void test_synthetic_versions(void **state) {
        struct fake_pki pki = {0};
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_verified verified;
        uint8_t bytes[SNP_REPORT_SIZE];

        (void)state;
        fake_pki_setup(&pki);
        trust.extra_roots = pki.roots;
        for (uint32_t version = 2; version <= 5; version++) {
                struct snp_report report;
                struct snp_policy policy;
                _cleanup_(X509_freep) X509 *vcek = NULL;

                if (version == 4)
                        continue;
                synthetic_report(version, 0, pki.vcek_key, &report, bytes);
                policy = permissive_policy(&report);
                policy.allow_smt = true;
                vcek = make_endorsement(&pki, &report, "Milan-B0", SNP_PRODUCT_MILAN, false);
                assert_int_equal(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), 0);
                assert_int_equal(verified.product, SNP_PRODUCT_MILAN);
                assert_false(verified.pinned_root);
                assert_int_equal(report.has_cpuid, version >= 3);
                assert_int_equal(report.has_mit_vectors, version >= 5);

                /* the same root handed over as one of AMD's bundles is not pinned: refused */
                trust.extra_roots = NULL;
                trust.amd_certs = pki.roots;
                assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                             "no pinned AMD root key");
                trust.amd_certs = NULL;
                trust.extra_roots = pki.roots;
        }

        /* a version 3 report whose CPUID is Genoa's under a Milan VCEK */
        {
                struct snp_report report;
                _cleanup_(X509_freep) X509 *vcek = NULL;

                synthetic_report(3, 0, pki.vcek_key, &report, bytes);
                bytes[0x189] = 0x11;
                sign_report(bytes, pki.vcek_key, &report);
                vcek = make_endorsement(&pki, &report, "Milan-B0", SNP_PRODUCT_MILAN, false);
                assert_error(snp_verify_endorsement(&report, vcek, pki.intermediates, &trust, &verified), -EACCES,
                             "cpuid family 0x19 model 0x11 is not Milan");
        }
        /* a productName that names no known product */
        {
                struct snp_report report;
                _cleanup_(X509_freep) X509 *vcek = NULL;

                synthetic_report(2, 0, pki.vcek_key, &report, bytes);
                vcek = make_endorsement(&pki, &report, "Naples-B0", SNP_PRODUCT_MILAN, false);
                assert_error(snp_verify_endorsement(&report, vcek, pki.intermediates, &trust, &verified), -EACCES,
                             "productName \"Naples-B0\" is not Milan, Genoa or Turin");
        }
        fake_pki_free(&pki);
}

/* Turin: FMC first in the TCB, an fmcSPL extension, an 8-byte hwID. */
static void test_synthetic_turin(void **state) {
        struct fake_pki pki = {0};
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_verified verified;
        struct snp_report report;
        struct snp_policy policy;
        uint8_t bytes[SNP_REPORT_SIZE];
        _cleanup_(X509_freep) X509 *vcek = NULL;
        _cleanup_(X509_freep) X509 *milan_layout = NULL;

        (void)state;
        fake_pki_setup(&pki);
        trust.extra_roots = pki.roots;
        synthetic_report(3, 0, pki.vcek_key, &report, bytes);
        bytes[0x188] = 0x1A;
        bytes[0x189] = 0x02;
        put_u64le(bytes + 0x180, 0x4800000004030201ULL); /* reported: fmc 1 bl 2 tee 3 snp 4 ucode 0x48 */
        put_u64le(bytes + 0x38, 0x4800000004030201ULL);
        put_u64le(bytes + 0x1E0, 0x4800000004030201ULL);
        memset(bytes + 0x1A0 + 8, 0, 56);
        sign_report(bytes, pki.vcek_key, &report);
        vcek = make_endorsement(&pki, &report, "Turin-B0", SNP_PRODUCT_TURIN, false);
        policy = permissive_policy(&report);
        policy.allow_smt = true;
        policy.min_tcb = (struct snp_min_tcb){.fmc = 1, .bl = 2, .tee = 3, .snp = 4, .ucode = 0x48};
        assert_int_equal(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), 0);
        assert_int_equal(verified.product, SNP_PRODUCT_TURIN);
        assert_true(verified.reported_tcb.has_fmc);
        assert_int_equal(verified.reported_tcb.fmc, 1);
        assert_int_equal(verified.reported_tcb.snp, 4);
        policy.min_tcb.fmc = 2;
        assert_error(snp_policy_check(&report, SNP_PRODUCT_TURIN, &policy), -EACCES, "reported_tcb fmc SPL 1 is below the minimum 2");

        /* a VCEK made as for Milan (64-byte hwID, SPLs in Milan's layout) does not fit a Turin report */
        milan_layout = make_endorsement(&pki, &report, "Turin-B0", SNP_PRODUCT_MILAN, false);
        assert_error(snp_verify_endorsement(&report, milan_layout, pki.intermediates, &trust, &verified), -EBADMSG,
                     "VCEK: hwID is 64 bytes, Turin's are 8");
        fake_pki_free(&pki);
}

static void test_synthetic_vlek(void **state) {
        struct fake_pki pki = {0};
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_verified verified;
        struct snp_report report;
        struct snp_policy policy;
        uint8_t bytes[SNP_REPORT_SIZE];
        _cleanup_(X509_freep) X509 *vlek = NULL;
        _cleanup_(X509_freep) X509 *vcek = NULL;

        (void)state;
        fake_pki_setup(&pki);
        trust.extra_roots = pki.roots;
        synthetic_report(5, SNP_SIGNING_KEY_VLEK << 2, pki.vlek_key, &report, bytes);
        assert_int_equal(report.signing_key, SNP_SIGNING_KEY_VLEK);
        vlek = make_endorsement(&pki, &report, "Milan-B0", SNP_PRODUCT_MILAN, true);
        policy = permissive_policy(&report);
        policy.allow_smt = true;
        assert_int_equal(snp_verify(&report, vlek, pki.intermediates, &trust, &policy, &verified), 0);
        assert_int_equal(verified.signing_key, SNP_SIGNING_KEY_VLEK);

        /* the VCEK offered for a report that says the VLEK signed it */
        vcek = make_endorsement(&pki, &report, "Milan-B0", SNP_PRODUCT_MILAN, false);
        assert_error(snp_verify_endorsement(&report, vcek, pki.intermediates, &trust, &verified), -EACCES,
                     "signer_info names the VLEK");
        /* a report signed by the VCEK key but claiming the VLEK: the VLEK's key does not verify it */
        synthetic_report(5, SNP_SIGNING_KEY_VLEK << 2, pki.vcek_key, &report, bytes);
        assert_error(snp_verify_endorsement(&report, vlek, pki.intermediates, &trust, &verified), -EACCES,
                     "SNP report: signature does not verify with the VLEK");
        fake_pki_free(&pki);
}

/* A VCEK signed by the (test) ASK whose AMD extensions are malformed: refused, naming them. */
static void test_synthetic_bad_extensions(void **state) {
        static const struct {
                enum vcek_defect defect;
                int code;
                const char *reason;
        } cases[] = {
                {VCEK_NO_PRODUCT_NAME, -EBADMSG, "VCEK: no productName extension (1.3.6.1.4.1.3704.1.2)"},
                {VCEK_PRODUCT_NAME_NOT_IA5, -EBADMSG, "VCEK: the productName extension is not an IA5String"},
                {VCEK_BL_SPL_NOT_INTEGER, -EBADMSG, "VCEK: the blSPL extension is not an integer of 0 to 255"},
                {VCEK_BL_SPL_TOO_LARGE, -EBADMSG, "VCEK: the blSPL extension is not an integer of 0 to 255"},
                {VCEK_BL_SPL_TRAILING_BYTES, -EBADMSG, "VCEK: the blSPL extension is not an integer of 0 to 255"},
                /* which of two would count is a parser's choice: neither does */
                {VCEK_BL_SPL_TWICE, -EBADMSG, "VCEK: the blSPL extension appears twice"},
                {VCEK_NO_HWID, -EBADMSG, "VCEK: no hwID extension"},
                {VCEK_SHORT_HWID, -EBADMSG, "VCEK: hwID is 32 bytes, Milan's are 64"},
        };
        struct fake_pki pki = {0};
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_verified verified;
        struct snp_report report;
        uint8_t bytes[SNP_REPORT_SIZE];

        (void)state;
        fake_pki_setup(&pki);
        trust.extra_roots = pki.roots;
        synthetic_report(2, 0, pki.vcek_key, &report, bytes);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(X509_freep) X509 *vcek = make_vcek(&pki, &report, "Milan-B0", SNP_PRODUCT_MILAN, false,
                                                             cases[i].defect);

                assert_error(snp_verify_endorsement(&report, vcek, pki.intermediates, &trust, &verified), cases[i].code,
                             cases[i].reason);
        }
        fake_pki_free(&pki);
}

/* Every policy reason, on reports that verify. */
static void test_synthetic_policy(void **state) {
        struct fake_pki pki = {0};
        struct snp_trust trust = {.at = PINNED_TIME};
        struct snp_verified verified;
        struct snp_report report;
        struct snp_policy policy;
        uint8_t bytes[SNP_REPORT_SIZE];
        uint8_t wanted_host_data[32] = {0x42};
        uint8_t other_measurement[48] = {1};
        _cleanup_(X509_freep) X509 *vcek = NULL;

        (void)state;
        fake_pki_setup(&pki);
        trust.extra_roots = pki.roots;
        synthetic_report(2, 0, pki.vcek_key, &report, bytes);
        vcek = make_endorsement(&pki, &report, "Milan-B0", SNP_PRODUCT_MILAN, false);

        /* guest policy: debug (bit 19), migration agent (18), SMT (16) */
        put_u64le(bytes + 0x08, 0x30000 | SNP_POLICY_DEBUG);
        sign_report(bytes, pki.vcek_key, &report);
        policy = permissive_policy(&report);
        policy.allow_smt = true;
        assert_int_equal(snp_verify_endorsement(&report, vcek, pki.intermediates, &trust, &verified), 0);
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "SNP report: the guest policy allows debugging (policy bit 19), which is not allowed");
        put_u64le(bytes + 0x08, 0x30000 | SNP_POLICY_MIGRATE_MA);
        sign_report(bytes, pki.vcek_key, &report);
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "migration agent (policy bit 18)");
        policy.allow_migration_agent = true;
        assert_int_equal(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), 0);
        policy.allow_smt = false;
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES, "SMT (policy bit 16)");
        put_u64le(bytes + 0x08, 0x20000);
        sign_report(bytes, pki.vcek_key, &report);
        assert_int_equal(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), 0);

        /* measurement, host_data */
        policy.measurements = &other_measurement;
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "measurement is not one of the 1 allowed");
        policy.measurement_count = 0;
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "no allowed measurement is configured");
        policy.measurements = &report.measurement;
        policy.measurement_count = 1;
        policy.check_host_data = true;
        memcpy(policy.host_data, wanted_host_data, 32);
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "host_data is not the expected one");
        memcpy(bytes + 0xC0, wanted_host_data, 32);
        sign_report(bytes, pki.vcek_key, &report);
        assert_int_equal(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), 0);

        /* VMPL and guest SVN */
        put_u32le(bytes + 0x30, 2);
        put_u32le(bytes + 0x04, 7);
        sign_report(bytes, pki.vcek_key, &report);
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES, "vmpl 2 is not allowed");
        policy.allowed_vmpls = 0x5;
        policy.min_guest_svn = 8;
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "guest_svn 7 is below the minimum 8");
        policy.min_guest_svn = 7;
        assert_int_equal(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), 0);
        put_u32le(bytes + 0x30, 0xffffffffu);
        sign_report(bytes, pki.vcek_key, &report);
        policy.allowed_vmpls = 0xff;
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "vmpl 4294967295 is not allowed");

        /* a TCB below the minimum, with a VCEK issued for it */
        put_u32le(bytes + 0x30, 0);
        policy.min_tcb = (struct snp_min_tcb){.bl = 3};
        sign_report(bytes, pki.vcek_key, &report);
        assert_error(snp_verify(&report, vcek, pki.intermediates, &trust, &policy, &verified), -EACCES,
                     "reported_tcb bl SPL 2 is below the minimum 3");
        fake_pki_free(&pki);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_report),        cmocka_unit_test(test_installed_bundles),
                cmocka_unit_test(test_real_tampered),      cmocka_unit_test(test_flipped_vcek),
                cmocka_unit_test(test_real_policy),
                cmocka_unit_test(test_synthetic_versions), cmocka_unit_test(test_synthetic_turin),
                cmocka_unit_test(test_synthetic_vlek),     cmocka_unit_test(test_synthetic_bad_extensions),
                cmocka_unit_test(test_synthetic_policy),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
