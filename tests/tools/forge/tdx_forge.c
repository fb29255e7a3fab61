#include "tests/tools/forge/tdx_forge.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_NO_ACTION 0x00000003u
#define EV_EFI_ACTION 0x80000007u
#define ALG_SHA384 0x000c

/* Intel's TD QE identity: MRSIGNER, ISVPRODID 2 (verifier/tdx_verify.c checks the same) */
static const uint8_t intel_qe_mrsigner[32] = {
        0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
        0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5,
};

struct bytes {
        uint8_t *data;
        size_t size, capacity;
        bool failed;
};

static void put(struct bytes *b, const void *p, size_t n) {
        if (b->failed)
                return;
        if (b->size + n > b->capacity) {
                size_t capacity = (b->size + n) * 2 + 64;
                uint8_t *data = realloc(b->data, capacity);

                if (!data) {
                        b->failed = true;
                        return;
                }
                b->data = data, b->capacity = capacity;
        }
        if (n)
                memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void put_u16(struct bytes *b, uint16_t v) {
        uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

        put(b, le, 2);
}

static void put_u32(struct bytes *b, uint32_t v) {
        put_u16(b, (uint16_t)v);
        put_u16(b, (uint16_t)(v >> 16));
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        bool ok;

        X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        ok = ext && X509_add_ext(cert, ext, -1) == 1;
        X509_EXTENSION_free(ext);
        return ok;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long serial, time_t at) {
        X509 *cert = X509_new();
        X509_NAME *name = X509_NAME_new();
        bool ok = cert && name;

        ok = ok && X509_set_version(cert, X509_VERSION_3) == 1 &&
             ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) == 1 &&
             ASN1_TIME_set(X509_getm_notBefore(cert), at - 86400) &&
             ASN1_TIME_set(X509_getm_notAfter(cert), at + 86400);
        ok = ok &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Intel Corporation", -1, -1,
                                        0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1;
        ok = ok && X509_set_subject_name(cert, name) == 1 && X509_set_pubkey(cert, key) == 1 &&
             X509_set_issuer_name(cert, X509_get_subject_name(issuer ? issuer : cert)) == 1 &&
             add_ext(cert, cert, NID_subject_key_identifier, "hash");
        if (ok && issuer)
                ok = add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always") &&
                     add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
        else if (ok)
                ok = add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") &&
                     add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
        ok = ok && X509_sign(cert, issuer_key, EVP_sha256()) > 0;
        X509_NAME_free(name);
        if (!ok) {
                X509_free(cert);
                return NULL;
        }
        return cert;
}

int tdx_forge_init(struct tdx_forge *forge, time_t at) {
        *forge = (struct tdx_forge){ 0 };
        forge->root_key = EVP_EC_gen("P-256");
        forge->pck_key = EVP_EC_gen("P-256");
        forge->attestation_key = EVP_EC_gen("P-256");
        if (forge->root_key && forge->pck_key && forge->attestation_key)
                forge->root = make_cert(forge->root_key, "Test Intel SGX Root CA", NULL, forge->root_key, 1, at);
        if (forge->root)
                forge->pck =
                        make_cert(forge->pck_key, "Intel SGX PCK Certificate", forge->root, forge->root_key, 2, at);
        if (forge->pck && (forge->roots = sk_X509_new_null()) && X509_up_ref(forge->root) &&
            sk_X509_push(forge->roots, forge->root) > 0)
                return 0;
        fprintf(stderr, "tdx_forge: cannot make the test keys and certificates\n");
        tdx_forge_done(forge);
        return -1;
}

void tdx_forge_done(struct tdx_forge *forge) {
        sk_X509_pop_free(forge->roots, X509_free);
        X509_free(forge->root);
        X509_free(forge->pck);
        EVP_PKEY_free(forge->root_key);
        EVP_PKEY_free(forge->pck_key);
        EVP_PKEY_free(forge->attestation_key);
        *forge = (struct tdx_forge){ 0 };
}

/* ECDSA P-256 SHA-256 as the quote carries it: r || s, 32 bytes each. */
static bool sign_raw(EVP_PKEY *key, const uint8_t *message, size_t size, uint8_t out[64]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t der[128];
        const uint8_t *p = der;
        size_t der_size = sizeof(der);
        ECDSA_SIG *sig = NULL;
        const BIGNUM *r, *s;
        bool ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
                  EVP_DigestSign(ctx, der, &der_size, message, size) == 1 &&
                  (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_size));

        if (ok) {
                ECDSA_SIG_get0(sig, &r, &s);
                ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
        }
        ECDSA_SIG_free(sig);
        EVP_MD_CTX_free(ctx);
        return ok;
}

static bool public_xy(EVP_PKEY *key, uint8_t out[64]) {
        uint8_t point[65];
        size_t size = 0;

        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &size) != 1 ||
            size != 65)
                return false;
        memcpy(out, point + 1, 64);
        return true;
}

static bool append_pem(struct bytes *b, X509 *cert) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *text;
        long n;

        if (!bio || PEM_write_bio_X509(bio, cert) != 1) {
                BIO_free(bio);
                return false;
        }
        n = BIO_get_mem_data(bio, &text);
        put(b, text, (size_t)n);
        BIO_free(bio);
        return true;
}

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

