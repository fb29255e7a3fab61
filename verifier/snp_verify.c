/* SEV-SNP report verification: the endorsement (AMD's certificates and the report's signature)
 * and the tenant's policy over the signed fields. Security-sensitive: every decision here rests
 * on bytes the report's signature or AMD's certificate signatures cover. */
#include "verifier/snp_verify.h"

#include <dirent.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "verifier/cert_chain.h"

/* SHA-256 of the DER of AMD's root keys, as AMD's Key Distribution Service serves them in each
 * product's cert_chain (verifier/amd/). A new product needs a new line. */
static const struct {
        enum snp_product product;
        uint8_t sha256[32];
} pinned_arks[] = {
        {SNP_PRODUCT_MILAN, {0x69, 0xd0, 0x63, 0xb4, 0x53, 0x44, 0xd2, 0x6a, 0x2e, 0x94, 0xe1, 0xf4, 0x21, 0x0d, 0xe4, 0x9e,
                             0xf5, 0x55, 0x30, 0x82, 0x87, 0xd4, 0xc1, 0x74, 0x44, 0x5c, 0x95, 0x63, 0x9a, 0x54, 0x0b, 0xcd}},
        {SNP_PRODUCT_GENOA, {0x4c, 0x65, 0x98, 0xd1, 0x9c, 0x18, 0x71, 0x9c, 0x5d, 0xfd, 0x4a, 0x7d, 0x33, 0x5f, 0x67, 0x4e,
                             0x5b, 0xfe, 0x1d, 0x8f, 0x80, 0x0c, 0xea, 0x2c, 0xf2, 0x70, 0xc1, 0x0d, 0x10, 0x3d, 0xb2, 0xf1}},
        {SNP_PRODUCT_TURIN, {0x1f, 0x08, 0x41, 0x61, 0xa4, 0x4b, 0xb6, 0xd9, 0x37, 0x78, 0xa9, 0x04, 0x87, 0x7d, 0x48, 0x19,
                             0xca, 0xfa, 0x5d, 0x05, 0xef, 0x41, 0x93, 0xb2, 0xde, 0xd9, 0xdd, 0x9c, 0x73, 0xdd, 0x3f, 0x6a}},
};

/* The AMD extensions of a VCEK/VLEK (AMD's "Versioned Chip Endorsement Key" specification). */
#define OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define OID_BL_SPL "1.3.6.1.4.1.3704.1.3.1"
#define OID_TEE_SPL "1.3.6.1.4.1.3704.1.3.2"
#define OID_SNP_SPL "1.3.6.1.4.1.3704.1.3.3"
#define OID_UCODE_SPL "1.3.6.1.4.1.3704.1.3.8"
#define OID_FMC_SPL "1.3.6.1.4.1.3704.1.3.9"
#define OID_HWID "1.3.6.1.4.1.3704.1.4"

DEFINE_POINTER_CLEANUP(ASN1_OBJECT, ASN1_OBJECT_free)
DEFINE_POINTER_CLEANUP(ASN1_INTEGER, ASN1_INTEGER_free)
DEFINE_POINTER_CLEANUP(ASN1_IA5STRING, ASN1_IA5STRING_free)
DEFINE_POINTER_CLEANUP(ECDSA_SIG, ECDSA_SIG_free)
DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

static inline void openssl_freep(void *p) {
        OPENSSL_free(*(void **)p);
}

enum snp_product snp_pinned_ark_product(const uint8_t fingerprint[32]) {
        for (size_t i = 0; i < ELEMENTSOF(pinned_arks); i++)
                if (memcmp(fingerprint, pinned_arks[i].sha256, 32) == 0)
                        return pinned_arks[i].product;
        return SNP_PRODUCT_UNKNOWN;
}

static const char *key_name(enum snp_signing_key key) {
        return key == SNP_SIGNING_KEY_VLEK ? "VLEK" : "VCEK";
}

/* The one extension `oid` of `cert`, its bytes; a missing or repeated one is an error. */
static int amd_extension(X509 *cert, const char *who, const char *oid, const char *name, const uint8_t **data,
                         int *size) {
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        X509_EXTENSION *ext;
        int at;

        if (!obj)
                return -ENOMEM;
        at = X509_get_ext_by_OBJ(cert, obj, -1);
        if (at < 0)
                return vm_error(-EBADMSG, "%s: no %s extension (%s)", who, name, oid);
        if (X509_get_ext_by_OBJ(cert, obj, at) >= 0)
                return vm_error(-EBADMSG, "%s: the %s extension appears twice", who, name);
        ext = X509_get_ext(cert, at);
        *data = ASN1_STRING_get0_data(X509_EXTENSION_get_data(ext));
        *size = ASN1_STRING_length(X509_EXTENSION_get_data(ext));
        return 0;
}

