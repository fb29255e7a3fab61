#include "verifier/registration_body.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoding.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/json_member.h"
#include "lib/secret_json.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "verifier/cert_chain.h"
#include "verifier/ek_check.h"
#include "verifier/enrolment_token.h"
#include "verifier/identity_proof.h"

#define TPM2B_PUBLIC_B64_MAX 2048 /* a TPM2B_PUBLIC is at most ~1.3 KiB */
#define EKCERT_TEXT_MAX 32768
#define MTLS_CERT_MAX 16384

/* base64 TPM2B_PUBLIC, as `ek_tpm`/`aik_tpm` carry it */
static int body_public(json_object *body, const char *name, TPM2B_PUBLIC *pub, uint8_t **raw, size_t *raw_size) {
        const char *text;
        int ret = json_member_string(body, name, TPM2B_PUBLIC_B64_MAX, false, &text);

        if (ret < 0)
                return ret;
        ret = base64_decode(text, strlen(text), raw, raw_size);
        if (ret < 0)
                return vm_error(-EBADMSG, "%s: %s", name, vm_error_detail(ret));
        ret = tpm2b_public_unmarshal(*raw, *raw_size, pub);
        if (ret < 0)
                return vm_error(-EBADMSG, "%s: %s", name, vm_error_detail(ret));
        return 0;
}

static int check_ek_public(const TPMT_PUBLIC *ek) {
        const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                                 TPMA_OBJECT_FIXEDPARENT;

        if (ek->type != TPM2_ALG_RSA && ek->type != TPM2_ALG_ECC)
                return vm_error(-EBADMSG, "ek_tpm is neither an RSA nor an ECC key");
        if ((ek->objectAttributes & need) != need || (ek->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT))
                return vm_error(-EBADMSG, "ek_tpm is not a restricted decryption key (attributes 0x%08x)",
                                ek->objectAttributes);
        return 0;
}

/* A weak EK or AK would let a credential be opened, or a quote forged, without the TPM. */
static int check_key_strength(const char *name, const TPMT_PUBLIC *key) {
        int ret = tpmkey_check_strength(key);

        return ret < 0 ? vm_error(-EBADMSG, "%s: %s", name, vm_error_detail(ret)) : 0;
}

/* The optional ak_cert: base64 of one DER certificate (whether it certifies aik_tpm and chains
 * is the trust decision's, verifier/identity_proof.h). Present but empty is malformed: an agent
 * without one leaves the member out or sends null. */
static int body_ak_cert(json_object *body, uint8_t **der, size_t *der_size) {
        const char *text;
        X509 *cert = NULL;
        int ret = json_member_string(body, "ak_cert", 2 * AK_CERT_DER_MAX, true, &text);

        if (ret < 0 || !text)
                return ret;
        ret = base64_decode(text, strlen(text), der, der_size);
        if (ret < 0)
                return vm_error(-EBADMSG, "ak_cert: not base64: %s", vm_error_detail(ret));
        if (*der_size > AK_CERT_DER_MAX)
                ret = vm_error(-EBADMSG, "ak_cert: %zu bytes, more than %d", *der_size, AK_CERT_DER_MAX);
        else
                ret = cert_der_parse("ak_cert", *der, *der_size, &cert);
        X509_free(cert);
        if (ret < 0) {
                free(*der);
                *der = NULL;
                *der_size = 0;
        }
        return ret;
}

static int check_mtls_cert(const char *pem) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        int ret = cert ? 0 : vm_error(-EBADMSG, "mtls_cert is not a PEM certificate");

        X509_free(cert);
        BIO_free(bio);
        return ret;
}

/* The optional vmattest_enrolment_token: only its hash is kept, and the text in the parsed body
 * is wiped (it is a secret that enrols an agent). */
static int body_enrolment_token(json_object *body, char sha256[ENROLMENT_TOKEN_SHA256_HEX]) {
        const char *token;
        int ret = json_member_string(body, "vmattest_enrolment_token", ENROLMENT_TOKEN_MAX, true, &token);

        if (ret >= 0 && token && !enrolment_token_form_ok(token, strlen(token)))
                ret = vm_error(-EBADMSG, "vmattest_enrolment_token is not %d-%d printable ASCII characters",
                               ENROLMENT_TOKEN_MIN, ENROLMENT_TOKEN_MAX);
        else if (ret >= 0 && token)
                ret = enrolment_token_hash(token, strlen(token), sha256);
        /* refused too (too long, a NUL in it): the text may still be a token */
        secret_json_string_wipe(json_object_object_get(body, "vmattest_enrolment_token"));
        return ret;
}

int registration_body_parse(json_object *body, struct registration_body *out) {
        const char *ekcert, *mtls_cert, *ip;
        json_object *port;
        int ret;

        memset(out, 0, sizeof(*out));
        /* first: whatever else is wrong, the token does not stay in memory */
        ret = body_enrolment_token(body, out->enrolment_token_sha256);
        if (ret >= 0)
                ret = body_public(body, "ek_tpm", &out->ek, &out->ek_tpm, &out->ek_tpm_size);
        if (ret >= 0)
                ret = check_ek_public(&out->ek.publicArea);
        if (ret >= 0)
                ret = check_key_strength("ek_tpm", &out->ek.publicArea);
        if (ret >= 0)
                ret = body_public(body, "aik_tpm", &out->ak, &out->aik_tpm, &out->aik_tpm_size);
        if (ret >= 0 && (ret = tpmkey_check_ak(&out->ak.publicArea)) < 0)
                ret = vm_error(-EBADMSG, "aik_tpm: %s", vm_error_detail(ret));
        if (ret >= 0)
                ret = check_key_strength("aik_tpm", &out->ak.publicArea);
        if (ret >= 0)
                ret = json_member_string(body, "ekcert", EKCERT_TEXT_MAX, true, &ekcert);
        if (ret >= 0 && ekcert && *ekcert)
                ret = ek_cert_decode(ekcert, strlen(ekcert), &out->ekcert, &out->ekcert_size);
        if (ret >= 0)
                ret = body_ak_cert(body, &out->ak_cert, &out->ak_cert_size);
        if (ret >= 0)
                ret = json_member_string(body, "mtls_cert", MTLS_CERT_MAX, true, &mtls_cert);
        if (ret >= 0 && mtls_cert && strcmp(mtls_cert, "disabled") != 0) {
                ret = check_mtls_cert(mtls_cert);
                if (ret >= 0 && !(out->mtls_cert = strdup(mtls_cert)))
                        ret = -ENOMEM;
        }
        if (ret >= 0)
                ret = json_member_string(body, "ip", sizeof(out->ip) - 1, false, &ip);
        if (ret >= 0 && !conf_ip_valid(ip))
                ret = vm_error(-EBADMSG, "ip \"%.64s\" is not an IPv4 or IPv6 address", ip);
        if (ret >= 0) {
                strcpy(out->ip, ip);
                if (!json_object_object_get_ex(body, "port", &port) || !json_object_is_type(port, json_type_int) ||
                    json_object_get_int64(port) < 1 || json_object_get_int64(port) > 65535)
                        ret = vm_error(-EBADMSG, "port is missing or not an integer 1-65535");
                else
                        out->port = (int)json_object_get_int64(port);
        }
        if (ret < 0)
                registration_body_done(out);
        return ret;
}

void registration_body_done(struct registration_body *body) {
        free(body->ek_tpm);
        free(body->aik_tpm);
        free(body->ekcert);
        free(body->ak_cert);
        free(body->mtls_cert);
        memset(body, 0, sizeof(*body));
}
