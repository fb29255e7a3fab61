#include "agent/ek.h"
#include "agent/nv.h"
#include "agent/tpm_key_create.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tpmkey.h"

#define EK_CERT_MAX 8192

/* TCG EK Credential Profile 2.5, B.3 / B.4: authPolicy values. */
static const uint8_t policy_a_sha256[] = { /* PolicySecret(TPM_RH_ENDORSEMENT) */
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
        0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};
static const uint8_t policy_b_sha256[] = { /* PolicyOR(A, C) for high-range templates */
        0xca, 0x3d, 0x0a, 0x99, 0xa2, 0xb9, 0x39, 0x06, 0xf7, 0xa3, 0x34, 0x24, 0x14, 0xef, 0xcf, 0xb3,
        0xa3, 0x85, 0xd4, 0x4c, 0xd1, 0xfd, 0x45, 0x90, 0x89, 0xd1, 0x9b, 0x50, 0x71, 0xc0, 0xb7, 0xa0,
};
static const uint8_t policy_b_sha384[] = {
        0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc, 0xf5, 0xfd, 0x3a, 0x1a,
        0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4, 0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca,
        0xcb, 0x47, 0xba, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12,
};

#define EK_ATTRIBUTES_LOW                                                                                 \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |               \
         TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
#define EK_ATTRIBUTES_HIGH (EK_ATTRIBUTES_LOW | TPMA_OBJECT_USERWITHAUTH)

struct ek_template {
        const char *name;
        TPM2_HANDLE cert_index;
        TPMI_ALG_PUBLIC type;
        TPMI_ALG_HASH name_alg;
        TPMA_OBJECT attributes;
        const uint8_t *policy;
        size_t policy_size;
        uint16_t aes_bits;
        TPMI_ECC_CURVE curve;   /* ECC only */
        uint16_t unique_size;   /* zero-filled unique bytes (per coordinate for ECC); 0 in high range */
};

static const struct ek_template ek_templates[] = {
        { "L-1 RSA-2048 (low range)", 0x01c00002, TPM2_ALG_RSA, TPM2_ALG_SHA256, EK_ATTRIBUTES_LOW,
          policy_a_sha256, sizeof(policy_a_sha256), 128, 0, 256 },
        { "L-2 ECC NIST P-256 (low range)", 0x01c0000a, TPM2_ALG_ECC, TPM2_ALG_SHA256, EK_ATTRIBUTES_LOW,
          policy_a_sha256, sizeof(policy_a_sha256), 128, TPM2_ECC_NIST_P256, 32 },
        { "H-1 RSA-2048 (high range)", 0x01c00012, TPM2_ALG_RSA, TPM2_ALG_SHA256, EK_ATTRIBUTES_HIGH,
          policy_b_sha256, sizeof(policy_b_sha256), 128, 0, 0 },
        { "H-2 ECC NIST P-256 (high range)", 0x01c00014, TPM2_ALG_ECC, TPM2_ALG_SHA256, EK_ATTRIBUTES_HIGH,
          policy_b_sha256, sizeof(policy_b_sha256), 128, TPM2_ECC_NIST_P256, 0 },
        { "H-3 ECC NIST P-384 (high range)", 0x01c00016, TPM2_ALG_ECC, TPM2_ALG_SHA384, EK_ATTRIBUTES_HIGH,
          policy_b_sha384, sizeof(policy_b_sha384), 256, TPM2_ECC_NIST_P384, 0 },
};

#define T_L1 (&ek_templates[0])
#define T_L2 (&ek_templates[1])
#define T_H1 (&ek_templates[2])
#define T_H2 (&ek_templates[3])
#define T_H3 (&ek_templates[4])

/* Templates to try for each `alg`, in order of preference: the first whose certificate is in
 * NV wins; with none, the first is used without certificate. */
static const struct ek_choice {
        const char *alg;
        const struct ek_template *candidates[4];
} ek_choices[] = {
        { "rsa", { T_L1, T_H1 } },
        { "rsa2048", { T_L1, T_H1 } },
        { "ecc", { T_L2, T_H2, T_H3 } },
        { "ecc256", { T_L2, T_H2 } },
        { "ecc384", { T_H3 } },
};

static const struct ek_choice *ek_choice_find(const char *alg) {
        for (size_t i = 0; i < ELEMENTSOF(ek_choices); i++)
                if (strcmp(ek_choices[i].alg, alg) == 0)
                        return &ek_choices[i];
        return NULL;
}

bool ek_alg_valid(const char *alg) {
        return ek_choice_find(alg) != NULL;
}

const char *ek_template_name(const struct ek *ek) {
        return ek->template ? ek->template->name : "persistent (no standard template matched)";
}