/* An SPL extension: a DER INTEGER of 0-255, nothing after it. */
static int amd_spl(X509 *cert, const char *who, const char *oid, const char *name, uint8_t *spl) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *value = NULL;
        const uint8_t *data, *p;
        int64_t v = -1;
        int size, ret = amd_extension(cert, who, oid, name, &data, &size);

        if (ret < 0)
                return ret;
        p = data;
        value = d2i_ASN1_INTEGER(NULL, &p, size);
        ERR_clear_error();
        if (!value || p != data + size || ASN1_INTEGER_get_int64(&v, value) != 1 || v < 0 || v > 255) {
                ERR_clear_error();
                return vm_error(-EBADMSG, "%s: the %s extension is not an integer of 0 to 255", who, name);
        }
        *spl = (uint8_t)v;
        return 0;
}

/* productName ("Milan-B0"): the product before the stepping. */
static int amd_product(X509 *cert, const char *who, enum snp_product *product) {
        _cleanup_(ASN1_IA5STRING_freep) ASN1_IA5STRING *name = NULL;
        static const char *const names[] = {[SNP_PRODUCT_MILAN] = "Milan", [SNP_PRODUCT_GENOA] = "Genoa",
                                            [SNP_PRODUCT_TURIN] = "Turin"};
        const uint8_t *data, *p;
        int size, ret = amd_extension(cert, who, OID_PRODUCT_NAME, "productName", &data, &size);
        const char *text;
        int len;

        if (ret < 0)
                return ret;
        p = data;
        name = d2i_ASN1_IA5STRING(NULL, &p, size);
        ERR_clear_error();
        if (!name || p != data + size)
                return vm_error(-EBADMSG, "%s: the productName extension is not an IA5String", who);
        text = (const char *)ASN1_STRING_get0_data(name);
        len = ASN1_STRING_length(name);
        for (size_t i = 1; i < ELEMENTSOF(names); i++) {
                size_t n = strlen(names[i]);

                if ((size_t)len >= n && memcmp(text, names[i], n) == 0 && ((size_t)len == n || text[n] == '-')) {
                        *product = (enum snp_product)i;
                        return 0;
                }
        }
        return vm_error(-EACCES, "%s: productName \"%.*s\" is not Milan, Genoa or Turin", who, len > 32 ? 32 : len, text);
}

/* The certificate's kind by its subject's CN: AMD names them SEV-VCEK and SEV-VLEK. */
static int check_cert_kind(X509 *cert, enum snp_signing_key key) {
        char cn[64] = "";
        const char *want = key == SNP_SIGNING_KEY_VLEK ? "SEV-VLEK" : "SEV-VCEK";

        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) < 0 ||
            strcmp(cn, want) != 0)
                return vm_error(-EACCES, "SNP report: signer_info names the %s, but the certificate's subject CN is \"%s\"",
                                key_name(key), cn);
        return 0;
}

/* Splits AMD's bundles into pinned roots and intermediates; adds the tenant's and the host's. */
static int build_trust(const struct snp_trust *trust, STACK_OF(X509) *host_intermediates, STACK_OF(X509) *roots,
                       STACK_OF(X509) *intermediates) {
        int n = trust->amd_certs ? sk_X509_num(trust->amd_certs) : 0;

        for (int i = 0; i < n; i++) {
                X509 *cert = sk_X509_value(trust->amd_certs, i);
                bool self_signed = X509_check_issued(cert, cert) == X509_V_OK;
                uint8_t digest[32];
                int ret;

                if (self_signed) {
                        if ((ret = cert_sha256(cert, digest)) < 0)
                                return ret;
                        /* a self-signed certificate that is not pinned vouches for nothing */
                        if (snp_pinned_ark_product(digest) == SNP_PRODUCT_UNKNOWN)
                                continue;
                }
                if (!sk_X509_push(self_signed ? roots : intermediates, cert))
                        return -ENOMEM;
        }
        for (int i = 0; trust->extra_roots && i < sk_X509_num(trust->extra_roots); i++)
                if (!sk_X509_push(roots, sk_X509_value(trust->extra_roots, i)))
                        return -ENOMEM;
        for (int i = 0; host_intermediates && i < sk_X509_num(host_intermediates); i++)
                if (!sk_X509_push(intermediates, sk_X509_value(host_intermediates, i)))
                        return -ENOMEM;
        return 0;
}

