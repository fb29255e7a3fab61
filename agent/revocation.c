#include "agent/revocation.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/json_member.h"

#define JSON_DEPTH_MAX 16 /* the HTTP servers' limit (lib/http_server.c) */

DEFINE_POINTER_CLEANUP(BIO, BIO_free)
DEFINE_POINTER_CLEANUP(X509, X509_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)

int revocation_cert_load(const char *path, EVP_PKEY **key) {
        _cleanup_(freep) char *pem = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *public_key = NULL;
        size_t size;
        int ret, bits;

        ret = file_read_all(path, REVOCATION_CERT_MAX, &pem, &size);
        if (ret == -ENOENT)
                return vm_error(ret, "revocation_cert %s does not exist", path);
        if (ret < 0)
                return vm_error(ret, "revocation_cert %s", vm_error_detail(ret));
        bio = BIO_new_mem_buf(pem, (int)size);
        if (!bio)
                return -ENOMEM;
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!cert)
                return vm_error(-EINVAL, "revocation_cert %s holds no PEM certificate", path);
        public_key = X509_get_pubkey(cert);
        /* Keylime signs with RSA only (keylime/crypto.py: rsa_sign) */
        if (!public_key || EVP_PKEY_get_base_id(public_key) != EVP_PKEY_RSA)
                return vm_error(-EINVAL, "revocation_cert %s: the key is not an RSA key", path);
        bits = EVP_PKEY_get_bits(public_key);
        if (bits < REVOCATION_KEY_BITS_MIN)
                return vm_error(-EINVAL, "revocation_cert %s: an RSA key of %d bits, fewer than %d", path, bits,
                                REVOCATION_KEY_BITS_MIN);
        *key = TAKE_PTR(public_key);
        return 0;
}

int revocation_message_parse(const char *body, size_t size, struct revocation_message *m) {
        json_tokener *tok;
        enum json_tokener_error error;
        int ret;

        memset(m, 0, sizeof(*m));
        if (size > REVOCATION_BODY_MAX)
                return vm_error(-EBADMSG, "a body of %zu bytes, more than %u", size, REVOCATION_BODY_MAX);
        if (size == 0 || !body)
                return vm_error(-EBADMSG, "empty body: {\"msg\": ..., \"signature\": ...} is required");
        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        m->body = json_tokener_parse_ex(tok, body, (int)size);
        error = json_tokener_get_error(tok);
        if (error != json_tokener_success || json_tokener_get_parse_end(tok) != size ||
            !json_object_is_type(m->body, json_type_object)) {
                json_tokener_free(tok);
                revocation_message_done(m);
                return vm_error(-EBADMSG, "the body is not one JSON object (%s)",
                                error != json_tokener_success ? json_tokener_error_desc(error)
                                                              : "wrong type or trailing data");
        }
        json_tokener_free(tok);
        ret = json_member_string(m->body, "msg", REVOCATION_BODY_MAX, false, &m->msg);
        if (ret >= 0 && !*m->msg)
                ret = vm_error(-EBADMSG, "msg is empty");
        if (ret >= 0)
                ret = json_member_string(m->body, "signature", REVOCATION_SIGNATURE_MAX, false, &m->signature);
        if (ret < 0) {
                revocation_message_done(m);
                return ret;
        }
        m->msg_size = strlen(m->msg);
        return 0;
}

/* RSA-PSS with SHA-256 and MGF1-SHA-256, as keylime/crypto.py's rsa_sign. Keylime signs with
 * the longest salt; the salt's length is read from the signature (RSA_PSS_SALTLEN_AUTO), as
 * rust-keylime does. */
static int signature_verify(EVP_PKEY *key, const uint8_t *signature, size_t signature_size, const char *msg,
                            size_t msg_size) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL; /* owned by ctx */
        int verified;

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)
                return vm_error(-EINVAL, "cannot set up RSA-PSS verification");
        verified = EVP_DigestVerify(ctx, signature, signature_size, (const uint8_t *)msg, msg_size);
        if (verified != 1)
                return vm_error(-EPERM, "the signature does not verify under revocation_cert's key (signed by "
                                        "another key, or msg altered)");
        return 0;
}

int revocation_message_verify(struct revocation_message *m, EVP_PKEY *key) {
        _cleanup_(freep) uint8_t *signature = NULL;
        size_t signature_size;
        json_tokener *tok;
        int ret;

        if (!*m->signature || strcmp(m->signature, "none") == 0)
                return vm_error(-EBADMSG, "the notification is not signed (signature \"%s\": the verifier holds no "
                                          "revocation key for this agent)",
                                m->signature);
        ret = base64_decode(m->signature, strlen(m->signature), &signature, &signature_size);
        if (ret < 0)
                return vm_error(-EBADMSG, "signature: %s", vm_error_detail(ret));
        ret = signature_verify(key, signature, signature_size, m->msg, m->msg_size);
        if (ret < 0)
                return ret;
        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        m->message = json_tokener_parse_ex(tok, m->msg, (int)m->msg_size);
        if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != m->msg_size ||
            !json_object_is_type(m->message, json_type_object)) {
                json_object_put(m->message);
                m->message = NULL;
                ret = vm_error(-EBADMSG, "msg is signed but is not one JSON object");
        }
        json_tokener_free(tok);
        return ret;
}

void revocation_message_done(struct revocation_message *m) {
        json_object_put(m->message);
        json_object_put(m->body);
        memset(m, 0, sizeof(*m));
}
