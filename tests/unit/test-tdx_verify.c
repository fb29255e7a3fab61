/* verifier/tdx_verify.c: the real Sapphire Rapids quote (tests/fixtures/platforms/tdx) verifies
 * to Intel's pinned root at a pinned time, and each tampered link is refused with its own reason.
 * Synthetic quotes are made here with an attestation key, a QE report and a PCK chain under a
 * test-made "Intel root", trusted only through tdx_trust.test_roots (the path that exists for
 * tests): they reach what the real quote cannot (a DEBUG TD, a QE that is not Intel's, a chain to
 * another root, a CC event log whose RTMRs the quote holds). */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/eventlog.h"
#include "verifier/cert_chain.h"
#include "verifier/tdx_verify.h"

#define TDX "tests/fixtures/platforms/tdx/"
#define QUOTE_FILE TDX "tdx_prod_quote_SPR_E4.dat"
#define INTEL_ROOT TDX "trusted_root.pem"
/* 2026-01-01T00:00:00Z: the real PCK certificate is valid 2022-09-20 to 2029-09-20 */
#define PINNED_TIME ((time_t)1767225600)
/* 2030-01-01T00:00:00Z: after the real PCK certificate expired */
#define AFTER_PCK_EXPIRY ((time_t)1893456000)

/* Offsets in the real quote (see test-tdx_quote.c). */
#define BODY 48
#define SIGNATURE_DATA 0x27c
#define QE_REPORT (SIGNATURE_DATA + 128 + 6)
#define QE_AUTH_DATA (QE_REPORT + 384 + 64 + 2)
#define PCK_PEM (QE_AUTH_DATA + 32 + 6)
#define QUOTE_END (SIGNATURE_DATA + 4299)

#define ALG_SHA384 0x000c

DEFINE_POINTER_CLEANUP(X509, X509_free)

static const char real_mrtd[] =
        "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb";
static const char real_report_data[] = "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed3"
                                       "13b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113";

static void unhex(const char *text, uint8_t *out, size_t size) {
        assert_int_equal(strlen(text), 2 * size);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(sscanf(text + 2 * i, "%2hhx", &out[i]), 1);
}

static uint8_t mrtd_list[2][TDX_MR_SIZE];

/* The policy the real quote meets: its MRTD and REPORTDATA. */
static void real_policy(struct tdx_policy *p) {
        memset(p, 0, sizeof(*p));
        unhex(real_mrtd, mrtd_list[0], TDX_MR_SIZE);
        memset(mrtd_list[1], 0x5a, TDX_MR_SIZE);
        p->mrtd_allowed = (const uint8_t(*)[TDX_MR_SIZE])mrtd_list;
        p->mrtd_allowed_count = 2;
        unhex(real_report_data, p->report_data, TDX_REPORT_DATA_SIZE);
}

static const struct tdx_trust intel_trust = {.intel_root_file = INTEL_ROOT, .at = PINNED_TIME};

static uint8_t *load_real(size_t *size) {
        uint8_t *data = read_vector(QUOTE_FILE, size);

        assert_int_equal(*size, 4974);
        return data;
}

static void test_real_quote_verifies(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load_real(&size);
        struct tdx_policy policy;
        struct tdx_quote q;
        struct tdx_trust trust = intel_trust;

        (void)state;
        real_policy(&policy);
        assert_int_equal(tdx_verify(data, size, &trust, &policy, &q), 0);
        assert_memory_equal(q.body.mrtd, mrtd_list[0], TDX_MR_SIZE);
        /* the same, without the bytes the upstream test appended */
        assert_int_equal(tdx_verify(data, QUOTE_END, &trust, &policy, NULL), 0);
        /* and with every optional field of the policy set to what the quote holds */
        for (int i = 0; i < TDX_RTMR_COUNT; i++) {
                policy.rtmr_expected[i] = true;
                memcpy(policy.rtmr[i], q.body.rtmr[i], TDX_MR_SIZE);
        }
        policy.mrconfigid_expected = policy.mrowner_expected = true;
        policy.min_tee_tcb_svn_set = true;
        memcpy(policy.min_tee_tcb_svn, q.body.tee_tcb_svn, 16);
        assert_int_equal(tdx_verify(data, size, &trust, &policy, NULL), 0);

        /* after the PCK certificate expired */
        trust.at = AFTER_PCK_EXPIRY;
        assert_error(tdx_verify(data, size, &trust, &policy, NULL), -EACCES,
                     "TDX quote: PCK certificate does not chain to a pinned root (depth 0): certificate has expired");
}

