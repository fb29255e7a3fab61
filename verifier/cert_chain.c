#include "verifier/cert_chain.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"

/* A PEM file of a chain is a few KiB; a bound keeps a hostile file from being read whole. */
#define CERT_PEM_FILE_MAX (256 * 1024)

DEFINE_POINTER_CLEANUP(X509_STORE, X509_STORE_free)
DEFINE_POINTER_CLEANUP(X509_STORE_CTX, X509_STORE_CTX_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

int cert_chain_verify(X509 *leaf, const struct cert_chain_check *check) {
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        const char *name = check->leaf_name ? check->leaf_name : "certificate";
        int n = check->roots ? sk_X509_num(check->roots) : 0;

        if (!store || !ctx)
                return -ENOMEM;
        if (n <= 0)
                return vm_error(-EACCES, "%s: no trusted root is configured", name);
        for (int i = 0; i < n; i++)
                if (X509_STORE_add_cert(store, sk_X509_value(check->roots, i)) != 1)
                        return -ENOMEM;
        if (X509_STORE_CTX_init(ctx, store, leaf, check->intermediates) != 1)
                return -ENOMEM;
        if (check->at)
                X509_STORE_CTX_set_time(ctx, 0, check->at);
        /* The roots are pinned by the caller: a root that is not self-signed (a cross-signed
         * one) is still an anchor, and nothing past it is looked up. */
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
        if (X509_verify_cert(ctx) != 1) {
                int err = X509_STORE_CTX_get_error(ctx);

                ERR_clear_error();
                return vm_error(-EACCES, "%s does not chain to a pinned root (depth %d): %s", name,
                                X509_STORE_CTX_get_error_depth(ctx), X509_verify_cert_error_string(err));
        }
        return 0;
}

int cert_pem_parse_all(const char *what, const void *pem, size_t size, STACK_OF(X509) **certs) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *list = sk_X509_new_null();

        if (size > CERT_PEM_FILE_MAX)
                return vm_error(-EBADMSG, "%s: %zu bytes of PEM, more than %d", what, size, CERT_PEM_FILE_MAX);
        bio = BIO_new_mem_buf(pem, (int)size);
        if (!bio || !list)
                return -ENOMEM;
        for (;;) {
                X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);

                if (!cert) {
                        unsigned long e = ERR_peek_last_error();

                        ERR_clear_error();
                        /* The end of the text is PEM_R_NO_START_LINE; anything else is a
                         * broken block, which must not be skipped silently. */
                        if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                                break;
                        return vm_error(-EBADMSG, "%s: certificate %d is not a valid PEM certificate", what,
                                        sk_X509_num(list) + 1);
                }
                if (sk_X509_num(list) >= CERT_CHAIN_MAX || !sk_X509_push(list, cert)) {
                        X509_free(cert);
                        return sk_X509_num(list) >= CERT_CHAIN_MAX
                                       ? vm_error(-EBADMSG, "%s: more than %d certificates", what, CERT_CHAIN_MAX)
                                       : -ENOMEM;
                }
        }
        if (sk_X509_num(list) == 0)
                return vm_error(-EBADMSG, "%s: no PEM certificate", what);
        *certs = TAKE_PTR(list);
        return 0;
}

int cert_pem_load_file(const char *path, STACK_OF(X509) **certs) {
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        int ret = file_read_all(path, CERT_PEM_FILE_MAX, &text, &size);

        if (ret < 0)
                return vm_error(ret, "%s: cannot read certificates", path);
        return cert_pem_parse_all(path, text, size, certs);
}

int cert_der_parse(const char *what, const uint8_t *der, size_t size, X509 **cert) {
        const uint8_t *p = der;
        X509 *parsed;

        if (size == 0 || size > CERT_DER_MAX)
                return vm_error(-EBADMSG, "%s: %zu bytes, not a certificate of 1 to %d bytes", what, size,
                                CERT_DER_MAX);
        parsed = d2i_X509(NULL, &p, (long)size);
        ERR_clear_error();
        if (!parsed)
                return vm_error(-EBADMSG, "%s: not a DER X.509 certificate", what);
        if ((size_t)(p - der) != size) {
                X509_free(parsed);
                return vm_error(-EBADMSG, "%s: %zu bytes after the certificate", what, size - (size_t)(p - der));
        }
        *cert = parsed;
        return 0;
}

int cert_sha256(X509 *cert, uint8_t digest[32]) {
        unsigned int len = 0;

        if (X509_digest(cert, EVP_sha256(), digest, &len) != 1 || len != 32)
                return -ENOMEM;
        return 0;
}
