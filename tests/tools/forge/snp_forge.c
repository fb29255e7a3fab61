#include "tests/tools/forge/snp_forge.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

static bool failed;

static void fail(const char *what) {
        fprintf(stderr, "snp-forge: %s\n", what);
        failed = true;
}

static EVP_PKEY *load_key(const char *dir, const char *name) {
        char path[4096];
        FILE *f;
        EVP_PKEY *key = NULL;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (f) {
                key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                fclose(f);
        }
        if (!key)
                fprintf(stderr, "snp-forge: cannot read the fake key %s\n", path), failed = true;
        return key;
}

/* An extension whose value is the DER given (AMD's VCEK extensions: an INTEGER for each SPL,
 * the raw 64 bytes for hwID). */
static void add_raw_extension(X509 *cert, const char *oid, const uint8_t *der, int size) {
        ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
        X509_EXTENSION *ext;

        ASN1_OCTET_STRING_set(value, der, size);
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value);
        if (!ext || !X509_add_ext(cert, ext, -1))
                fail("cannot add an extension");
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(value);
        ASN1_OBJECT_free(obj);
}

static void add_integer_extension(X509 *cert, const char *oid, unsigned value) {
        /* small non-negative INTEGER: 02 01 v, or 02 02 00 v when the high bit is set */
        uint8_t der[4] = { 0x02, 0x01, (uint8_t)value };

        if (value & 0x80) {
                der[1] = 2;
                der[2] = 0;
                der[3] = (uint8_t)value;
        }
        add_raw_extension(cert, oid, der, der[1] + 2);
}

static void add_v3(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;

        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!ext || !X509_add_ext(cert, ext, -1))
                fail("cannot add a standard extension");
        X509_EXTENSION_free(ext);
}

static void sign_pss(X509 *cert, EVP_PKEY *key) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;

        if (!md || EVP_DigestSignInit(md, &pctx, EVP_sha384(), NULL, key) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) <= 0 ||
            X509_sign_ctx(cert, md) <= 0)
                fail("cannot sign a certificate (RSA-PSS)");
        EVP_MD_CTX_free(md);
}

static X509 *make_cert(const char *cn, EVP_PKEY *subject_key, X509 *issuer, long serial) {
        X509 *cert = X509_new();
        X509_NAME *name = X509_NAME_new();

        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const uint8_t *)"Engineering", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const uint8_t *)"US", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "L", MBSTRING_ASC, (const uint8_t *)"Santa Clara", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "ST", MBSTRING_ASC, (const uint8_t *)"CA", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const uint8_t *)"vmattest test double (NOT AMD)", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)cn, -1, -1, 0);
        X509_set_subject_name(cert, name);
        X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
        X509_NAME_free(name);
        X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
        X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400);
        X509_set_pubkey(cert, subject_key);
        return cert;
}

