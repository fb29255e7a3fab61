#include "verifier/identity_proof.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/tpmkey.h"
#include "verifier/cert_chain.h"
#include "verifier/ek_check.h"

/* A store file holds a certificate chain or a few public keys: a few KiB. */
#define STORE_FILE_MAX (256 * 1024)
#define PINNED_KEYS_MAX 1024

DEFINE_POINTER_CLEANUP(X509, X509_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

static bool has_suffix(const char *name, const char *const *suffixes) {
        size_t len = strlen(name);

        for (; *suffixes; suffixes++) {
                size_t n = strlen(*suffixes);

                if (len > n && strcmp(name + len - n, *suffixes) == 0)
                        return true;
        }
        return false;
}

/* Calls `load` on every file of `dir` with one of `suffixes`, at most IDENTITY_STORE_FILES_MAX;
 * a missing directory holds nothing. */
static int store_foreach(const char *dir, const char *what, const char *const *suffixes,
                         int (*load)(const char *path, struct identity_trust *trust), struct identity_trust *trust) {
        DIR *d;
        struct dirent *entry;
        unsigned files = 0;
        int ret = 0;

        if (!dir[0])
                return 0;
        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return vm_error(-errno, "%s %s: %m", what, dir);
                log_info("%s %s does not exist: it trusts nothing", what, dir);
                return 0;
        }
        while (ret >= 0 && (entry = readdir(d))) {
                char path[4096];

                if (entry->d_name[0] == '.' || !has_suffix(entry->d_name, suffixes))
                        continue;
                if (++files > IDENTITY_STORE_FILES_MAX) {
                        ret = vm_error(-E2BIG, "%s %s: more than %d files", what, dir, IDENTITY_STORE_FILES_MAX);
                        break;
                }
                if (snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name) >= (int)sizeof(path))
                        ret = vm_error(-ENAMETOOLONG, "%s %s: a path is too long", what, dir);
                else
                        ret = load(path, trust);
        }
        closedir(d);
        return ret;
}