/* Each flipped byte breaks one link, named. */
static void test_real_quote_tampered(void **state) {
        static const struct {
                size_t offset;
                const char *reason;
        } flips[] = {
                {BODY + 0xb8, "TDX quote: signature does not verify with the attestation key"},   /* MRTD */
                {BODY + 583, "TDX quote: signature does not verify with the attestation key"},    /* REPORTDATA */
                {10, "TDX quote: signature does not verify with the attestation key"},            /* header */
                {SIGNATURE_DATA + 5, "TDX quote: signature does not verify with the attestation key"},
                {SIGNATURE_DATA + 64 + 7, "TDX quote: QE report data does not bind the attestation key"},
                {QE_REPORT + 0x20, "TDX quote: QE report signature does not verify with the PCK certificate's key"},
                {QE_REPORT + 0x150, "TDX quote: QE report signature does not verify with the PCK certificate's key"},
                {QE_REPORT + 384 + 3, "TDX quote: QE report signature does not verify with the PCK certificate's key"},
                {QE_AUTH_DATA + 1, "TDX quote: QE report data does not bind the attestation key"},
        };
        size_t size;
        _cleanup_(freep) uint8_t *data = load_real(&size);
        struct tdx_policy policy;

        (void)state;
        real_policy(&policy);
        for (size_t i = 0; i < ELEMENTSOF(flips); i++) {
                data[flips[i].offset] ^= 0x01;
                assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EACCES, flips[i].reason);
                data[flips[i].offset] ^= 0x01;
        }
        assert_int_equal(tdx_verify(data, size, &intel_trust, &policy, NULL), 0);
}

/* Random flips anywhere before the PEM chain (every byte there is signed, bound or a length)
 * never leave a quote that verifies; flips in the bytes after the signature data change nothing. */
static void test_real_quote_random_flips(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load_real(&size);
        _cleanup_(freep) uint8_t *mutated = malloc(size);
        uint64_t prng = FUZZ_SEED;
        struct tdx_policy policy;

        (void)state;
        assert_non_null(mutated);
        real_policy(&policy);
        for (int i = 0; i < 400; i++) {
                int ret;

                memcpy(mutated, data, size);
                prng_mutate(&prng, mutated, PCK_PEM);
                ret = tdx_verify(mutated, size, &intel_trust, &policy, NULL);
                assert_true(ret == -EBADMSG || ret == -EACCES || ret == -EPERM);
        }
        memcpy(mutated, data, size);
        prng_mutate(&prng, mutated + QUOTE_END, size - QUOTE_END);
        assert_int_equal(tdx_verify(mutated, size, &intel_trust, &policy, NULL), 0);
}

