#include "agent/mtls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "agent/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"

#define MTLS_CERT_DAYS 3650

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(X509, X509_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

static int key_load_or_create(const char *path, EVP_PKEY **key) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(BIO_freep) BIO *mem = NULL;
        char *pem;
        long size;

        if (f) {
                *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                if (!*key)
                        return vm_error(-EBADMSG, "%s: not a PEM private key (remove it to have a new one made)", path);
                return 0;
        }
        /* only a key that does not exist is made anew: the registered certificate names it */
        if (errno != ENOENT)
                return vm_error(-errno, "%s: cannot read the mTLS key: %m", path);
        *key = EVP_EC_gen("P-256");
        mem = BIO_new(BIO_s_mem());
        if (!*key || !mem || !PEM_write_bio_PrivateKey(mem, *key, NULL, NULL, 0, NULL, NULL))
                return vm_error(-EIO, "cannot generate the mTLS key");
        size = BIO_get_mem_data(mem, &pem);
        /* the BIO's buffer held the private key: write it, then wipe it */
        int ret = state_write_file(path, pem, (size_t)size, 0600);
        OPENSSL_cleanse(pem, (size_t)size);
        if (ret >= 0)
                log_info("created the mTLS key %s", path);
        return ret;
}

/* True when cert carries CN = agent_id, SAN IP = ip, and key's public half. */
static bool cert_fits(X509 *cert, EVP_PKEY *key, const char *agent_id, const char *ip) {
        char cn[256];
        GENERAL_NAMES *sans;
        unsigned char want[16];
        int want_size = inet_pton(AF_INET, ip, want) == 1 ? 4 : inet_pton(AF_INET6, ip, want) == 1 ? 16 : 0;
        bool ip_ok = false;

        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) < 0 ||
            strcmp(cn, agent_id) != 0 || EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1 ||
            X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
                return false;
        sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
        for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
                const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

                if (gn->type == GEN_IPADD && ASN1_STRING_length(gn->d.iPAddress) == want_size &&
                    memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), want, (size_t)want_size) == 0)
                        ip_ok = true;
        }
        GENERAL_NAMES_free(sans);
        return ip_ok;
}

static int add_ext(X509 *cert, int nid, const char *value) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        int ok;

        X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!ext)
                return -EINVAL;
        ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        return ok ? 0 : -ENOMEM;
}

static int cert_issue(EVP_PKEY *key, const char *agent_id, const char *ip, X509 **out) {
        _cleanup_(X509_freep) X509 *cert = X509_new();
        X509_NAME *name;
        uint8_t serial[16];
        BIGNUM *bn;
        char san[80];

        if (!cert || RAND_bytes(serial, sizeof(serial)) != 1)
                return -ENOMEM;
        serial[0] &= 0x7f; /* a positive serial */
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))) {
                BN_free(bn);
                return -ENOMEM;
        }
        BN_free(bn);
        name = X509_get_subject_name(cert);
        snprintf(san, sizeof(san), "IP:%s", ip);
        if (!X509_set_version(cert, X509_VERSION_3) ||
            !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)agent_id, -1, -1, 0) ||
            !X509_set_issuer_name(cert, name) || !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
            !X509_gmtime_adj(X509_getm_notAfter(cert), 60L * 60 * 24 * MTLS_CERT_DAYS) || !X509_set_pubkey(cert, key) ||
            add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(cert, NID_key_usage, "critical,digitalSignature,keyAgreement") < 0 ||
            add_ext(cert, NID_ext_key_usage, "serverAuth") < 0 || add_ext(cert, NID_subject_alt_name, san) < 0 ||
            !X509_sign(cert, key, EVP_sha256()))
                return vm_error(-EIO, "cannot issue the mTLS certificate for %s", agent_id);
        *out = TAKE_PTR(cert);
        return 0;
}

static int identity_set(EVP_PKEY *key, X509 *cert, struct mtls_identity *m) {
        _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_mem());
        char *pem;
        long size;

        memset(m, 0, sizeof(*m));
        if (!mem || !PEM_write_bio_X509(mem, cert))
                return -ENOMEM;
        size = BIO_get_mem_data(mem, &pem);
        if (!(m->cert_pem = strndup(pem, (size_t)size)))
                return -ENOMEM;
        m->key = key;
        m->cert = cert;
        return 0;
}

int mtls_identity_ensure(const struct agent_config *config, const char *agent_id, struct mtls_identity *m) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_mem());
        char key_path[512], cert_path[512], *pem;
        long size;
        int ret;

        if (!mem)
                return -ENOMEM;
        ret = state_dir_ensure(config);
        if (ret >= 0)
                ret = state_path(config, config->server_key, key_path, sizeof(key_path));
        if (ret >= 0)
                ret = state_path(config, config->server_cert, cert_path, sizeof(cert_path));
        if (ret >= 0)
                ret = key_load_or_create(key_path, &key);
        if (ret < 0)
                return ret;

        BIO *in = BIO_new_file(cert_path, "r");
        if (in) {
                cert = PEM_read_bio_X509(in, NULL, NULL, NULL);
                BIO_free(in);
        }
        if (!cert || !cert_fits(cert, key, agent_id, config->contact_ip)) {
                X509_free(TAKE_PTR(cert));
                ret = cert_issue(key, agent_id, config->contact_ip, &cert);
                if (ret < 0)
                        return ret;
                if (!PEM_write_bio_X509(mem, cert))
                        return -ENOMEM;
                size = BIO_get_mem_data(mem, &pem);
                ret = state_write_file(cert_path, pem, (size_t)size, 0644);
                if (ret < 0)
                        return ret;
                log_info("issued the mTLS certificate %s (CN=%s, IP %s)", cert_path, agent_id, config->contact_ip);
        }
        ret = identity_set(key, cert, m);
        if (ret >= 0)
                key = NULL, cert = NULL; /* m owns them */
        return ret;
}

int mtls_identity_ephemeral(const struct agent_config *config, const char *agent_id, struct mtls_identity *m) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_EC_gen("P-256");
        _cleanup_(X509_freep) X509 *cert = NULL;
        int ret;

        if (!key)
                return vm_error(-EIO, "cannot generate the mTLS key");
        ret = cert_issue(key, agent_id, config->contact_ip, &cert);
        if (ret >= 0)
                ret = identity_set(key, cert, m);
        if (ret >= 0)
                key = NULL, cert = NULL;
        return ret;
}

int mtls_identity_adopt(EVP_PKEY *key, X509 *cert, struct mtls_identity *m) {
        if (X509_check_private_key(cert, key) != 1)
                return vm_error(-EINVAL, "the handed-over mTLS key does not match its certificate");
        return identity_set(key, cert, m);
}

void mtls_identity_free(struct mtls_identity *m) {
        EVP_PKEY_free(m->key);
        X509_free(m->cert);
        free(m->cert_pem);
        memset(m, 0, sizeof(*m));
}