/* A PEM list of certificates, or one DER certificate (Google publishes its vTPM CAs as DER). */
static int load_ak_ca(const char *path, struct identity_trust *trust) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *certs = NULL;
        size_t size = 0;
        int ret = file_read_all(path, STORE_FILE_MAX, &data, &size);

        if (ret < 0)
                return vm_error(ret, "ak_cert_store: %s: cannot read it", path);
        if (memmem(data, size, "-----BEGIN", 10))
                ret = cert_pem_parse_all(path, data, size, &certs);
        else {
                X509 *cert = NULL;

                ret = cert_der_parse(path, (const uint8_t *)data, size, &cert);
                if (ret >= 0 && (!(certs = sk_X509_new_null()) || !sk_X509_push(certs, cert))) {
                        X509_free(cert);
                        ret = -ENOMEM;
                }
        }
        if (ret < 0)
                return vm_error(ret, "ak_cert_store: %s", vm_error_detail(ret));
        while (sk_X509_num(certs) > 0) {
                X509 *cert = sk_X509_shift(certs);

                if (!sk_X509_push(trust->ak_roots, cert)) {
                        X509_free(cert);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int load_pinned_ek(const char *path, struct identity_trust *trust) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        size_t size = 0;
        unsigned keys = 0;
        int ret = file_read_all(path, STORE_FILE_MAX, &data, &size);

        if (ret < 0)
                return vm_error(ret, "ek_pinned_store: %s: cannot read it", path);
        if (!(bio = BIO_new_mem_buf(data, (int)size)))
                return -ENOMEM;
        for (;;) {
                char *rest;
                long rest_size = BIO_get_mem_data(bio, &rest);
                EVP_PKEY *key, **grown;

                /* the end is where no PEM block follows; a block that does not read is an error,
                 * never skipped */
                if (rest_size <= 0 || !memmem(rest, (size_t)rest_size, "-----BEGIN", 10)) {
                        if (keys > 0)
                                return 0;
                        return vm_error(-EBADMSG, "ek_pinned_store: %s: no PEM public key (-----BEGIN PUBLIC KEY-----)",
                                        path);
                }
                key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
                ERR_clear_error();
                if (!key)
                        return vm_error(-EBADMSG, "ek_pinned_store: %s: key %u is not a PEM public key "
                                                  "(-----BEGIN PUBLIC KEY-----)",
                                        path, keys + 1);
                if (trust->ek_pinned_count >= PINNED_KEYS_MAX ||
                    !(grown = realloc(trust->ek_pinned, (trust->ek_pinned_count + 1) * sizeof(*grown)))) {
                        EVP_PKEY_free(key);
                        return trust->ek_pinned_count >= PINNED_KEYS_MAX
                                       ? vm_error(-E2BIG, "ek_pinned_store: more than %d keys", PINNED_KEYS_MAX)
                                       : -ENOMEM;
                }
                trust->ek_pinned = grown;
                trust->ek_pinned[trust->ek_pinned_count++] = key;
                keys++;
        }
}

int identity_trust_load(const char *ak_cert_store, const char *ek_pinned_store, struct identity_trust *trust) {
        static const char *const cert_suffixes[] = { ".pem", ".crt", ".cer", ".der", NULL };
        static const char *const key_suffixes[] = { ".pem", NULL };
        int ret;

        memset(trust, 0, sizeof(*trust));
        if (!(trust->ak_roots = sk_X509_new_null()))
                return -ENOMEM;
        ret = store_foreach(ak_cert_store, "ak_cert_store", cert_suffixes, load_ak_ca, trust);
        if (ret >= 0)
                ret = store_foreach(ek_pinned_store, "ek_pinned_store", key_suffixes, load_pinned_ek, trust);
        if (ret < 0)
                identity_trust_done(trust);
        return ret;
}

void identity_trust_done(struct identity_trust *trust) {
        if (trust->ak_roots)
                sk_X509_pop_free(trust->ak_roots, X509_free);
        for (size_t i = 0; i < trust->ek_pinned_count; i++)
                EVP_PKEY_free(trust->ek_pinned[i]);
        free(trust->ek_pinned);
        memset(trust, 0, sizeof(*trust));
}

int ak_cert_check(const struct identity_trust *trust, const uint8_t *der, size_t der_size, const TPMT_PUBLIC *ak,
                  time_t at) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak_key = NULL;
        struct cert_chain_check check = { .roots = trust->ak_roots, .at = at, .leaf_name = "AK certificate" };
        int ret;

        if (der_size > AK_CERT_DER_MAX)
                return vm_error(-EBADMSG, "ak_cert: %zu bytes, more than %d", der_size, AK_CERT_DER_MAX);
        ret = cert_der_parse("ak_cert", der, der_size, &cert);
        if (ret < 0)
                return ret;
        ret = tpmkey_to_evp(ak, &ak_key);
        if (ret < 0)
                return vm_error(-EBADMSG, "aik_tpm: %s", vm_error_detail(ret));
        /* the certificate vouches for one key: the one the quotes will be checked with */
        if (EVP_PKEY_eq(X509_get0_pubkey(cert), ak_key) != 1) {
                ERR_clear_error();
                return vm_error(-EBADMSG, "ak_cert certifies another key than aik_tpm");
        }
        /* every certificate of ak_cert_store is an anchor: the tenant put there the CAs (root or
         * intermediate) it trusts to certify AKs, as tpm_cert_store holds EK CAs */
        return cert_chain_verify(cert, &check);
}

bool ek_pinned_match(const struct identity_trust *trust, const TPMT_PUBLIC *ek) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ek_key = NULL;
        bool found = false;

        if (trust->ek_pinned_count == 0 || tpmkey_to_evp(ek, &ek_key) < 0)
                return false;
        for (size_t i = 0; i < trust->ek_pinned_count && !found; i++)
                found = EVP_PKEY_eq(trust->ek_pinned[i], ek_key) == 1;
        ERR_clear_error();
        return found;
}

int identity_proof_decide(const struct ek_trust *ek_trust, const struct identity_trust *trust,
                          const struct identity_evidence *e, const char **proof) {
        int ret;

        /* what the agent offers picks which check must pass, never whether one is skipped: a
         * certificate that fails is the answer, not a reason to try a weaker proof */
        if (e->ekcert) {
                ret = ek_cert_check(ek_trust, e->ekcert, e->ekcert_size, e->ek);
                if (ret < 0)
                        return ret;
        }
        if (e->ak_cert) {
                ret = ak_cert_check(trust, e->ak_cert, e->ak_cert_size, e->ak, e->at);
                if (ret < 0)
                        return ret;
        }
        if (e->ekcert)
                *proof = IDENTITY_PROOF_EK_CERTIFICATE;
        else if (e->ak_cert)
                *proof = IDENTITY_PROOF_AK_CERTIFICATE;
        else if (e->ek_allowlisted)
                *proof = IDENTITY_PROOF_EK_ALLOWLIST;
        else if (ek_pinned_match(trust, e->ek))
                *proof = IDENTITY_PROOF_EK_PINNED;
        else
                return vm_error(-EACCES, "no EK certificate and no AK certificate, and the EK is neither in the "
                                         "registrar's ek_allowlist nor in its ek_pinned_store");
        return 0;
}
