#include "verifier/ek_check.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tpmkey.h"

#define EK_CERT_DER_MAX 8192
/* TCG EK Credential Profile: tcg-kp-EKCertificate, the extendedKeyUsage purpose of an EK
 * certificate */
#define TCG_KP_EK_CERTIFICATE "2.23.133.8.1"

struct ek_trust {
        X509_STORE *store;
        unsigned count;
};

static bool has_cert_suffix(const char *name) {
        size_t len = strlen(name);

        return len > 4 && (strcmp(name + len - 4, ".pem") == 0 || strcmp(name + len - 4, ".crt") == 0 ||
                           strcmp(name + len - 4, ".cer") == 0);
}

int ek_trust_load(const char *dir, struct ek_trust **out) {
        struct ek_trust *trust = calloc(1, sizeof(*trust));
        DIR *d;
        struct dirent *entry;

        if (!trust || !(trust->store = X509_STORE_new())) {
                free(trust);
                return -ENOMEM;
        }
        d = opendir(dir);
        if (!d) {
                log_warning("EK CA store %s: %m: no EK certificate will be trusted", dir);
                *out = trust;
                return 0;
        }
        while ((entry = readdir(d))) {
                char path[4096];
                FILE *f;
                X509 *cert;

                if (entry->d_name[0] == '.' || !has_cert_suffix(entry->d_name))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                while ((cert = PEM_read_X509(f, NULL, NULL, NULL))) {
                        if (X509_STORE_add_cert(trust->store, cert) == 1)
                                trust->count++;
                        X509_free(cert);
                }
                ERR_clear_error(); /* the end of each file reads as an error */
                fclose(f);
        }
        closedir(d);
        *out = trust;
        return 0;
}

void ek_trust_free(struct ek_trust *trust) {
        if (!trust)
                return;
        X509_STORE_free(trust->store);
        free(trust);
}

unsigned ek_trust_count(const struct ek_trust *trust) {
        return trust->count;
}

int ek_cert_decode(const char *text, size_t text_size, uint8_t **der, size_t *der_size) {
        static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
        X509 *cert = NULL;
        int ret;

        if (text_size > 4 * EK_CERT_DER_MAX)
                return vm_error(-EBADMSG, "ekcert: %zu bytes is too long", text_size);
        if (text_size >= sizeof(pem_begin) - 1 && memcmp(text, pem_begin, sizeof(pem_begin) - 1) == 0) {
                BIO *bio = BIO_new_mem_buf(text, (int)text_size);
                X509 *extra = NULL;

                cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
                if (cert)
                        extra = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                BIO_free(bio);
                ERR_clear_error();
                if (extra) {
                        X509_free(extra);
                        X509_free(cert);
                        return vm_error(-EBADMSG, "ekcert: more than one certificate (send the leaf only)");
                }
                if (!cert)
                        return vm_error(-EBADMSG, "ekcert: PEM that is not an X.509 certificate");
                int n = i2d_X509(cert, NULL);
                unsigned char *p;

                if (n <= 0 || n > EK_CERT_DER_MAX || !(*der = malloc((size_t)n))) {
                        X509_free(cert);
                        return vm_error(-EBADMSG, "ekcert: cannot re-encode the certificate");
                }
                p = *der;
                i2d_X509(cert, &p);
                X509_free(cert);
                *der_size = (size_t)n;
                return 0;
        }
        ret = base64_decode(text, text_size, der, der_size);
        if (ret < 0)
                return vm_error(ret, "ekcert: neither PEM nor base64 DER: %s", vm_error_detail(ret));
        const uint8_t *p = *der;
        cert = d2i_X509(NULL, &p, (long)*der_size);
        if (!cert || p != *der + *der_size) {
                X509_free(cert);
                free(*der);
                *der = NULL;
                return vm_error(-EBADMSG, "ekcert: base64 that is not exactly one DER X.509 certificate");
        }
        X509_free(cert);
        return 0;
}

/* The TCG EK Credential Profile: an extendedKeyUsage, when the certificate has one, names
 * tcg-kp-EKCertificate; a keyUsage, when it has one, allows keyEncipherment for an RSA EK and
 * keyAgreement for an ECC EK (what the EK is for: the credential's seed is encrypted to it). A
 * certificate the CA issued for another purpose (a TLS server's, say) certifies no EK. */
static int check_ek_usage(X509 *cert, const TPMT_PUBLIC *ek) {
        bool rsa = ek->type == TPM2_ALG_RSA;
        int critical = -1;
        EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &critical, NULL);
        ASN1_BIT_STRING *ku;
        bool allowed;

        if (eku) {
                ASN1_OBJECT *ek_purpose = OBJ_txt2obj(TCG_KP_EK_CERTIFICATE, 1);

                allowed = false;
                for (int i = 0; ek_purpose && i < sk_ASN1_OBJECT_num(eku) && !allowed; i++)
                        allowed = OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), ek_purpose) == 0;
                ASN1_OBJECT_free(ek_purpose);
                EXTENDED_KEY_USAGE_free(eku);
                if (!allowed)
                        return vm_error(-EACCES, "EK certificate: its extendedKeyUsage does not include the TCG EK "
                                                 "certificate purpose " TCG_KP_EK_CERTIFICATE);
        } else if (critical != -1)
                return vm_error(-EACCES, "EK certificate: its extendedKeyUsage is malformed or repeated");
        critical = -1;
        ku = X509_get_ext_d2i(cert, NID_key_usage, &critical, NULL);
        if (ku) {
                /* KeyUsage bits (RFC 5280 4.2.1.3): keyEncipherment (2), keyAgreement (4) */
                allowed = ASN1_BIT_STRING_get_bit(ku, rsa ? 2 : 4) == 1;
                ASN1_BIT_STRING_free(ku);
                if (!allowed)
                        return vm_error(-EACCES, "EK certificate: its keyUsage does not allow %s, which the TCG EK "
                                                 "Credential Profile sets for an %s EK",
                                        rsa ? "keyEncipherment" : "keyAgreement", rsa ? "RSA" : "ECC");
        } else if (critical != -1)
                return vm_error(-EACCES, "EK certificate: its keyUsage is malformed or repeated");
        return 0;
}

int ek_cert_check(const struct ek_trust *trust, const uint8_t *der, size_t der_size, const TPMT_PUBLIC *ek) {
        const uint8_t *p = der;
        X509 *cert = d2i_X509(NULL, &p, (long)der_size);
        EVP_PKEY *ek_key = NULL;
        X509_STORE_CTX *ctx = NULL;
        int ret;

        if (!cert)
                return vm_error(-EBADMSG, "ekcert: not a DER X.509 certificate");
        ret = tpmkey_to_evp(ek, &ek_key);
        if (ret >= 0 && EVP_PKEY_eq(X509_get0_pubkey(cert), ek_key) != 1)
                ret = vm_error(-EBADMSG, "ekcert certifies another key than ek_tpm");
        if (ret >= 0)
                ret = check_ek_usage(cert, ek);
        if (ret >= 0) {
                ctx = X509_STORE_CTX_new();
                if (!ctx || X509_STORE_CTX_init(ctx, trust->store, cert, NULL) != 1)
                        ret = -ENOMEM;
                else if (X509_verify_cert(ctx) != 1)
                        ret = vm_error(-EACCES, "EK certificate does not chain to a CA in the trust store: %s",
                                       X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        }
        X509_STORE_CTX_free(ctx);
        EVP_PKEY_free(ek_key);
        X509_free(cert);
        return ret;
}
