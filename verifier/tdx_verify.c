/* Verifies a TDX quote from Intel's pinned root down to the TD's measurements; security
 * critical: every decision here rests on bytes a signature covers (tdx_verify.h). */
#include "verifier/tdx_verify.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "verifier/cert_chain.h"

DEFINE_POINTER_CLEANUP(X509, X509_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)
DEFINE_POINTER_CLEANUP(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
DEFINE_POINTER_CLEANUP(OSSL_PARAM, OSSL_PARAM_free)
DEFINE_POINTER_CLEANUP(ECDSA_SIG, ECDSA_SIG_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

/* SHA-256 of the DER of Intel's SGX Root CA (CN=Intel SGX Root CA, valid 2018-05-21 to
 * 2049-12-31), the one root of every PCK certificate. */
static const uint8_t intel_sgx_root_sha256[32] = {
        0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
        0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

/* Intel's TD quoting enclave, from Intel's QE identity for TD_QE: the enclave signer's key hash
 * and its product id (the SGX QE for enclaves is product 1). */
static const uint8_t intel_td_qe_mrsigner[32] = {
        0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
        0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5,
};
#define INTEL_TD_QE_ISVPRODID 2
/* ... and the SGX attributes it must run with, under the identity's mask: INIT (bit 0) and
 * PROVISIONKEY (bit 4) set, DEBUG (bit 1) clear, for the host could read a debug enclave's
 * attestation key; no MISCSELECT bits. The mask leaves MODE64BIT (bit 2) and XFRM (bytes 8-15)
 * free. */
static const uint8_t intel_td_qe_attributes[16] = {0x11};
static const uint8_t intel_td_qe_attributes_mask[16] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* The PCK certificate's subject CN (Intel's PCK certificate profile); the platform and processor
 * CAs and Intel's TCB signing certificate chain to the same root and must not stand in for it. */
#define PCK_LEAF_CN "Intel SGX PCK Certificate"

static const char *hex(const uint8_t *data, size_t size, char *buf, size_t cap) {
        static const char digits[] = "0123456789abcdef";
        size_t i;

        for (i = 0; i < size && 2 * i + 2 < cap; i++) {
                buf[2 * i] = digits[data[i] >> 4];
                buf[2 * i + 1] = digits[data[i] & 0xf];
        }
        buf[2 * i] = '\0';
        return buf;
}

/* A P-256 public key from the quote's raw x || y; OpenSSL refuses a point off the curve. */
static int p256_key(const uint8_t xy[TDX_ECDSA_KEY_SIZE], EVP_PKEY **out) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        uint8_t point[1 + TDX_ECDSA_KEY_SIZE];

        if (!bld || !ctx)
                return -ENOMEM;
        point[0] = 0x04; /* SEC 1 uncompressed */
        memcpy(point + 1, xy, TDX_ECDSA_KEY_SIZE);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
                return -ENOMEM;
        params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return -ENOMEM;
        *out = NULL;
        if (EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                ERR_clear_error();
                return vm_error(-EBADMSG, "TDX quote: the attestation public key is not a P-256 point");
        }
        return 0;
}

/* 1 when the raw r || s signature over `message` verifies with `key` (ECDSA, SHA-256), 0 when
 * it does not, -ENOMEM. */
static int ecdsa_raw_verify(EVP_PKEY *key, const uint8_t raw[TDX_ECDSA_SIGNATURE_SIZE], const uint8_t *message,
                            size_t size) {
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(BN_freep) BIGNUM *r = BN_bin2bn(raw, TDX_ECDSA_SIGNATURE_SIZE / 2, NULL);
        _cleanup_(BN_freep) BIGNUM *s = BN_bin2bn(raw + TDX_ECDSA_SIGNATURE_SIZE / 2, TDX_ECDSA_SIGNATURE_SIZE / 2, NULL);
        _cleanup_(freep) uint8_t *der = NULL;
        uint8_t *p;
        int der_size, ok;

        if (!sig || !ctx || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1)
                return -ENOMEM;
        r = s = NULL; /* owned by sig now */
        der_size = i2d_ECDSA_SIG(sig, NULL);
        if (der_size <= 0 || !(der = malloc((size_t)der_size)))
                return -ENOMEM;
        p = der;
        i2d_ECDSA_SIG(sig, &p);
        if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1) {
                ERR_clear_error();
                return 0;
        }
        ok = EVP_DigestVerify(ctx, der, (size_t)der_size, message, size) == 1;
        ERR_clear_error();
        return ok;
}