static void test_real_quote_policy(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load_real(&size);
        struct tdx_policy policy;
        struct tdx_quote q;

        (void)state;
        real_policy(&policy);
        assert_int_equal(tdx_quote_parse(data, size, &q), 0);

        policy.mrtd_allowed_count = 0;
        assert_error(tdx_policy_check(&q, &policy), -EINVAL, "TDX policy: no MRTD is allowed");
        policy.mrtd_allowed = (const uint8_t(*)[TDX_MR_SIZE])mrtd_list + 1;
        policy.mrtd_allowed_count = 1;
        assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EPERM,
                     "TDX quote: MRTD 6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc"
                     "10d5e119d7215cbb is not allowed by the policy");
        real_policy(&policy);

        policy.report_data[63] ^= 1;
        assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EPERM,
                     "TDX quote: REPORTDATA is 6c62dec1");
        real_policy(&policy);

        policy.rtmr_expected[2] = true;
        assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EPERM,
                     "TDX quote: RTMR2 is 8652f0ca");
        real_policy(&policy);

        policy.mrowner_expected = true;
        policy.mrowner[0] = 1;
        assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EPERM, "TDX quote: MROWNER is 0000");
        real_policy(&policy);

        policy.mrconfigid_expected = true;
        policy.mrconfigid[47] = 1;
        assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EPERM, "TDX quote: MRCONFIGID is 0000");
        real_policy(&policy);

        /* TEE_TCB_SVN 03 00 04 00 ...: component 2 below the minimum */
        policy.min_tee_tcb_svn_set = true;
        policy.min_tee_tcb_svn[2] = 5;
        assert_error(tdx_verify(data, size, &intel_trust, &policy, NULL), -EPERM,
                     "TDX quote: TEE_TCB_SVN component 2 is 4, the policy's minimum is 5");
        policy.min_tee_tcb_svn[2] = 4;
        policy.min_tee_tcb_svn[0] = 3;
        assert_int_equal(tdx_verify(data, size, &intel_trust, &policy, NULL), 0);

        /* a DEBUG TD, policy alone (the synthetic test signs one) */
        q.body.td_attributes[0] |= TDX_TD_ATTRIBUTE_DEBUG;
        assert_error(tdx_policy_check(&q, &policy), -EPERM, "TDATTRIBUTES has DEBUG set");
        policy.allow_debug = true;
        assert_int_equal(tdx_policy_check(&q, &policy), 0);
}

static void test_intel_root_pin(void **state) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *roots = NULL;
        size_t size;
        _cleanup_(freep) uint8_t *data = load_real(&size);
        struct tdx_trust trust = intel_trust;
        struct tdx_policy policy;

        (void)state;
        assert_int_equal(tdx_intel_root_load(INTEL_ROOT, &roots), 0);
        assert_int_equal(sk_X509_num(roots), 1);
        real_policy(&policy);
        /* any other certificate in the root's place is refused, whatever it is */
        trust.intel_root_file = "tests/fixtures/platforms/gce/certificates/pca_tpm_rsa_sign_cert.pem";
        assert_error(tdx_verify(data, size, &trust, &policy, NULL), -EACCES, "not Intel's SGX root CA (SHA-256");
        trust.intel_root_file = "tests/fixtures/platforms/snp/ask_ark_milan.pem";
        assert_error(tdx_verify(data, size, &trust, &policy, NULL), -EACCES, "2 certificates");
        trust.intel_root_file = TDX "no-such-root.pem";
        assert_error(tdx_verify(data, size, &trust, &policy, NULL), -ENOENT, "no-such-root.pem");
}

/* ---- synthetic quotes ---- */

struct authority {
        EVP_PKEY *root_key, *pck_key, *attestation_key, *other_key;
        X509 *root, *pck;
        STACK_OF(X509) *test_roots;
};

static struct authority auth;

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;

        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(cert, ext, -1), 1);
        X509_EXTENSION_free(ext);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long serial) {
        X509 *cert = X509_new();
        X509_NAME *name = X509_NAME_new();

        assert_non_null(cert);
        assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
        assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), PINNED_TIME - 86400));
        assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), PINNED_TIME + 86400));
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Intel Corporation", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_subject_name(cert, name);
        X509_NAME_free(name);
        assert_int_equal(X509_set_pubkey(cert, key), 1);
        X509_set_issuer_name(cert, X509_get_subject_name(issuer ? issuer : cert));
        add_ext(cert, cert, NID_subject_key_identifier, "hash");
        if (issuer) {
                add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always");
                add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
        } else {
                add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
                add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
        }
        assert_true(X509_sign(cert, issuer_key, EVP_sha256()) > 0);
        return cert;
}

static int setup(void **state) {
        (void)state;
        auth.root_key = EVP_EC_gen("P-256");
        auth.pck_key = EVP_EC_gen("P-256");
        auth.attestation_key = EVP_EC_gen("P-256");
        auth.other_key = EVP_EC_gen("P-256");
        assert_true(auth.root_key && auth.pck_key && auth.attestation_key && auth.other_key);
        auth.root = make_cert(auth.root_key, "Test Intel SGX Root CA", NULL, auth.root_key, 1);
        auth.pck = make_cert(auth.pck_key, "Intel SGX PCK Certificate", auth.root, auth.root_key, 2);
        auth.test_roots = sk_X509_new_null();
        assert_non_null(auth.test_roots);
        assert_int_equal(X509_up_ref(auth.root), 1);
        assert_true(sk_X509_push(auth.test_roots, auth.root) > 0);
        return 0;
}

