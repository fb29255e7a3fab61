#include "verifier/payload_key_certify.h"

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/json_member.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "verifier/quote_check.h"

#define CERTIFY_B64_MAX 2048 /* each of attest, signature, public: well under 1 KiB of TPM structure */

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)

/* One base64 member of pubkey_certify, decoded. */
static int member_bytes(json_object *certify, const char *name, uint8_t **bytes, size_t *size) {
        const char *text;
        int ret = json_member_string(certify, name, CERTIFY_B64_MAX, false, &text);

        if (ret >= 0 && base64_decode(text, strlen(text), bytes, size) < 0)
                ret = vm_error(-EBADMSG, "%s is not base64", name);
        if (ret >= 0 && *size == 0)
                ret = vm_error(-EBADMSG, "%s is empty", name);
        return ret;
}

/* The certified public area is the served key: the same RSA modulus and exponent as the PEM. */
static int same_key(const TPMT_PUBLIC *public, const char *pubkey_pem) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *certified = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *served = NULL;
        BIO *bio = BIO_new_mem_buf(pubkey_pem, -1);

        served = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!served)
                return vm_error(-EBADMSG, "pubkey is not a PEM public key");
        if (tpmkey_to_evp(public, &certified) < 0)
                return vm_error(-EBADMSG, "public: not a key OpenSSL takes");
        if (EVP_PKEY_eq(certified, served) != 1)
                return vm_error(-EPERM, "public is not the key served as pubkey");
        return 0;
}

/* TPM2_Certify's attestation: by the TPM, of that object's Name, over SHA-256(pubkey_pem). */
static int check_attest(const TPMS_ATTEST *attest, const TPM2B_PUBLIC *public, const char *pubkey_pem) {
        uint8_t digest[SHA256_DIGEST_LENGTH];
        TPM2B_NAME name;
        const TPM2B_NAME *certified = &attest->attested.certify.name;

        if (attest->magic != TPM2_GENERATED_VALUE)
                return vm_error(-EPERM, "attest was not made by a TPM (magic 0x%08x)", attest->magic);
        if (attest->type != TPM2_ST_ATTEST_CERTIFY)
                return vm_error(-EPERM, "attest is not a TPM2_Certify (type 0x%04x)", attest->type);
        SHA256((const unsigned char *)pubkey_pem, strlen(pubkey_pem), digest);
        if (attest->extraData.size != sizeof(digest) || memcmp(attest->extraData.buffer, digest, sizeof(digest)) != 0)
                return vm_error(-EPERM, "attest does not qualify SHA-256 of the served pubkey");
        if (tpm2b_public_name(public, &name) < 0)
                return vm_error(-EBADMSG, "public: no Name");
        if (certified->size != name.size || memcmp(certified->name, name.name, name.size) != 0)
                return vm_error(-EPERM, "the certified Name is not the Name of public");
        return 0;
}

static int certify_check(json_object *certify, const TPM2B_PUBLIC *ak, TPM2_ALG_ID hash_alg, const char *pubkey_pem) {
        _cleanup_(freep) uint8_t *attest_bytes = NULL;
        _cleanup_(freep) uint8_t *signature_bytes = NULL;
        _cleanup_(freep) uint8_t *public_bytes = NULL;
        size_t attest_size, signature_size, public_size;
        TPMT_SIGNATURE signature;
        TPMS_ATTEST attest;
        TPM2B_PUBLIC public;
        int ret = member_bytes(certify, "attest", &attest_bytes, &attest_size);

        if (ret >= 0)
                ret = member_bytes(certify, "signature", &signature_bytes, &signature_size);
        if (ret >= 0)
                ret = member_bytes(certify, "public", &public_bytes, &public_size);
        if (ret >= 0)
                ret = tpms_attest_unmarshal(attest_bytes, attest_size, &attest);
        if (ret >= 0)
                ret = tpmt_signature_unmarshal(signature_bytes, signature_size, &signature);
        if (ret >= 0)
                ret = tpm2b_public_unmarshal(public_bytes, public_size, &public);
        if (ret < 0)
                return ret;
        ret = quote_check_signature(attest_bytes, attest_size, &signature, ak, hash_alg);
        if (ret < 0)
                return vm_error(-EPERM, "not signed by the agent's registered AK: %s", vm_error_detail(ret));
        ret = check_attest(&attest, &public, pubkey_pem);
        if (ret >= 0 && (ret = tpmkey_check_payload_key(&public.publicArea)) < 0)
                ret = vm_error(-EPERM, "the certified key is not a TPM-resident payload key: %s", vm_error_detail(ret));
        if (ret >= 0)
                ret = same_key(&public.publicArea, pubkey_pem);
        return ret;
}

int payload_key_certify_check(json_object *results, const TPM2B_PUBLIC *ak, TPM2_ALG_ID hash_alg, const char *pubkey_pem) {
        json_object *certify;
        int ret;

        if (!json_object_object_get_ex(results, "pubkey_certify", &certify) || json_object_is_type(certify, json_type_null))
                return vm_error(-ENOENT, "the agent serves no pubkey_certify (a software payload key, or an agent that "
                                "does not certify its key)");
        if (!json_object_is_type(certify, json_type_object))
                return vm_error(-EBADMSG, "pubkey_certify: not an object");
        ret = certify_check(certify, ak, hash_alg, pubkey_pem);
        if (ret < 0)
                return vm_error(ret, "pubkey_certify: %s", vm_error_detail(ret));
        return 0;
}