int tdx_intel_root_load(const char *path, STACK_OF(X509) **roots) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *certs = NULL;
        uint8_t digest[32];
        char text[65], pinned[65];
        int ret;

        if (!path)
                path = TDX_INTEL_ROOT_FILE;
        if ((ret = cert_pem_load_file(path, &certs)) < 0)
                return ret;
        if (sk_X509_num(certs) != 1)
                return vm_error(-EACCES, "%s: %d certificates, Intel's SGX root CA alone was expected", path,
                                sk_X509_num(certs));
        if ((ret = cert_sha256(sk_X509_value(certs, 0), digest)) < 0)
                return ret;
        if (memcmp(digest, intel_sgx_root_sha256, sizeof(digest)) != 0)
                return vm_error(-EACCES, "%s: not Intel's SGX root CA (SHA-256 %s, pinned %s)", path,
                                hex(digest, sizeof(digest), text, sizeof(text)),
                                hex(intel_sgx_root_sha256, sizeof(intel_sgx_root_sha256), pinned, sizeof(pinned)));
        *roots = TAKE_PTR(certs);
        return 0;
}

/* The pinned Intel root and, for tests, the test roots. */
static int trusted_roots(const struct tdx_trust *trust, STACK_OF(X509) **out) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *roots = NULL;
        int ret;

        if ((ret = tdx_intel_root_load(trust->intel_root_file, &roots)) < 0)
                return ret;
        for (int i = 0; trust->test_roots && i < sk_X509_num(trust->test_roots); i++) {
                X509 *root = sk_X509_value(trust->test_roots, i);

                if (X509_up_ref(root) != 1)
                        return -ENOMEM;
                if (!sk_X509_push(roots, root)) {
                        X509_free(root);
                        return -ENOMEM;
                }
        }
        *out = TAKE_PTR(roots);
        return 0;
}

/* The PEM chain's first certificate is the PCK certificate; the others only help build the
 * path to a trusted root. On success *pck holds a reference to it. */
static int verify_pck_chain(const struct tdx_quote *q, const struct tdx_trust *trust, X509 **pck) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *chain = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *roots = NULL;
        _cleanup_(X509_freep) X509 *leaf = NULL;
        struct cert_chain_check check = {.at = trust->at, .leaf_name = "TDX quote: PCK certificate"};
        char cn[64];
        int ret;

        if ((ret = cert_pem_parse_all("TDX quote: PCK certificate chain", q->pck_chain_pem, q->pck_chain_size,
                                      &chain)) < 0)
                return ret;
        leaf = sk_X509_shift(chain);
        if ((ret = trusted_roots(trust, &roots)) < 0)
                return ret;
        check.roots = roots;
        check.intermediates = chain;
        if ((ret = cert_chain_verify(leaf, &check)) < 0)
                return ret;
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn)) < 0 ||
            strcmp(cn, PCK_LEAF_CN) != 0)
                return vm_error(-EACCES, "TDX quote: the chain's first certificate is not a PCK certificate "
                                         "(subject CN is not \"" PCK_LEAF_CN "\")");
        *pck = TAKE_PTR(leaf);
        return 0;
}