static int teardown(void **state) {
        (void)state;
        sk_X509_pop_free(auth.test_roots, X509_free);
        X509_free(auth.root);
        X509_free(auth.pck);
        EVP_PKEY_free(auth.root_key);
        EVP_PKEY_free(auth.pck_key);
        EVP_PKEY_free(auth.attestation_key);
        EVP_PKEY_free(auth.other_key);
        return 0;
}

struct bytes {
        uint8_t *data;
        size_t size, cap;
};

static void put(struct bytes *b, const void *p, size_t n) {
        if (b->size + n > b->cap) {
                b->cap = (b->size + n) * 2 + 64;
                b->data = realloc(b->data, b->cap);
                assert_non_null(b->data);
        }
        if (n)
                memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void put_u16(struct bytes *b, uint16_t v) {
        uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

        put(b, le, 2);
}

static void put_u32(struct bytes *b, uint32_t v) {
        put_u16(b, (uint16_t)v);
        put_u16(b, (uint16_t)(v >> 16));
}

/* ECDSA P-256 SHA-256 as the quote carries it: r || s, 32 bytes each. */
static void sign_raw(EVP_PKEY *key, const uint8_t *message, size_t size, uint8_t out[64]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t der[128];
        const uint8_t *p = der;
        size_t der_size = sizeof(der);
        ECDSA_SIG *sig;
        const BIGNUM *r, *s;

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(ctx, der, &der_size, message, size), 1);
        EVP_MD_CTX_free(ctx);
        sig = d2i_ECDSA_SIG(NULL, &p, (long)der_size);
        assert_non_null(sig);
        ECDSA_SIG_get0(sig, &r, &s);
        assert_int_equal(BN_bn2binpad(r, out, 32), 32);
        assert_int_equal(BN_bn2binpad(s, out + 32, 32), 32);
        ECDSA_SIG_free(sig);
}

static void public_xy(EVP_PKEY *key, uint8_t out[64]) {
        uint8_t point[65];
        size_t size = 0;

        assert_int_equal(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &size), 1);
        assert_int_equal(size, 65);
        memcpy(out, point + 1, 64);
}

static void append_pem(struct bytes *b, X509 *cert) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *text;
        long n;

        assert_non_null(bio);
        assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
        n = BIO_get_mem_data(bio, &text);
        put(b, text, (size_t)n);
        BIO_free(bio);
}

/* What a synthetic quote gets wrong, if anything. */
struct synth {
        struct tdx_quote_body body;
        EVP_PKEY *qe_signer;      /* NULL: the PCK key */
        X509 *leaf;               /* NULL: the PCK certificate */
        bool not_intel_qe;
        bool unbound_key;
        bool report_data_tail;    /* the QE REPORTDATA's second half not zeros */
        bool debug_qe;            /* the QE's ATTRIBUTES.DEBUG set */
};

static void body_bytes(struct bytes *b, const struct tdx_quote_body *body) {
        put(b, body->tee_tcb_svn, 16);
        put(b, body->mrseam, 48);
        put(b, body->mrsignerseam, 48);
        put(b, body->seam_attributes, 8);
        put(b, body->td_attributes, 8);
        put(b, body->xfam, 8);
        put(b, body->mrtd, 48);
        put(b, body->mrconfigid, 48);
        put(b, body->mrowner, 48);
        put(b, body->mrownerconfig, 48);
        put(b, body->rtmr, sizeof(body->rtmr));
        put(b, body->report_data, 64);
}

static struct bytes make_quote(const struct synth *s) {
        static const uint8_t intel_qe_mrsigner[32] = {
                0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
                0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5};
        struct bytes quote = {0}, cert_data = {0}, chain = {0};
        uint8_t quote_signature[64], qe_signature[64], key[64], qe_report[384] = {0}, auth_data[32];
        uint8_t vendor[16] = {0x93, 0x9a}, zeros[20] = {0};