static int check_chain(X509 *cert, const char *who, enum snp_product product, STACK_OF(X509) *host_intermediates,
                       const struct snp_trust *trust, bool *pinned) {
        /* shallow stacks: the certificates stay their owners' */
        STACK_OF(X509) *roots = sk_X509_new_null(), *intermediates = sk_X509_new_null();
        X509 *anchor = NULL;
        struct cert_chain_check check = {.at = trust->at,
                                         .leaf_name = who,
                                         .leaf_without_authority_key_id = true,
                                         .anchor = &anchor};
        uint8_t digest[32];
        enum snp_product anchored;
        int ret;

        if (!roots || !intermediates) {
                ret = -ENOMEM;
                goto out;
        }
        if ((ret = build_trust(trust, host_intermediates, roots, intermediates)) < 0)
                goto out;
        if (sk_X509_num(roots) == 0) {
                ret = vm_error(-EACCES, "%s: no pinned AMD root key (ARK) is loaded", who);
                goto out;
        }
        check.roots = roots;
        check.intermediates = intermediates;
        if ((ret = cert_chain_verify(cert, &check)) < 0 || (ret = cert_sha256(anchor, digest)) < 0)
                goto out;
        anchored = snp_pinned_ark_product(digest);
        *pinned = anchored != SNP_PRODUCT_UNKNOWN;
        /* A tenant's extra root is trusted for what its certificates say; a pinned ARK only for
         * its own product, so that productName cannot pick another product's TCB layout. */
        if (*pinned && anchored != product)
                ret = vm_error(-EACCES, "%s: productName says %s but the chain ends at the %s ARK", who,
                               snp_product_name(product), snp_product_name(anchored));
out:
        sk_X509_free(roots);
        sk_X509_free(intermediates);
        return ret;
}

static int check_spl(X509 *cert, const char *who, const char *oid, const char *name, uint8_t reported) {
        uint8_t spl = 0;
        int ret = amd_spl(cert, who, oid, name, &spl);

        if (ret < 0)
                return ret;
        if (spl != reported)
                return vm_error(-EACCES, "%s: %s %u is not the report's reported_tcb (%u)", who, name, spl, reported);
        return 0;
}

/* The certificate was issued for this chip at this TCB: its hwID and SPLs equal the report's. */
static int check_extensions(const struct snp_report *report, X509 *cert, const char *who, enum snp_product product,
                            struct snp_tcb *tcb) {
        int ret;

        /* A VLEK is the cloud provider's, not one chip's: it has no hwID. A masked CHIP_ID is
         * zeros by the guest's own request; the signature alone then binds the chip's key. */
        if (report->signing_key == SNP_SIGNING_KEY_VCEK && !report->mask_chip_id) {
                const uint8_t *hwid;
                /* Turin's hwID is the first 8 bytes of CHIP_ID, the earlier products' all 64 */
                int want = product == SNP_PRODUCT_TURIN ? 8 : 64, size;

                if ((ret = amd_extension(cert, who, OID_HWID, "hwID", &hwid, &size)) < 0)
                        return ret;
                if (size != want)
                        return vm_error(-EBADMSG, "%s: hwID is %d bytes, %s's are %d", who, size, snp_product_name(product),
                                        want);
                if (CRYPTO_memcmp(hwid, report->chip_id, (size_t)want) != 0)
                        return vm_error(-EACCES, "%s: hwID is not the report's chip_id (the certificate is another chip's)",
                                        who);
        }
        /* ... at the TCB it was issued for */
        snp_tcb_decode(report->reported_tcb, product, tcb);
        if ((ret = check_spl(cert, who, OID_BL_SPL, "blSPL", tcb->bl)) < 0 ||
            (ret = check_spl(cert, who, OID_TEE_SPL, "teeSPL", tcb->tee)) < 0 ||
            (ret = check_spl(cert, who, OID_SNP_SPL, "snpSPL", tcb->snp)) < 0 ||
            (ret = check_spl(cert, who, OID_UCODE_SPL, "ucodeSPL", tcb->ucode)) < 0)
                return ret;
        if (tcb->has_fmc && (ret = check_spl(cert, who, OID_FMC_SPL, "fmcSPL", tcb->fmc)) < 0)
                return ret;
        /* from version 3 on the report names its CPU: it must be the certificate's product */
        if (report->has_cpuid && snp_product_of_cpuid(report->cpuid_fam_id, report->cpuid_mod_id) != product)
                return vm_error(-EACCES, "SNP report: cpuid family 0x%02x model 0x%02x is not %s, the %s's product",
                                report->cpuid_fam_id, report->cpuid_mod_id, snp_product_name(product), who);
        return 0;
}

