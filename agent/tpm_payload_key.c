#include "agent/tpm_payload_key.h"

#include <openssl/crypto.h>
#include <string.h>

#include "agent/tpm_key_create.h"
#include "lib/error.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

#define PARENT_ATTRIBUTES                                                                                  \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |                \
         TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
/* not restricted (it decrypts what the verifier wrapped, not TPM objects), never signs */
#define KEY_ATTRIBUTES                                                                                     \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |                \
         TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_DECRYPT)

/* An ECC P-256 storage key: the TPM makes it in milliseconds, where an RSA primary costs seconds. */
static void parent_template(TPM2B_PUBLIC *pub) {
        memset(pub, 0, sizeof(*pub));
        pub->publicArea = (TPMT_PUBLIC){
                .type = TPM2_ALG_ECC,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = PARENT_ATTRIBUTES,
                .parameters.eccDetail = {
                        .symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
                        .scheme.scheme = TPM2_ALG_NULL,
                        .curveID = TPM2_ECC_NIST_P256,
                        .kdf.scheme = TPM2_ALG_NULL,
                },
        };
}

/* scheme NULL: the padding is chosen by each TPM2_RSA_Decrypt */
static void key_template(TPM2B_PUBLIC *pub) {
        memset(pub, 0, sizeof(*pub));
        pub->publicArea = (TPMT_PUBLIC){
                .type = TPM2_ALG_RSA,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = KEY_ATTRIBUTES,
                .parameters.rsaDetail = {
                        .symmetric.algorithm = TPM2_ALG_NULL,
                        .scheme.scheme = TPM2_ALG_NULL,
                        .keyBits = 2048,
                        .exponent = 0,
                },
        };
}

int tpm_payload_key_check_public(const TPMT_PUBLIC *public) {
        return tpmkey_check_payload_key(public);
}

static int create_parent(struct tpm *tpm, const TPM2B_PUBLIC *template, ESYS_TR *parent) {
        *parent = ESYS_TR_NONE;
        return tpm_key_create_primary(tpm, ESYS_TR_RH_NULL, template,
                                      "TPM2_CreatePrimary (payload key's parent, null hierarchy)", parent, NULL);
}

static void flush(struct tpm *tpm, ESYS_TR *handle) {
        if (*handle != ESYS_TR_NONE)
                Esys_FlushContext(tpm->esys, *handle);
        *handle = ESYS_TR_NONE;
}

/* The loaded key's context saved, and the key flushed: between uses it takes no object slot of
 * the TPM, so that an agent killed between them leaves nothing behind where no resource manager
 * flushes after it (a swtpm over TCP, /dev/tpm0). */
static int save_and_flush(struct tpm *tpm, ESYS_TR *handle, struct tpm_payload_key *key) {
        TPMS_CONTEXT *context = NULL;
        int ret = TPM_RUN("TPM2_ContextSave (payload key)", Esys_ContextSave(tpm->esys, *handle, &context));

        if (ret >= 0) {
                key->context = *context;
                key->saved = true;
        }
        Esys_Free(context);
        flush(tpm, handle);
        return ret;
}

/* The key into the TPM for one command; flush() after it. */
static int load_saved(struct tpm *tpm, const struct tpm_payload_key *key, ESYS_TR *handle) {
        *handle = ESYS_TR_NONE;
        if (!key->saved)
                return vm_error(-ENOENT, "no payload key in the TPM");
        return TPM_RUN("TPM2_ContextLoad (payload key)", Esys_ContextLoad(tpm->esys, &key->context, handle));
}

int tpm_payload_key_create(struct tpm *tpm, struct tpm_payload_key *key) {
        TPM2B_PUBLIC in_public, *out_public = NULL;
        TPM2B_PRIVATE *out_private = NULL;
        ESYS_TR parent, handle = ESYS_TR_NONE;
        int ret;

        memset(key, 0, sizeof(*key));
        parent_template(&key->parent_template);
        key_template(&in_public);
        ret = create_parent(tpm, &key->parent_template, &parent);
        if (ret >= 0)
                ret = tpm_key_create(tpm, parent, ESYS_TR_PASSWORD, &in_public, "TPM2_Create (payload key)",
                                     &out_private, &out_public);
        if (ret >= 0) {
                key->public = *out_public;
                key->private = *out_private;
                ret = TPM_RUN("TPM2_Load (payload key)", Esys_Load(tpm->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                                  ESYS_TR_NONE, out_private, out_public, &handle));
        }
        Esys_Free(out_private);
        Esys_Free(out_public);
        flush(tpm, &parent);
        if (ret >= 0)
                ret = save_and_flush(tpm, &handle, key);
        return ret;
}

int tpm_payload_key_load(struct tpm *tpm, const TPM2B_PUBLIC *parent_template, const TPM2B_PUBLIC *public,
                         const TPM2B_PRIVATE *private, struct tpm_payload_key *key) {
        ESYS_TR parent, handle = ESYS_TR_NONE;
        int ret;

        memset(key, 0, sizeof(*key));
        ret = tpm_payload_key_check_public(&public->publicArea);
        if (ret < 0)
                return vm_error(ret, "the handed-over payload key: %s", vm_error_detail(ret));
        key->parent_template = *parent_template;
        key->public = *public;
        key->private = *private;
        ret = create_parent(tpm, parent_template, &parent);
        if (ret >= 0) {
                ret = TPM_RUN("TPM2_Load (payload key)", Esys_Load(tpm->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                                  ESYS_TR_NONE, private, public, &handle));
                if (ret < 0)
                        ret = vm_error(ret, "%s: the handed-over payload key does not load (was the TPM reset since "
                                       "unlock made it?)", vm_error_detail(ret));
        }
        flush(tpm, &parent);
        if (ret >= 0)
                ret = save_and_flush(tpm, &handle, key);
        return ret;
}