static void ek_template_public(const struct ek_template *t, TPM2B_PUBLIC *pub) {
        TPMT_PUBLIC *area = &pub->publicArea;

        memset(pub, 0, sizeof(*pub));
        area->type = t->type;
        area->nameAlg = t->name_alg;
        area->objectAttributes = t->attributes;
        area->authPolicy.size = (UINT16)t->policy_size;
        memcpy(area->authPolicy.buffer, t->policy, t->policy_size);
        if (t->type == TPM2_ALG_RSA) {
                TPMS_RSA_PARMS *rsa = &area->parameters.rsaDetail;

                rsa->symmetric = (TPMT_SYM_DEF_OBJECT){ .algorithm = TPM2_ALG_AES,
                                                        .keyBits.aes = t->aes_bits,
                                                        .mode.aes = TPM2_ALG_CFB };
                rsa->scheme.scheme = TPM2_ALG_NULL;
                rsa->keyBits = 2048;
                rsa->exponent = 0;
                area->unique.rsa.size = t->unique_size;
        } else {
                TPMS_ECC_PARMS *ecc = &area->parameters.eccDetail;

                ecc->symmetric = (TPMT_SYM_DEF_OBJECT){ .algorithm = TPM2_ALG_AES,
                                                        .keyBits.aes = t->aes_bits,
                                                        .mode.aes = TPM2_ALG_CFB };
                ecc->scheme.scheme = TPM2_ALG_NULL;
                ecc->curveID = t->curve;
                ecc->kdf.scheme = TPM2_ALG_NULL;
                area->unique.ecc.x.size = t->unique_size;
                area->unique.ecc.y.size = t->unique_size;
        }
}

/* Reads the certificate at `index` (DER; TPMs may pad it, so only the DER length is kept). */
static int ek_cert_read(struct tpm *tpm, TPM2_HANDLE index, uint8_t **der, size_t *der_size) {
        _cleanup_(freep) uint8_t *data = NULL;
        size_t size = 0;
        const uint8_t *p;
        X509 *cert;
        int ret = tpm_nv_read_all_index_auth(tpm, index, EK_CERT_MAX, "EK certificate", &data, &size);

        if (ret < 0)
                return ret;
        p = data;
        cert = d2i_X509(NULL, &p, (long)size);
        if (!cert)
                return vm_error(-EBADMSG, "EK certificate NV index 0x%08x does not hold a DER X.509 certificate",
                                index);
        X509_free(cert);
        *der_size = (size_t)(p - data);
        *der = TAKE_PTR(data);
        return 0;
}

/* The certificate must certify this very key: a TPM whose NV holds another TPM's certificate,
 * or whose EK template differs from the certified one, would otherwise pass unnoticed. */
static int ek_cert_matches(const struct ek *ek, const uint8_t *der, size_t der_size) {
        const uint8_t *p = der;
        X509 *cert = d2i_X509(NULL, &p, (long)der_size);
        EVP_PKEY *ek_key = NULL;
        int ret;

        if (!cert)
                return -EBADMSG;
        ret = tpmkey_to_evp(&ek->public.publicArea, &ek_key);
        if (ret >= 0)
                ret = EVP_PKEY_eq(X509_get0_pubkey(cert), ek_key) == 1 ? 1 : 0;
        EVP_PKEY_free(ek_key);
        X509_free(cert);
        return ret;
}

static int ek_create(struct tpm *tpm, const struct ek_template *t, struct ek *ek) {
        TPM2B_PUBLIC in_public, *out_public = NULL;
        int ret;

        ek_template_public(t, &in_public);
        ret = tpm_key_create_primary(tpm, ESYS_TR_RH_ENDORSEMENT, &in_public, "TPM2_CreatePrimary (EK)", &ek->handle,
                                     &out_public);
        if (ret < 0)
                return ret;
        ek->public = *out_public;
        ek->transient = true;
        ek->template = t;
        Esys_Free(out_public);
        return 0;
}

static int ek_load_persistent(struct tpm *tpm, TPM2_HANDLE handle, struct ek *ek) {
        TPM2B_PUBLIC *pub = NULL;
        int ret;

        ret = TPM_RUN("loading the persistent EK",
                      Esys_TR_FromTPMPublic(tpm->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                            &ek->handle));
        if (ret < 0)
                return vm_error(ret, "EK handle 0x%08x: %s", handle, vm_error_detail(ret));
        ret = TPM_RUN("TPM2_ReadPublic (EK)", Esys_ReadPublic(tpm->esys, ek->handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                                              ESYS_TR_NONE, &pub, NULL, NULL));
        if (ret < 0)
                return ret;
        ek->public = *pub;
        Esys_Free(pub);
        if ((ek->public.publicArea.objectAttributes & EK_ATTRIBUTES_LOW) != EK_ATTRIBUTES_LOW)
                return vm_error(-EINVAL, "EK handle 0x%08x holds a key that is not a restricted decryption key",
                                handle);
        return 0;
}