static bool zero_above(const uint8_t *component, size_t from) {
        for (size_t i = from; i < SNP_ECDSA_COMPONENT_SIZE; i++)
                if (component[i])
                        return false;
        return true;
}

/* ECDSA P-384 with SHA-384 over bytes 0x000-0x29F; r and s are little-endian in the report. */
static int check_signature(const struct snp_report *report, X509 *cert, const char *who) {
        EVP_PKEY *key = X509_get0_pubkey(cert);
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_(BN_freep) BIGNUM *r = NULL;
        _cleanup_(BN_freep) BIGNUM *s = NULL;
        _cleanup_(openssl_freep) uint8_t *der = NULL;
        char group[32] = "";
        int der_size, ok;

        if (!sig || !md)
                return -ENOMEM;
        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
            EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1 || strcmp(group, "secp384r1") != 0) {
                ERR_clear_error();
                return vm_error(-EACCES, "%s: the key is not an EC P-384 key", who);
        }
        if (!zero_above(report->signature_r, 48) || !zero_above(report->signature_s, 48))
                return vm_error(-EACCES, "SNP report: signature r or s is wider than 48 bytes");
        r = BN_lebin2bn(report->signature_r, 48, NULL);
        s = BN_lebin2bn(report->signature_s, 48, NULL);
        if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1)
                return -ENOMEM;
        r = s = NULL; /* owned by sig now */
        der_size = i2d_ECDSA_SIG(sig, &der);
        if (der_size <= 0)
                return -ENOMEM;
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_size, report->bytes, SNP_REPORT_SIGNED_SIZE) == 1;
        ERR_clear_error();
        if (!ok)
                return vm_error(-EACCES, "SNP report: signature does not verify with the %s", who);
        return 0;
}

int snp_verify_endorsement(const struct snp_report *report, X509 *cert, STACK_OF(X509) *intermediates,
                           const struct snp_trust *trust, struct snp_verified *verified) {
        const char *who = key_name(report->signing_key);
        enum snp_product product = SNP_PRODUCT_UNKNOWN;
        bool pinned = false;
        int ret;

        memset(verified, 0, sizeof(*verified));
        if (report->signature_algo != SNP_SIGNATURE_ECDSA_P384_SHA384)
                return vm_error(-EACCES, "SNP report: signature_algo %u is not ECDSA P-384 with SHA-384",
                                report->signature_algo);
        if (report->signing_key == SNP_SIGNING_KEY_NONE)
                return vm_error(-EACCES, "SNP report: signer_info says no key signed it");
        if (!cert)
                return vm_error(-EACCES, "SNP report: no %s certificate was given", who);
        if ((ret = check_cert_kind(cert, report->signing_key)) < 0 || (ret = amd_product(cert, who, &product)) < 0 ||
            (ret = check_chain(cert, who, product, intermediates, trust, &pinned)) < 0 ||
            (ret = check_extensions(report, cert, who, product, &verified->reported_tcb)) < 0 ||
            (ret = check_signature(report, cert, who)) < 0)
                return ret;
        verified->product = product;
        verified->signing_key = report->signing_key;
        verified->pinned_root = pinned;
        return 0;
}

static int check_tcb(const char *field, uint64_t raw, enum snp_product product, const struct snp_min_tcb *min) {
        struct snp_tcb tcb;

        snp_tcb_decode(raw, product, &tcb);
#define COMPONENT(c)                                                                                              \
        if (tcb.c < min->c)                                                                                   \
                return vm_error(-EACCES, "SNP report: %s %s SPL %u is below the minimum %u", field, #c, tcb.c, \
                                min->c);
        COMPONENT(bl)
        COMPONENT(tee)
        COMPONENT(snp)
        COMPONENT(ucode)
        if (tcb.has_fmc)
                COMPONENT(fmc)
#undef COMPONENT
        return 0;
}