static int verify_qe_report(const struct tdx_quote *q, X509 *pck) {
        EVP_PKEY *pck_key = X509_get0_pubkey(pck);
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t binding[32];
        static const uint8_t zeros[32];
        bool qe_attributes_ok = true;
        int ret;

        if (!pck_key || !EVP_PKEY_is_a(pck_key, "EC"))
                return vm_error(-EACCES, "TDX quote: the PCK certificate's key is not an EC key");
        ret = ecdsa_raw_verify(pck_key, q->qe_report_signature, q->qe_report_raw, TDX_QE_REPORT_SIZE);
        if (ret < 0)
                return ret;
        if (ret == 0)
                return vm_error(-EACCES, "TDX quote: QE report signature does not verify with the PCK certificate's key");
        if (memcmp(q->qe_report.mrsigner, intel_td_qe_mrsigner, sizeof(intel_td_qe_mrsigner)) != 0 ||
            q->qe_report.isv_prod_id != INTEL_TD_QE_ISVPRODID)
                return vm_error(-EACCES, "TDX quote: QE report is not from Intel's TD quoting enclave (MRSIGNER or "
                                         "ISVPRODID %u differs from Intel's TD_QE identity)",
                                q->qe_report.isv_prod_id);
        for (size_t i = 0; i < sizeof(intel_td_qe_attributes); i++)
                if ((q->qe_report.attributes[i] & intel_td_qe_attributes_mask[i]) != intel_td_qe_attributes[i])
                        qe_attributes_ok = false;
        if (!qe_attributes_ok || q->qe_report.misc_select != 0)
                return vm_error(-EACCES, "TDX quote: QE report's ATTRIBUTES or MISCSELECT are not those of "
                                         "Intel's TD_QE identity (a debug quoting enclave?)");
        /* The QE puts the hash of the attestation key it generated, with its authentication
         * data, into its report: that is what ties the key to this platform's PCK. */
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, q->attestation_key, TDX_ECDSA_KEY_SIZE) != 1 ||
            EVP_DigestUpdate(ctx, q->qe_auth_data, q->qe_auth_data_size) != 1 ||
            EVP_DigestFinal_ex(ctx, binding, NULL) != 1)
                return -ENOMEM;
        if (memcmp(q->qe_report.report_data, binding, sizeof(binding)) != 0 ||
            memcmp(q->qe_report.report_data + 32, zeros, sizeof(zeros)) != 0)
                return vm_error(-EACCES, "TDX quote: QE report data does not bind the attestation key "
                                         "(SHA-256 of attestation key || QE authentication data, then 32 zeros)");
        return 0;
}

int tdx_quote_verify(const struct tdx_quote *quote, const struct tdx_trust *trust) {
        _cleanup_(X509_freep) X509 *pck = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *attestation_key = NULL;
        int ret;

        if ((ret = verify_pck_chain(quote, trust, &pck)) < 0 || (ret = verify_qe_report(quote, pck)) < 0 ||
            (ret = p256_key(quote->attestation_key, &attestation_key)) < 0)
                return ret;
        ret = ecdsa_raw_verify(attestation_key, quote->quote_signature, quote->signed_region, TDX_SIGNED_SIZE);
        if (ret < 0)
                return ret;
        if (ret == 0)
                return vm_error(-EACCES, "TDX quote: signature does not verify with the attestation key");
        return 0;
}

static int check_register(const char *name, const uint8_t *value, const uint8_t *expected, size_t size) {
        char got[2 * TDX_REPORT_DATA_SIZE + 1], want[2 * TDX_REPORT_DATA_SIZE + 1];

        if (memcmp(value, expected, size) == 0)
                return 0;
        return vm_error(-EPERM, "TDX quote: %s is %s, the policy expects %s", name, hex(value, size, got, sizeof(got)),
                        hex(expected, size, want, sizeof(want)));
}