/* Finds the candidate whose certificate is in NV (and certifies ek, when ek is given). */
static int ek_find_cert(struct tpm *tpm, const struct ek_choice *choice, struct ek *ek, bool must_match,
                        const struct ek_template **found) {
        for (size_t i = 0; i < ELEMENTSOF(choice->candidates) && choice->candidates[i]; i++) {
                const struct ek_template *t = choice->candidates[i];
                uint8_t *der = NULL;
                size_t der_size = 0;
                int ret = ek_cert_read(tpm, t->cert_index, &der, &der_size);

                if (ret == -ENOENT)
                        continue;
                if (ret < 0)
                        return ret;
                if (must_match && ek_cert_matches(ek, der, der_size) != 1) {
                        free(der);
                        continue;
                }
                ek->cert_der = der;
                ek->cert_size = der_size;
                ek->cert_index = t->cert_index;
                *found = t;
                return 0;
        }
        *found = NULL;
        return 0;
}

int ek_open(struct tpm *tpm, const char *alg, TPM2_HANDLE persistent, struct ek **out) {
        const struct ek_choice *choice = ek_choice_find(alg);
        const struct ek_template *t;
        struct ek *ek;
        int ret;

        if (!choice)
                return vm_error(-EINVAL, "unknown EK algorithm \"%s\" (rsa, ecc, rsa2048, ecc256, ecc384)", alg);
        ek = calloc(1, sizeof(*ek));
        if (!ek)
                return -ENOMEM;
        ek->handle = ESYS_TR_NONE;

        if (persistent) {
                ret = ek_load_persistent(tpm, persistent, ek);
                if (ret >= 0)
                        ret = ek_find_cert(tpm, choice, ek, true, &t);
                if (ret >= 0)
                        ek->template = t;
        } else {
                ret = ek_find_cert(tpm, choice, ek, false, &t);
                if (ret >= 0)
                        ret = ek_create(tpm, t ? t : choice->candidates[0], ek);
                if (ret >= 0 && ek->cert_der && ek_cert_matches(ek, ek->cert_der, ek->cert_size) != 1)
                        ret = vm_error(-EBADMSG,
                                       "the EK certificate at NV 0x%08x does not certify the EK made from template %s",
                                       ek->cert_index, ek->template->name);
        }
        if (ret < 0) {
                ek_free(tpm, ek);
                return ret;
        }
        if (!ek->cert_der)
                log_info("no EK certificate in this TPM for \"%s\" (looked at the template's NV indices)", alg);
        *out = ek;
        return 0;
}

void ek_free(struct tpm *tpm, struct ek *ek) {
        if (!ek)
                return;
        if (ek->handle != ESYS_TR_NONE) {
                if (ek->transient)
                        Esys_FlushContext(tpm->esys, ek->handle);
                else
                        Esys_TR_Close(tpm->esys, &ek->handle);
        }
        free(ek->cert_der);
        free(ek);
}

int ek_session(struct tpm *tpm, const struct ek *ek, ESYS_TR *session) {
        TPMT_SYM_DEF symmetric = { .algorithm = TPM2_ALG_NULL };
        TPM2B_NONCE nonce_tpm = { 0 };
        TPM2B_DIGEST cp_hash = { 0 };
        TPM2B_NONCE policy_ref = { 0 };
        int ret;

        if (ek->public.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH) {
                *session = ESYS_TR_PASSWORD;
                return 0;
        }
        ret = TPM_RUN("TPM2_StartAuthSession (EK policy)",
                      Esys_StartAuthSession(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                            ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &symmetric, TPM2_ALG_SHA256,
                                            session));
        if (ret < 0)
                return ret;
        ret = TPM_RUN("TPM2_PolicySecret (endorsement)",
                      Esys_PolicySecret(tpm->esys, ESYS_TR_RH_ENDORSEMENT, *session, ESYS_TR_PASSWORD,
                                        ESYS_TR_NONE, ESYS_TR_NONE, &nonce_tpm, &cp_hash, &policy_ref, 0, NULL,
                                        NULL));
        if (ret >= 0)
                ret = TPM_RUN("Esys_TRSess_SetAttributes",
                              Esys_TRSess_SetAttributes(tpm->esys, *session, 0, TPMA_SESSION_CONTINUESESSION));
        if (ret < 0) {
                Esys_FlushContext(tpm->esys, *session);
                return ret;
        }
        return 0;
}

void ek_session_done(struct tpm *tpm, ESYS_TR session, int command_result) {
        /* On success the TPM already flushed the session (continueSession was clear). */
        if (command_result < 0 && session != ESYS_TR_PASSWORD)
                Esys_FlushContext(tpm->esys, session);
}