        put_u16(&quote, 4);
        put_u16(&quote, 2);
        put_u32(&quote, 0x81);
        put_u32(&quote, 0);
        put(&quote, vendor, sizeof(vendor));
        put(&quote, zeros, 20);
        body_bytes(&quote, &s->body);
        assert_int_equal(quote.size, 632);
        sign_raw(auth.attestation_key, quote.data, quote.size, quote_signature);
        public_xy(auth.attestation_key, key);

        /* the QE report binds the attestation key and the authentication data */
        for (size_t i = 0; i < sizeof(auth_data); i++)
                auth_data[i] = (uint8_t)i;
        memcpy(qe_report + 0x80, intel_qe_mrsigner, 32);
        qe_report[0x30] = s->debug_qe ? 0x17 : 0x15; /* ATTRIBUTES: INIT, MODE64BIT, PROVISIONKEY */
        qe_report[0x38] = 0xe7;                      /* XFRM, not checked */
        qe_report[0x100] = s->not_intel_qe ? 1 : 2;
        qe_report[0x102] = 4;
        {
                EVP_MD_CTX *ctx = EVP_MD_CTX_new();

                assert_non_null(ctx);
                assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
                assert_int_equal(EVP_DigestUpdate(ctx, key, 64), 1);
                assert_int_equal(EVP_DigestUpdate(ctx, auth_data, s->unbound_key ? 31 : 32), 1);
                assert_int_equal(EVP_DigestFinal_ex(ctx, qe_report + 0x140, NULL), 1);
                EVP_MD_CTX_free(ctx);
        }
        if (s->report_data_tail)
                qe_report[0x17f] = 1;
        append_pem(&chain, s->leaf ? s->leaf : auth.pck);
        append_pem(&chain, auth.root);

        put(&cert_data, qe_report, sizeof(qe_report));
        sign_raw(s->qe_signer ? s->qe_signer : auth.pck_key, qe_report, sizeof(qe_report), qe_signature);
        put(&cert_data, qe_signature, 64);
        put_u16(&cert_data, sizeof(auth_data));
        put(&cert_data, auth_data, sizeof(auth_data));
        put_u16(&cert_data, 5);
        put_u32(&cert_data, (uint32_t)chain.size);
        put(&cert_data, chain.data, chain.size);

        put_u32(&quote, (uint32_t)(128 + 6 + cert_data.size));
        put(&quote, quote_signature, 64);
        put(&quote, key, 64);
        put_u16(&quote, 6);
        put_u32(&quote, (uint32_t)cert_data.size);
        put(&quote, cert_data.data, cert_data.size);
        free(cert_data.data);
        free(chain.data);
        return quote;
}

static void synth_body(struct tdx_quote_body *body) {
        memset(body, 0, sizeof(*body));
        body->tee_tcb_svn[0] = 3;
        memset(body->mrtd, 0x11, TDX_MR_SIZE);
        memset(body->report_data, 0x22, TDX_REPORT_DATA_SIZE);
        body->td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
}

static uint8_t synth_mrtd[1][TDX_MR_SIZE];

static void synth_policy(struct tdx_policy *p) {
        memset(p, 0, sizeof(*p));
        memset(synth_mrtd, 0x11, sizeof(synth_mrtd));
        p->mrtd_allowed = (const uint8_t(*)[TDX_MR_SIZE])synth_mrtd;
        p->mrtd_allowed_count = 1;
        memset(p->report_data, 0x22, TDX_REPORT_DATA_SIZE);
}

static int verify_synth(const struct synth *s, const struct tdx_policy *policy, bool test_root_trusted) {
        struct bytes quote = make_quote(s);
        struct tdx_trust trust = intel_trust;
        int ret;

        if (test_root_trusted)
                trust.test_roots = auth.test_roots;
        ret = tdx_verify(quote.data, quote.size, &trust, policy, NULL);
        free(quote.data);
        return ret;
}