int tdx_policy_check(const struct tdx_quote *quote, const struct tdx_policy *policy) {
        static const char *const rtmr_names[TDX_RTMR_COUNT] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};
        const struct tdx_quote_body *b = &quote->body;
        char text[2 * TDX_MR_SIZE + 1];
        bool allowed = false;
        int ret;

        if (!policy->mrtd_allowed || policy->mrtd_allowed_count == 0)
                return vm_error(-EINVAL, "TDX policy: no MRTD is allowed (list the TD firmware measurements)");
        for (size_t i = 0; i < policy->mrtd_allowed_count && !allowed; i++)
                allowed = memcmp(b->mrtd, policy->mrtd_allowed[i], TDX_MR_SIZE) == 0;
        if (!allowed)
                return vm_error(-EPERM, "TDX quote: MRTD %s is not allowed by the policy",
                                hex(b->mrtd, TDX_MR_SIZE, text, sizeof(text)));
        if ((b->td_attributes[0] & TDX_TD_ATTRIBUTE_DEBUG) && !policy->allow_debug)
                return vm_error(-EPERM, "TDX quote: TDATTRIBUTES has DEBUG set (the host can read the TD's "
                                        "memory) and the policy does not allow debug TDs");
        if (policy->min_tee_tcb_svn_set)
                for (int i = 0; i < 16; i++)
                        if (b->tee_tcb_svn[i] < policy->min_tee_tcb_svn[i])
                                return vm_error(-EPERM, "TDX quote: TEE_TCB_SVN component %d is %u, the policy's "
                                                        "minimum is %u",
                                                i, b->tee_tcb_svn[i], policy->min_tee_tcb_svn[i]);
        if (policy->mrconfigid_expected &&
            (ret = check_register("MRCONFIGID", b->mrconfigid, policy->mrconfigid, TDX_MR_SIZE)) < 0)
                return ret;
        if (policy->mrowner_expected && (ret = check_register("MROWNER", b->mrowner, policy->mrowner, TDX_MR_SIZE)) < 0)
                return ret;
        for (int i = 0; i < TDX_RTMR_COUNT; i++)
                if (policy->rtmr_expected[i] &&
                    (ret = check_register(rtmr_names[i], b->rtmr[i], policy->rtmr[i], TDX_MR_SIZE)) < 0)
                        return ret;
        return check_register("REPORTDATA", b->report_data, policy->report_data, TDX_REPORT_DATA_SIZE);
}

int tdx_verify(const uint8_t *data, size_t size, const struct tdx_trust *trust, const struct tdx_policy *policy,
               struct tdx_quote *quote) {
        struct tdx_quote q;
        int ret;

        if ((ret = tdx_quote_parse(data, size, &q)) < 0 || (ret = tdx_quote_verify(&q, trust)) < 0 ||
            (ret = tdx_policy_check(&q, policy)) < 0)
                return ret;
        if (quote)
                *quote = q;
        return 0;
}

int tdx_rtmr_replay(const uint8_t *ccel, size_t size, const struct tdx_quote_body *body) {
        static const uint8_t zeros[TDX_MR_SIZE];
        char got[2 * TDX_MR_SIZE + 1], want[2 * TDX_MR_SIZE + 1];
        struct pcr_values replayed;
        int ret;

        if ((ret = eventlog_replay(ccel, size, TPM2_ALG_SHA384, &replayed)) < 0)
                return ret;
        /* 1-4 are RTMR0-3; an event for MRTD (0) or beyond RTMR3 is not one a TD logs */
        if (replayed.mask & ~0x1eu) {
                unsigned index = (unsigned)__builtin_ctz(replayed.mask & ~0x1eu);

                return vm_error(-EBADMSG, "CC event log: an event extends measurement register index %u, not an "
                                          "RTMR (1-4)",
                                index);
        }
        for (unsigned i = 0; i < TDX_RTMR_COUNT; i++) {
                const uint8_t *value = (replayed.mask & (1u << (i + 1))) ? replayed.value[i + 1].buffer : zeros;

                if (memcmp(value, body->rtmr[i], TDX_MR_SIZE) != 0)
                        return vm_error(-EPERM, "CC event log: RTMR%u replays to %s, the quote has %s", i,
                                        hex(value, TDX_MR_SIZE, got, sizeof(got)),
                                        hex(body->rtmr[i], TDX_MR_SIZE, want, sizeof(want)));
        }
        return 0;
}
