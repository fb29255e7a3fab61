#include "agent/ak.h"

#include <string.h>

#include "agent/tpm_key_create.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

#define AK_ATTRIBUTES                                                                                     \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |               \
         TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

static void ak_template(TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg, TPM2B_PUBLIC *pub) {
        memset(pub, 0, sizeof(*pub));
        if (sign_alg == TPM2_ALG_ECDSA) {
                /* as go-tpm-tools' AKTemplateECC and rust-keylime's ECC AK: the point is the TPM's */
                pub->publicArea = (TPMT_PUBLIC){
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = AK_ATTRIBUTES,
                        .parameters.eccDetail = {
                                .symmetric.algorithm = TPM2_ALG_NULL,
                                .scheme = { .scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = hash_alg },
                                .curveID = TPM2_ECC_NIST_P256,
                                .kdf.scheme = TPM2_ALG_NULL,
                        },
                };
                return;
        }
        pub->publicArea = (TPMT_PUBLIC){
                .type = TPM2_ALG_RSA,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = AK_ATTRIBUTES,
                .parameters.rsaDetail = {
                        .symmetric.algorithm = TPM2_ALG_NULL,
                        .scheme = { .scheme = TPM2_ALG_RSASSA, .details.rsassa.hashAlg = hash_alg },
                        .keyBits = 2048,
                        .exponent = 0,
                },
        };
}

TPM2_ALG_ID ak_sign_alg_from_name(const char *name) {
        if (strcmp(name, "rsassa") == 0)
                return TPM2_ALG_RSASSA;
        if (strcmp(name, "ecdsa") == 0)
                return TPM2_ALG_ECDSA;
        return TPM2_ALG_ERROR;
}

const char *ak_sign_alg_name(const struct ak *ak) {
        return ak->public.publicArea.type == TPM2_ALG_ECC ? "ecdsa" : "rsassa";
}

TPM2_ALG_ID ak_sign_hash(const struct ak *ak) {
        const TPMT_PUBLIC *area = &ak->public.publicArea;

        if (area->type == TPM2_ALG_ECC)
                return area->parameters.eccDetail.scheme.details.ecdsa.hashAlg;
        return area->parameters.rsaDetail.scheme.details.rsassa.hashAlg;
}

/* The key is of the kind tpm_signing_alg asks for: said first, and in the config key's words,
 * since a key of the other kind is what a changed tpm_signing_alg finds at ak_handle. */