static void test_synthetic_links(void **state) {
        _cleanup_(X509_freep) X509 *not_pck = make_cert(auth.pck_key, "Intel SGX PCK Platform CA", auth.root,
                                                         auth.root_key, 3);
        _cleanup_(X509_freep) X509 *other_root = make_cert(auth.other_key, "Test Intel SGX Root CA", NULL,
                                                           auth.other_key, 4);
        _cleanup_(X509_freep) X509 *foreign_pck = make_cert(auth.pck_key, "Intel SGX PCK Certificate", other_root,
                                                            auth.other_key, 5);
        struct synth s = {0};
        struct tdx_policy policy;

        (void)state;
        synth_body(&s.body);
        synth_policy(&policy);
        assert_int_equal(verify_synth(&s, &policy, true), 0);

        /* the test root is trusted only through test_roots: Intel's pinned root does not vouch */
        assert_error(verify_synth(&s, &policy, false), -EACCES,
                     "TDX quote: PCK certificate does not chain to a pinned root");
        /* a PCK certificate under another self-made root, that root in the PEM chain */
        s.leaf = foreign_pck;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: PCK certificate does not chain to a pinned root");
        /* a certificate of the right root that is not a PCK certificate */
        s.leaf = not_pck;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: the chain's first certificate is not a PCK certificate");
        s.leaf = NULL;
        /* a QE report signed by another key than the PCK certificate's */
        s.qe_signer = auth.other_key;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: QE report signature does not verify with the PCK certificate's key");
        s.qe_signer = NULL;
        /* an enclave that is not Intel's TD QE */
        s.not_intel_qe = true;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: QE report is not from Intel's TD quoting enclave");
        s.not_intel_qe = false;
        s.unbound_key = true;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: QE report data does not bind the attestation key");
        s.unbound_key = false;
        s.report_data_tail = true;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: QE report data does not bind the attestation key");
        s.report_data_tail = false;
        s.debug_qe = true;
        assert_error(verify_synth(&s, &policy, true), -EACCES,
                     "TDX quote: QE report's ATTRIBUTES or MISCSELECT are not those of Intel's TD_QE identity");
        s.debug_qe = false;

        /* a DEBUG TD, signed as such */
        s.body.td_attributes[0] |= TDX_TD_ATTRIBUTE_DEBUG;
        assert_error(verify_synth(&s, &policy, true), -EPERM,
                     "TDX quote: TDATTRIBUTES has DEBUG set (the host can read the TD's memory)");
        policy.allow_debug = true;
        assert_int_equal(verify_synth(&s, &policy, true), 0);
}

/* ---- the CC event log ---- */

/* SHA-384 of `text`, as a firmware would measure it. */
static void sha384(const char *text, uint8_t out[48]) {
        unsigned int n = 0;

        assert_int_equal(EVP_Digest(text, strlen(text), out, &n, EVP_sha384(), NULL), 1);
        assert_int_equal(n, 48);
}

/* RTMR = SHA-384(RTMR || digest), computed here without lib/eventlog. */
static void extend(uint8_t rtmr[48], const uint8_t digest[48]) {
        uint8_t both[96];
        unsigned int n = 0;

        memcpy(both, rtmr, 48);
        memcpy(both + 48, digest, 48);
        assert_int_equal(EVP_Digest(both, sizeof(both), rtmr, &n, EVP_sha384(), NULL), 1);
}

/* A CCEL as TDVF writes it: the Spec ID event declaring SHA-384 alone, then TCG_PCR_EVENT2
 * records whose PCR index is the MR index. */
static void ccel_start(struct bytes *log, uint16_t alg, uint16_t digest_size) {
        struct bytes spec = {0};
        uint8_t zeros[20] = {0};

        put(&spec, "Spec ID Event03", 16);
        put_u32(&spec, 0);          /* platformClass */
        put(&spec, "\x00\x02\x00\x02", 4); /* version 2.0, errata 0, uintnSize 2 */
        put_u32(&spec, 1);
        put_u16(&spec, alg);
        put_u16(&spec, digest_size);
        put(&spec, zeros, 1);       /* vendorInfoSize */

        put_u32(log, 0);
        put_u32(log, EV_NO_ACTION);
        put(log, zeros, 20);
        put_u32(log, (uint32_t)spec.size);
        put(log, spec.data, spec.size);
        free(spec.data);
}