int snp_policy_check(const struct snp_report *report, enum snp_product product, const struct snp_policy *policy) {
        bool measured = false;
        int ret;

        if (!policy->report_data)
                return vm_error(-EACCES, "SNP policy: no expected report_data is given");
        if (CRYPTO_memcmp(report->report_data, policy->report_data, sizeof(report->report_data)) != 0)
                return vm_error(-EACCES, "SNP report: report_data is not the expected one (it does not bind this nonce and key)");
        if (policy->measurement_count == 0)
                return vm_error(-EACCES, "SNP policy: no allowed measurement is configured");
        for (size_t i = 0; i < policy->measurement_count; i++)
                measured |= memcmp(report->measurement, policy->measurements[i], sizeof(report->measurement)) == 0;
        if (!measured)
                return vm_error(-EACCES, "SNP report: measurement is not one of the %zu allowed", policy->measurement_count);
        if (policy->check_host_data && memcmp(report->host_data, policy->host_data, sizeof(report->host_data)) != 0)
                return vm_error(-EACCES, "SNP report: host_data is not the expected one");
        if ((report->policy & SNP_POLICY_DEBUG) && !policy->allow_debug)
                return vm_error(-EACCES, "SNP report: the guest policy allows debugging (policy bit 19), which is not allowed");
        if ((report->policy & SNP_POLICY_MIGRATE_MA) && !policy->allow_migration_agent)
                return vm_error(-EACCES,
                                "SNP report: the guest policy allows a migration agent (policy bit 18), which is not allowed");
        if ((report->policy & SNP_POLICY_SMT) && !policy->allow_smt)
                return vm_error(-EACCES, "SNP report: the guest policy allows SMT (policy bit 16), which is not allowed");
        if (report->vmpl > 3 || !(policy->allowed_vmpls & (1u << report->vmpl)))
                return vm_error(-EACCES, "SNP report: vmpl %u is not allowed", report->vmpl);
        if (report->guest_svn < policy->min_guest_svn)
                return vm_error(-EACCES, "SNP report: guest_svn %u is below the minimum %u", report->guest_svn,
                                policy->min_guest_svn);
        if ((ret = check_tcb("reported_tcb", report->reported_tcb, product, &policy->min_tcb)) < 0 ||
            (ret = check_tcb("current_tcb", report->current_tcb, product, &policy->min_tcb)) < 0 ||
            (ret = check_tcb("committed_tcb", report->committed_tcb, product, &policy->min_tcb)) < 0)
                return ret;
        return 0;
}

int snp_verify(const struct snp_report *report, X509 *cert, STACK_OF(X509) *intermediates,
               const struct snp_trust *trust, const struct snp_policy *policy, struct snp_verified *verified) {
        int ret = snp_verify_endorsement(report, cert, intermediates, trust, verified);

        if (ret < 0)
                return ret;
        return snp_policy_check(report, verified->product, policy);
}

static int pem_file(const struct dirent *entry) {
        size_t n = strlen(entry->d_name);

        return entry->d_name[0] != '.' && n > 4 && strcmp(entry->d_name + n - 4, ".pem") == 0;
}

int snp_amd_certs_load_dir(const char *dir, STACK_OF(X509) **certs) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *all = sk_X509_new_null();
        struct dirent **names = NULL;
        int n = scandir(dir, &names, pem_file, alphasort), ret = 0;

        if (n < 0) {
                int err = errno;

                return vm_error(-err, "%s: cannot list AMD certificates: %s", dir, strerror(err));
        }
        if (!all)
                ret = -ENOMEM;
        for (int i = 0; i < n; i++) {
                _cleanup_(cert_stack_freep) STACK_OF(X509) *file = NULL;
                char path[4096];

                if (ret == 0 && snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path))
                        ret = vm_error(-ENAMETOOLONG, "%s: path too long", dir);
                if (ret == 0)
                        ret = cert_pem_load_file(path, &file);
                while (ret == 0 && file && sk_X509_num(file) > 0) {
                        if (sk_X509_num(all) >= CERT_CHAIN_MAX)
                                ret = vm_error(-EBADMSG, "%s: more than %d AMD certificates", dir, CERT_CHAIN_MAX);
                        else if (!sk_X509_push(all, sk_X509_value(file, 0)))
                                ret = -ENOMEM;
                        else
                                (void)sk_X509_shift(file);
                }
                free(names[i]);
        }
        free(names);
        if (ret < 0)
                return ret;
        if (sk_X509_num(all) == 0)
                return vm_error(-ENOENT, "%s: no AMD certificate (*.pem)", dir);
        *certs = TAKE_PTR(all);
        return 0;
}