static int check_kind(const TPMT_PUBLIC *area, TPM2_ALG_ID sign_alg) {
        bool ecdsa = sign_alg == TPM2_ALG_ECDSA;
        TPM2_ALG_ID type = ecdsa ? TPM2_ALG_ECC : TPM2_ALG_RSA;

        if ((area->type == TPM2_ALG_RSA || area->type == TPM2_ALG_ECC) && area->type != type)
                return vm_error(-EINVAL, "it is an %s key, and tpm_signing_alg %s needs an %s key",
                                area->type == TPM2_ALG_RSA ? "RSA" : "ECC", ecdsa ? "ecdsa" : "rsassa",
                                ecdsa ? "ECC NIST P-256" : "RSA-2048");
        if (area->type != type)
                return vm_error(-EINVAL, "not an %s key (type 0x%04x)", ecdsa ? "ECC NIST P-256" : "RSA-2048",
                                area->type);
        if (ecdsa && area->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
                return vm_error(-EINVAL, "not an ECC NIST P-256 key (curve 0x%04x)",
                                area->parameters.eccDetail.curveID);
        if (!ecdsa && area->parameters.rsaDetail.keyBits != 2048)
                return vm_error(-EINVAL, "not an RSA-2048 key (%u bits)", area->parameters.rsaDetail.keyBits);
        return 0;
}

int ak_check_public(const TPM2B_PUBLIC *pub, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg) {
        const TPMT_PUBLIC *area = &pub->publicArea;
        const TPMT_ECC_SCHEME *ecc = &area->parameters.eccDetail.scheme;
        const TPMT_RSA_SCHEME *rsa = &area->parameters.rsaDetail.scheme;
        int ret = check_kind(area, sign_alg);

        if (ret < 0)
                return ret;
        ret = tpmkey_check_ak(area);
        if (ret < 0)
                return ret;
        if (!(area->objectAttributes & TPMA_OBJECT_USERWITHAUTH))
                return vm_error(-EINVAL, "it needs userWithAuth: the agent quotes with the AK's empty password");
        if (sign_alg == TPM2_ALG_ECDSA && (ecc->scheme != TPM2_ALG_ECDSA || ecc->details.ecdsa.hashAlg != hash_alg))
                return vm_error(-EINVAL, "signing scheme is not ECDSA with %s", hashalg_name(hash_alg));
        if (sign_alg != TPM2_ALG_ECDSA && (rsa->scheme != TPM2_ALG_RSASSA || rsa->details.rsassa.hashAlg != hash_alg))
                return vm_error(-EINVAL, "signing scheme is not RSASSA with %s", hashalg_name(hash_alg));
        return 0;
}

static int ak_fill(struct tpm *tpm, struct ak *ak, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg) {
        TPM2B_PUBLIC *pub = NULL;
        int ret;

        ret = TPM_RUN("TPM2_ReadPublic (AK)", Esys_ReadPublic(tpm->esys, ak->handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                                              ESYS_TR_NONE, &pub, NULL, NULL));
        if (ret < 0)
                return ret;
        ak->public = *pub;
        Esys_Free(pub);
        ret = ak_check_public(&ak->public, sign_alg, hash_alg);
        if (ret < 0)
                return vm_error(-EEXIST, "handle 0x%08x does not hold a vmattest AK: %s", ak->persistent,
                                vm_error_detail(ret));
        return tpm2b_public_name(&ak->public, &ak->name);
}

int ak_load_platform(struct tpm *tpm, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg,
                     struct ak *ak) {
        TSS2_RC rc;
        int ret;

        memset(ak, 0, sizeof(*ak));
        ak->persistent = persistent;
        rc = TPM_RETRYING(
                Esys_TR_FromTPMPublic(tpm->esys, persistent, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak->handle));
        if (rc != TSS2_RC_SUCCESS) {
                ak->handle = ESYS_TR_NONE;
                if ((tpm_rc_base(rc) & ~TPM2_RC_N_MASK) == TPM2_RC_HANDLE)
                        return -ENOENT;
                return tpm_failed(rc, "loading the persistent AK");
        }
        ret = ak_fill(tpm, ak, sign_alg, hash_alg);
        if (ret < 0)
                ak_close(tpm, ak);
        return ret;
}

int ak_load(struct tpm *tpm, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg, struct ak *ak) {
        int ret = ak_load_platform(tpm, persistent, sign_alg, hash_alg, ak);

        if (ret == -EEXIST)
                ret = vm_error(ret, "%s (evict it or choose another ak_handle)", vm_error_detail(ret));
        return ret;
}

int ak_persist(struct tpm *tpm, ESYS_TR loaded, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg,
               struct ak *ak) {
        int ret;

        memset(ak, 0, sizeof(*ak));
        ak->persistent = persistent;
        ret = TPM_RUN("TPM2_EvictControl (persist AK)",
                      Esys_EvictControl(tpm->esys, ESYS_TR_RH_OWNER, loaded, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                        ESYS_TR_NONE, persistent, &ak->handle));
        Esys_FlushContext(tpm->esys, loaded);
        if (ret < 0) {
                ak->handle = ESYS_TR_NONE;
                return vm_error(ret, "cannot keep the AK at handle 0x%08x: %s", persistent, vm_error_detail(ret));
        }
        ret = ak_fill(tpm, ak, sign_alg, hash_alg);
        if (ret < 0)
                ak_close(tpm, ak);
        return ret;
}

int ak_create(struct tpm *tpm, const struct ek *ek, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg,
              TPM2_ALG_ID hash_alg, struct ak *ak) {
        TPM2B_PUBLIC in_public, *out_public = NULL;
        TPM2B_PRIVATE *out_private = NULL;
        ESYS_TR session, loaded = ESYS_TR_NONE;
        int ret;

        memset(ak, 0, sizeof(*ak));
        ak->persistent = persistent;
        ak->handle = ESYS_TR_NONE;
        ak_template(sign_alg, hash_alg, &in_public);

        ret = ek_session(tpm, ek, &session);
        if (ret < 0)
                return ret;
        ret = tpm_key_create(tpm, ek->handle, session, &in_public, "TPM2_Create (AK under the EK)", &out_private,
                             &out_public);
        ek_session_done(tpm, session, ret);
        if (ret < 0)
                return ret;

        /* The policy session is spent: loading under the EK needs a fresh one. */
        ret = ek_session(tpm, ek, &session);
        if (ret >= 0) {
                ret = TPM_RUN("TPM2_Load (AK)", Esys_Load(tpm->esys, ek->handle, session, ESYS_TR_NONE, ESYS_TR_NONE,
                                                         out_private, out_public, &loaded));
                ek_session_done(tpm, session, ret);
        }
        Esys_Free(out_private);
        Esys_Free(out_public);
        if (ret < 0)
                return ret;
        return ak_persist(tpm, loaded, persistent, sign_alg, hash_alg, ak);
}

void ak_close(struct tpm *tpm, struct ak *ak) {
        if (ak->handle != ESYS_TR_NONE)
                Esys_TR_Close(tpm->esys, &ak->handle);
        ak->handle = ESYS_TR_NONE;
}