static void ccel_event(struct bytes *log, uint32_t mr_index, const char *text, uint8_t digest[48]) {
        sha384(text, digest);
        put_u32(log, mr_index);
        put_u32(log, EV_EFI_ACTION);
        put_u32(log, 1);
        put_u16(log, ALG_SHA384);
        put(log, digest, 48);
        put_u32(log, (uint32_t)strlen(text));
        put(log, text, strlen(text));
}

static void test_rtmr_replay(void **state) {
        struct bytes log = {0}, extra = {0}, sha256_only = {0};
        struct synth s = {0};
        struct tdx_policy policy;
        struct tdx_quote q;
        struct bytes quote;
        struct tdx_trust trust = intel_trust;
        uint8_t digest[48];

        (void)state;
        synth_body(&s.body);
        synth_policy(&policy);
        trust.test_roots = auth.test_roots;
        ccel_start(&log, ALG_SHA384, 48);
        ccel_event(&log, 1, "TDVF configuration", digest);
        extend(s.body.rtmr[0], digest);
        ccel_event(&log, 2, "boot loader", digest);
        extend(s.body.rtmr[1], digest);
        ccel_event(&log, 1, "Secure Boot variables", digest);
        extend(s.body.rtmr[0], digest);
        ccel_event(&log, 3, "kernel command line", digest);
        extend(s.body.rtmr[2], digest);
        /* RTMR3: no event, zeros */

        quote = make_quote(&s);
        assert_int_equal(tdx_verify(quote.data, quote.size, &trust, &policy, &q), 0);
        free(quote.data);
        assert_int_equal(tdx_rtmr_replay(log.data, log.size, &q.body), 0);

        /* a quote whose RTMR1 the log does not reach */
        q.body.rtmr[1][0] ^= 1;
        assert_error(tdx_rtmr_replay(log.data, log.size, &q.body), -EPERM, "CC event log: RTMR1 replays to");
        q.body.rtmr[1][0] ^= 1;
        /* the RTMR3 the quote holds is not zeros, the log extends nothing into it */
        q.body.rtmr[3][47] = 1;
        assert_error(tdx_rtmr_replay(log.data, log.size, &q.body), -EPERM, "CC event log: RTMR3 replays to 0000");
        q.body.rtmr[3][47] = 0;

        /* a digest changed in the log: the RTMR it extends no longer replays */
        log.data[log.size - 19 - 4 - 48] ^= 1;
        assert_error(tdx_rtmr_replay(log.data, log.size, &q.body), -EPERM, "CC event log: RTMR2 replays to");
        log.data[log.size - 19 - 4 - 48] ^= 1;
        assert_int_equal(tdx_rtmr_replay(log.data, log.size, &q.body), 0);

        /* an event for a register that is not an RTMR */
        put(&extra, log.data, log.size);
        ccel_event(&extra, 5, "not an RTMR", digest);
        assert_error(tdx_rtmr_replay(extra.data, extra.size, &q.body), -EBADMSG,
                     "CC event log: an event extends measurement register index 5, not an RTMR");
        extra.size = log.size;
        ccel_event(&extra, 0, "MRTD", digest);
        assert_error(tdx_rtmr_replay(extra.data, extra.size, &q.body), -EBADMSG, "register index 0");

        /* a log without SHA-384 digests, and a cut one */
        ccel_start(&sha256_only, 0x000b, 32);
        assert_error(tdx_rtmr_replay(sha256_only.data, sha256_only.size, &q.body), -EBADMSG, "no sha384 digests");
        assert_int_equal(tdx_rtmr_replay(log.data, log.size - 1, &q.body), -EBADMSG);
        assert_int_equal(tdx_rtmr_replay(log.data, 0, &q.body), -EBADMSG);
        free(log.data);
        free(extra.data);
        free(sha256_only.data);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_quote_verifies),
                cmocka_unit_test(test_real_quote_tampered),
                cmocka_unit_test(test_real_quote_random_flips),
                cmocka_unit_test(test_real_quote_policy),
                cmocka_unit_test(test_intel_root_pin),
                cmocka_unit_test(test_synthetic_links),
                cmocka_unit_test(test_rtmr_replay),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