int tdx_forge_quote(const struct tdx_forge *forge, const struct tdx_quote_body *body, uint8_t **out, size_t *size) {
        struct bytes quote = { 0 }, cert_data = { 0 }, chain = { 0 };
        uint8_t quote_signature[64], qe_signature[64], key[64], qe_report[384] = { 0 }, auth_data[32];
        uint8_t vendor[16] = { 0x93, 0x9a }, zeros[20] = { 0 };
        unsigned int n = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok;

        put_u16(&quote, 4);       /* version */
        put_u16(&quote, 2);       /* attestation key type: ECDSA P-256 */
        put_u32(&quote, 0x81);    /* TEE type: TDX */
        put_u32(&quote, 0);
        put(&quote, vendor, sizeof(vendor));
        put(&quote, zeros, 20);
        body_bytes(&quote, body);
        ok = ctx && !quote.failed && quote.size == 632 &&
             sign_raw(forge->attestation_key, quote.data, quote.size, quote_signature) &&
             public_xy(forge->attestation_key, key);

        /* the QE report binds the attestation key and the authentication data */
        for (size_t i = 0; i < sizeof(auth_data); i++)
                auth_data[i] = (uint8_t)i;
        memcpy(qe_report + 0x80, intel_qe_mrsigner, 32);
        qe_report[0x30] = 0x15; /* ATTRIBUTES: INIT, MODE64BIT, PROVISIONKEY; not DEBUG */
        qe_report[0x38] = 0xe7; /* XFRM */
        qe_report[0x100] = 2;   /* ISVPRODID */
        qe_report[0x102] = 4;   /* ISVSVN */
        ok = ok && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, key, 64) == 1 &&
             EVP_DigestUpdate(ctx, auth_data, sizeof(auth_data)) == 1 &&
             EVP_DigestFinal_ex(ctx, qe_report + 0x140, &n) == 1;
        ok = ok && append_pem(&chain, forge->pck) && append_pem(&chain, forge->root) &&
             sign_raw(forge->pck_key, qe_report, sizeof(qe_report), qe_signature);

        put(&cert_data, qe_report, sizeof(qe_report));
        put(&cert_data, qe_signature, 64);
        put_u16(&cert_data, sizeof(auth_data));
        put(&cert_data, auth_data, sizeof(auth_data));
        put_u16(&cert_data, 5); /* certification data: the PCK chain, PEM */
        put_u32(&cert_data, (uint32_t)chain.size);
        put(&cert_data, chain.data, chain.size);

        put_u32(&quote, (uint32_t)(128 + 6 + cert_data.size));
        put(&quote, quote_signature, 64);
        put(&quote, key, 64);
        put_u16(&quote, 6); /* certification data: the QE report certification data */
        put_u32(&quote, (uint32_t)cert_data.size);
        put(&quote, cert_data.data, cert_data.size);
        ok = ok && !quote.failed && !cert_data.failed && !chain.failed;
        EVP_MD_CTX_free(ctx);
        free(cert_data.data);
        free(chain.data);
        if (!ok) {
                fprintf(stderr, "tdx_forge: cannot make the quote\n");
                free(quote.data);
                return -1;
        }
        *out = quote.data;
        *size = quote.size;
        return 0;
}

static int log_put(struct tdx_forge_log *log, const void *p, size_t n) {
        struct bytes b = { .data = log->data, .size = log->size, .capacity = log->capacity };

        put(&b, p, n);
        log->data = b.data, log->size = b.size, log->capacity = b.capacity;
        return b.failed ? -1 : 0;
}

static int log_u32(struct tdx_forge_log *log, uint32_t v) {
        uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

        return log_put(log, le, 4);
}

int tdx_forge_log_start(struct tdx_forge_log *log) {
        /* TCG_EfiSpecIDEventStruct: signature, platformClass 0, spec 2.0 errata 0, uintnSize 2,
         * one algorithm (SHA-384, 48 bytes), no vendor info */
        static const uint8_t spec[] = { 'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n', 't', '0', '3', 0,
                                        0,   0,   0,   0,   0,   2,   0,   2,   1,   0,   0,   0,   0x0c, 0, 48, 0,
                                        0 };
        static const uint8_t zeros[20];

        *log = (struct tdx_forge_log){ 0 };
        return log_u32(log, 0) < 0 || log_u32(log, EV_NO_ACTION) < 0 || log_put(log, zeros, 20) < 0 ||
                               log_u32(log, sizeof(spec)) < 0 || log_put(log, spec, sizeof(spec)) < 0
                       ? -1
                       : 0;
}

int tdx_forge_log_event(struct tdx_forge_log *log, uint32_t mr_index, const char *text, uint8_t rtmr[48]) {
        uint8_t digest[48], both[96];
        uint8_t alg[2] = { ALG_SHA384 & 0xff, ALG_SHA384 >> 8 };
        unsigned int n = 0;

        if (EVP_Digest(text, strlen(text), digest, &n, EVP_sha384(), NULL) != 1)
                return -1;
        if (rtmr) {
                memcpy(both, rtmr, 48);
                memcpy(both + 48, digest, 48);
                if (EVP_Digest(both, sizeof(both), rtmr, &n, EVP_sha384(), NULL) != 1)
                        return -1;
        }
        return log_u32(log, mr_index) < 0 || log_u32(log, EV_EFI_ACTION) < 0 || log_u32(log, 1) < 0 ||
                               log_put(log, alg, 2) < 0 || log_put(log, digest, 48) < 0 ||
                               log_u32(log, (uint32_t)strlen(text)) < 0 || log_put(log, text, strlen(text)) < 0
                       ? -1
                       : 0;
}

void tdx_forge_log_done(struct tdx_forge_log *log) {
        free(log->data);
        *log = (struct tdx_forge_log){ 0 };
}