bool tpm_payload_key_present(struct tpm *tpm, const struct tpm_payload_key *key) {
        TPM2B_PUBLIC *public = NULL;
        TPM2B_NAME *name = NULL, want;
        ESYS_TR handle;
        bool present;

        /* a saved context of the null hierarchy does not load after a TPM reset */
        if (tpm2b_public_name(&key->public, &want) < 0 || load_saved(tpm, key, &handle) < 0) {
                vm_error_clear();
                return false;
        }
        present = TPM_RETRYING(Esys_ReadPublic(tpm->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &public,
                                               &name, NULL)) == TSS2_RC_SUCCESS &&
                  name->size == want.size && memcmp(name->name, want.name, want.size) == 0;
        Esys_Free(public);
        Esys_Free(name);
        flush(tpm, &handle);
        return present;
}

void tpm_payload_key_forget(struct tpm_payload_key *key) {
        OPENSSL_cleanse(&key->context, sizeof(key->context));
        key->saved = false;
}

int tpm_payload_key_decrypt(struct tpm *tpm, const struct tpm_payload_key *key, const uint8_t *wrapped, size_t size,
                            struct secret **plain) {
        TPM2B_PUBLIC_KEY_RSA cipher = { .size = (UINT16)size };
        TPMT_RSA_DECRYPT scheme = { .scheme = TPM2_ALG_OAEP, .details.oaep.hashAlg = TPM2_ALG_SHA1 };
        TPM2B_DATA label = { 0 };
        TPM2B_PUBLIC_KEY_RSA *message = NULL;
        ESYS_TR handle;
        TSS2_RC rc;
        int ret;

        if (size == 0 || size > sizeof(cipher.buffer))
                return vm_error(-EBADMSG, "encrypted_key of %zu bytes: RSA-2048 wraps into %d", size, 256);
        memcpy(cipher.buffer, wrapped, size);
        ret = load_saved(tpm, key, &handle);
        if (ret < 0)
                return ret;
        rc = TPM_RETRYING(Esys_RSA_Decrypt(tpm->esys, handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &cipher,
                                           &scheme, &label, &message));
        flush(tpm, &handle);
        if (rc != TSS2_RC_SUCCESS) {
                /* a half wrapped to another key, or forged, is the peer's failure, not the TPM's: a
                 * TPM says TPM_RC_VALUE, libtpms (swtpm) TPM_RC_FAILURE; a warning (the key gone
                 * after a reset, a busy TPM) or a transport error stays the TPM's */
                TSS2_RC base = tpm_rc_base(rc);
                TSS2_RC code = base & (TPM2_RC_FMT1 | 0x3f); /* without the parameter's number */
                TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
                bool from_tpm = layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER;

                if (from_tpm && ((base & TPM2_RC_FMT1) ? code == TPM2_RC_VALUE || code == TPM2_RC_SIZE
                                                       : base == TPM2_RC_FAILURE))
                        return vm_error(-EBADMSG, "encrypted_key does not decrypt under the payload key (TPM2_RSA_Decrypt: "
                                        "0x%x)", base);
                return tpm_failed(rc, "TPM2_RSA_Decrypt (payload key)");
        }
        *plain = message->size ? secret_new_copy(message->buffer, message->size) : NULL;
        if (message->size == 0) {
                Esys_Free(message);
                return vm_error(-EBADMSG, "encrypted_key decrypts to nothing");
        }
        OPENSSL_cleanse(message, sizeof(*message));
        Esys_Free(message);
        return *plain ? 0 : -ENOMEM;
}

int tpm_payload_key_certify(struct tpm *tpm, const struct tpm_payload_key *key, const struct ak *ak,
                            const uint8_t *qualifying, size_t qualifying_size, uint8_t *attest, size_t *attest_size,
                            uint8_t *signature, size_t *signature_size) {
        TPM2B_DATA extra = { .size = (UINT16)qualifying_size };
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL }; /* the AK's own scheme */
        TPM2B_ATTEST *certified = NULL;
        TPMT_SIGNATURE *sig = NULL;
        ESYS_TR handle;
        int ret;

        if (qualifying_size > sizeof(extra.buffer))
                return vm_error(-EINVAL, "qualifying data of %zu bytes", qualifying_size);
        memcpy(extra.buffer, qualifying, qualifying_size);
        ret = load_saved(tpm, key, &handle);
        if (ret < 0)
                return ret;
        ret = TPM_RUN("TPM2_Certify (payload key by the AK)",
                      Esys_Certify(tpm->esys, handle, ak->handle, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   &extra, &scheme, &certified, &sig));
        flush(tpm, &handle);
        if (ret >= 0 && certified->size > TPM_PAYLOAD_KEY_BLOB_MAX)
                ret = vm_error(-EIO, "TPM2_Certify: %u bytes of attestation", certified->size);
        if (ret >= 0) {
                memcpy(attest, certified->attestationData, certified->size);
                *attest_size = certified->size;
                ret = tpmt_signature_marshal(sig, signature, TPM_PAYLOAD_KEY_BLOB_MAX, signature_size);
        }
        Esys_Free(certified);
        Esys_Free(sig);
        return ret;
}