static void put_u32le(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64le(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

int snp_forge_init(struct snp_forge *forge, const char *keys_dir, const uint8_t chip_id[64], uint64_t tcb) {
        EVP_PKEY *ark_key = load_key(keys_dir, "ark_private_key.pem");
        EVP_PKEY *ask_key = load_key(keys_dir, "ask_private_key.pem");
        uint8_t product[10] = { 0x16, 0x08, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0' };
        X509 *ark, *ask, *vcek;

        *forge = (struct snp_forge){ .tcb = tcb };
        memcpy(forge->chip_id, chip_id, sizeof(forge->chip_id));
        forge->vcek_key = load_key(keys_dir, "vcek_private_key.pem");
        if (failed) {
                EVP_PKEY_free(ark_key);
                EVP_PKEY_free(ask_key);
                EVP_PKEY_free(forge->vcek_key);
                forge->vcek_key = NULL;
                return -1;
        }
        ark = make_cert("ARK-Milan", ark_key, NULL, 1);
        add_v3(ark, ark, NID_basic_constraints, "critical,CA:TRUE");
        add_v3(ark, ark, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_v3(ark, ark, NID_subject_key_identifier, "hash");
        sign_pss(ark, ark_key);
        ask = make_cert("SEV-Milan", ask_key, ark, 2);
        add_v3(ask, ark, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_v3(ask, ark, NID_key_usage, "critical,keyCertSign");
        add_v3(ask, ark, NID_subject_key_identifier, "hash");
        add_v3(ask, ark, NID_authority_key_identifier, "keyid:always");
        sign_pss(ask, ark_key);
        vcek = make_cert("SEV-VCEK", forge->vcek_key, ask, 0);
        add_integer_extension(vcek, "1.3.6.1.4.1.3704.1.1", 0);
        add_raw_extension(vcek, "1.3.6.1.4.1.3704.1.2", product, sizeof(product));
        add_integer_extension(vcek, "1.3.6.1.4.1.3704.1.3.1", (unsigned)(tcb & 0xff));
        add_integer_extension(vcek, "1.3.6.1.4.1.3704.1.3.2", (unsigned)(tcb >> 8 & 0xff));
        add_integer_extension(vcek, "1.3.6.1.4.1.3704.1.3.3", (unsigned)(tcb >> 48 & 0xff));
        add_integer_extension(vcek, "1.3.6.1.4.1.3704.1.3.8", (unsigned)(tcb >> 56 & 0xff));
        add_raw_extension(vcek, "1.3.6.1.4.1.3704.1.4", forge->chip_id, sizeof(forge->chip_id));
        sign_pss(vcek, ask_key);
        EVP_PKEY_free(ark_key);
        EVP_PKEY_free(ask_key);
        forge->ark = ark, forge->ask = ask, forge->vcek = vcek;
        if (failed) {
                snp_forge_done(forge);
                return -1;
        }
        return 0;
}

void snp_forge_done(struct snp_forge *forge) {
        X509_free(forge->ark);
        X509_free(forge->ask);
        X509_free(forge->vcek);
        EVP_PKEY_free(forge->vcek_key);
        *forge = (struct snp_forge){ 0 };
}

int snp_forge_cert_table(const struct snp_forge *forge, uint8_t **table, size_t *table_size) {
        X509 *certs[3] = { forge->vcek, forge->ask, forge->ark };
        const uint8_t *guids[3] = { guid_vcek, guid_ask, guid_ark };
        uint8_t *der[3] = { 0 };
        int size[3];
        size_t offset = 4 * 24, total = offset;

        for (int i = 0; i < 3; i++) {
                size[i] = i2d_X509(certs[i], &der[i]);
                if (size[i] <= 0) {
                        for (int j = 0; j < i; j++)
                                OPENSSL_free(der[j]);
                        fail("cannot encode a certificate");
                        return -1;
                }
                total += (size_t)size[i];
        }
        *table = calloc(1, total);
        for (int i = 0; i < 3; i++) {
                if (*table) {
                        memcpy(*table + 24 * i, guids[i], 16);
                        put_u32le(*table + 24 * i + 16, (uint32_t)offset);
                        put_u32le(*table + 24 * i + 20, (uint32_t)size[i]);
                        memcpy(*table + offset, der[i], (size_t)size[i]);
                }
                offset += (size_t)size[i];
                OPENSSL_free(der[i]);
        }
        if (!*table)
                return -1;
        *table_size = total;
        return 0;
}

static void bn_le(const BIGNUM *bn, uint8_t out[72]) {
        memset(out, 0, 72);
        if (BN_bn2lebinpad(bn, out, 72) != 72)
                fail("cannot encode a signature value");
}

int snp_forge_report(const struct snp_forge *forge, const struct snp_forge_fields *fields,
                     const uint8_t report_data[64], uint8_t r[SNP_FORGE_REPORT_SIZE]) {
        uint8_t der_sig[256];
        const uint8_t *p = der_sig;
        size_t sig_size = sizeof(der_sig);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ECDSA_SIG *sig;
        int ok;

        memset(r, 0, SNP_FORGE_REPORT_SIZE);
        put_u32le(r + 0x00, 2);              /* VERSION */
        put_u64le(r + 0x08, fields->policy); /* POLICY */
        put_u32le(r + 0x30, fields->vmpl);   /* VMPL */
        put_u32le(r + 0x34, 1);              /* SIGNATURE_ALGO: ECDSA P-384 with SHA-384 */
        put_u64le(r + 0x38, forge->tcb);     /* CURRENT_TCB */
        put_u64le(r + 0x40, 1);              /* PLATFORM_INFO: SMT enabled */
        memcpy(r + 0x50, report_data, 64);
        memcpy(r + 0x90, fields->measurement, 48);
        memcpy(r + 0x140, fields->report_id, 32);
        memset(r + 0x160, 0xff, 32);         /* REPORT_ID_MA: no migration agent */
        put_u64le(r + 0x180, forge->tcb);    /* REPORTED_TCB */
        memcpy(r + 0x1a0, forge->chip_id, 64);
        put_u64le(r + 0x1e0, forge->tcb);    /* COMMITTED_TCB */
        put_u64le(r + 0x1f0, forge->tcb);    /* LAUNCH_TCB */

        ok = md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, forge->vcek_key) > 0 &&
             EVP_DigestSign(md, der_sig, &sig_size, r, SNP_FORGE_SIGNED_SIZE) > 0;
        EVP_MD_CTX_free(md);
        if (!ok || !(sig = d2i_ECDSA_SIG(NULL, &p, (long)sig_size)))
                return -EIO;
        failed = false;
        bn_le(ECDSA_SIG_get0_r(sig), r + 0x2a0);
        bn_le(ECDSA_SIG_get0_s(sig), r + 0x2a0 + 72);
        ECDSA_SIG_free(sig);
        return failed ? -EIO : 0;
}
