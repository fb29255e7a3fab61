#include "agent/platform_ak.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "agent/nv.h"
#include "agent/tpm_key_create.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tpmkey.h"

bool ak_source_valid(const char *source) {
        return strcmp(source, "auto") == 0 || strcmp(source, "agent") == 0 || strcmp(source, "azure") == 0 ||
               strcmp(source, "gce") == 0;
}

int platform_ak_cert_length(const char *what, const uint8_t *nv, size_t nv_size, size_t *der_size) {
        const uint8_t *p = nv;
        X509 *cert = d2i_X509(NULL, &p, (long)nv_size);
        size_t used;

        ERR_clear_error();
        if (!cert)
                return vm_error(-EBADMSG, "%s: not a DER X.509 certificate", what);
        X509_free(cert);
        used = (size_t)(p - nv);
        for (size_t i = used; i < nv_size; i++)
                if (nv[i] != nv[used] || (nv[i] != 0x00 && nv[i] != 0xff))
                        return vm_error(-EBADMSG, "%s: %zu bytes after the certificate that are not padding", what,
                                        nv_size - used);
        *der_size = used;
        return 0;
}

static int read_cert(struct tpm *tpm, TPM2_HANDLE index, const char *what, struct platform_ak *platform) {
        _cleanup_(freep) uint8_t *nv = NULL;
        size_t nv_size = 0, der_size = 0;
        char name[96];
        int ret = tpm_nv_read_all(tpm, index, PLATFORM_AK_CERT_MAX, what, &nv, &nv_size);

        if (ret == -ENOENT)
                return vm_error(-ENOENT, "no %s: NV index 0x%08x is not defined", what, index);
        if (ret < 0)
                return ret;
        snprintf(name, sizeof(name), "%s (NV index 0x%08x)", what, index);
        ret = platform_ak_cert_length(name, nv, nv_size, &der_size);
        if (ret < 0)
                return ret;
        platform->cert_der = TAKE_PTR(nv);
        platform->cert_size = der_size;
        return 0;
}

/* The certificate vouches for one key: the AK's, exactly. */
static int cert_certifies(const struct platform_ak *platform, const TPM2B_PUBLIC *ak, const char *what) {
        const uint8_t *p = platform->cert_der;
        X509 *cert = d2i_X509(NULL, &p, (long)platform->cert_size);
        EVP_PKEY *key = NULL;
        int ret = cert ? tpmkey_to_evp(&ak->publicArea, &key) : -EBADMSG;

        if (ret >= 0 && EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1)
                ret = vm_error(-EKEYREJECTED, "%s", what);
        ERR_clear_error();
        EVP_PKEY_free(key);
        X509_free(cert);
        return ret;
}

static bool persistent_defined(struct tpm *tpm, TPM2_HANDLE handle) {
        ESYS_TR tr;

        if (TPM_RETRYING(Esys_TR_FromTPMPublic(tpm->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr)) !=
            TSS2_RC_SUCCESS)
                return false;
        Esys_TR_Close(tpm->esys, &tr);
        return true;
}

static int azure_ak(struct tpm *tpm, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg, struct ak *ak,
                    struct platform_ak *platform) {
        int ret = ak_load_platform(tpm, AZURE_AK_HANDLE, sign_alg, hash_alg, ak);

        if (ret == -ENOENT)
                return vm_error(-ENOENT, "ak_source azure: no AK at the Azure AK handle 0x%08x", AZURE_AK_HANDLE);
        if (ret < 0)
                return vm_error(ret, "ak_source azure: the Azure AK at 0x%08x: %s", AZURE_AK_HANDLE,
                                vm_error_detail(ret));
        ret = read_cert(tpm, AZURE_AK_CERT_NV, "Azure AK certificate", platform);
        if (ret >= 0)
                ret = cert_certifies(platform, &ak->public, "the Azure AK certificate (NV index 0x01c101d0) certifies "
                                                            "another key than the AK at 0x81000003");
        if (ret < 0) {
                ak_close(tpm, ak);
                return vm_error(ret, "ak_source azure: %s", vm_error_detail(ret));
        }
        log_info("AK: Azure's, at handle 0x%08x, with its certificate from NV index 0x%08x", AZURE_AK_HANDLE,
                 AZURE_AK_CERT_NV);
        return 0;
}

/* GCE's two AKs (go-tpm-tools, client/handles.go): a template and the certificate of the key it
 * makes, one pair per kind; tpm_signing_alg picks the pair. */
static const struct gce_ak_pair {
        TPM2_ALG_ID sign_alg;
        const char *kind;
        TPM2_HANDLE cert_nv, template_nv;
} gce_ak_pairs[] = {
        { TPM2_ALG_RSASSA, "RSA", GCE_AK_CERT_NV_RSA, GCE_AK_TEMPLATE_NV_RSA },
        { TPM2_ALG_ECDSA, "ECC", GCE_AK_CERT_NV_ECC, GCE_AK_TEMPLATE_NV_ECC },
};

static const struct gce_ak_pair *gce_pair(TPM2_ALG_ID sign_alg) {
        for (size_t i = 0; i < ELEMENTSOF(gce_ak_pairs); i++)
                if (gce_ak_pairs[i].sign_alg == sign_alg)
                        return &gce_ak_pairs[i];
        return NULL;
}

/* The GCE template (a TPMT_PUBLIC; the index may be padded after it). */
static int gce_template(struct tpm *tpm, const struct gce_ak_pair *pair, TPM2_ALG_ID hash_alg,
                        TPM2B_PUBLIC *template) {
        _cleanup_(freep) uint8_t *nv = NULL;
        size_t nv_size = 0, offset = 0;
        char what[32];
        TSS2_RC rc;
        int ret;

        snprintf(what, sizeof(what), "GCE %s AK template", pair->kind);
        ret = tpm_nv_read_all(tpm, pair->template_nv, sizeof(TPMT_PUBLIC), what, &nv, &nv_size);
        if (ret == -ENOENT)
                return vm_error(-ENOENT, "no %s: NV index 0x%08x is not defined", what, pair->template_nv);
        if (ret < 0)
                return ret;
        memset(template, 0, sizeof(*template));
        rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(nv, nv_size, &offset, &template->publicArea);
        if (rc != TSS2_RC_SUCCESS)
                return vm_error(-EBADMSG, "%s (NV index 0x%08x): not a TPMT_PUBLIC", what, pair->template_nv);
        for (size_t i = offset; i < nv_size; i++)
                if (nv[i] != 0)
                        return vm_error(-EBADMSG, "%s (NV index 0x%08x): %zu bytes after the TPMT_PUBLIC", what,
                                        pair->template_nv, nv_size - offset);
        /* the key it makes must be one the agent quotes with: said before the TPM works on it */
        ret = ak_check_public(template, pair->sign_alg, hash_alg);
        if (ret < 0)
                return vm_error(ret, "%s (NV index 0x%08x): %s", what, pair->template_nv, vm_error_detail(ret));
        return 0;
}

static int gce_ak(struct tpm *tpm, TPM2_HANDLE ak_handle, const struct gce_ak_pair *pair, TPM2_ALG_ID hash_alg,
                  struct ak *ak, struct platform_ak *platform) {
        TPM2B_PUBLIC template, *made = NULL;
        ESYS_TR primary = ESYS_TR_NONE;
        char what[32], mismatch[160];
        int ret;

        snprintf(what, sizeof(what), "GCE %s AK certificate", pair->kind);
        snprintf(mismatch, sizeof(mismatch),
                 "the %s (NV index 0x%08x) certifies another key than the AK made from the template (NV index 0x%08x)",
                 what, pair->cert_nv, pair->template_nv);
        ret = gce_template(tpm, pair, hash_alg, &template);
        if (ret >= 0)
                ret = read_cert(tpm, pair->cert_nv, what, platform);
        if (ret < 0)
                return vm_error(ret, "ak_source gce: %s", vm_error_detail(ret));

        /* made before: kept at ak_handle (the primary key is the same each time: the template
         * and the endorsement seed decide it) */
        ret = ak_load_platform(tpm, ak_handle, pair->sign_alg, hash_alg, ak);
        if (ret >= 0) {
                ret = cert_certifies(platform, &ak->public, "");
                if (ret < 0) {
                        ak_close(tpm, ak);
                        return vm_error(ret, "ak_source gce: handle 0x%08x holds another key than the one the %s (NV "
                                             "index 0x%08x) certifies: evict it or choose another ak_handle",
                                        ak_handle, what, pair->cert_nv);
                }
                log_info("AK: GCE's %s AK, kept at handle 0x%08x, with its certificate from NV index 0x%08x",
                         pair->kind, ak_handle, pair->cert_nv);
                return 0;
        }
        if (ret != -ENOENT)
                return vm_error(ret, "ak_source gce: %s (evict it or choose another ak_handle)", vm_error_detail(ret));

        /* go-tpm-tools' GceAttestationKeyRSA/ECC: CreatePrimary(endorsement, template), no PCRs */
        ret = tpm_key_create_primary(tpm, ESYS_TR_RH_ENDORSEMENT, &template,
                                     "TPM2_CreatePrimary (GCE AK from its template)", &primary, &made);
        if (ret >= 0) {
                ret = cert_certifies(platform, made, mismatch);
                Esys_Free(made);
                if (ret < 0)
                        Esys_FlushContext(tpm->esys, primary);
        }
        if (ret >= 0)
                ret = ak_persist(tpm, primary, ak_handle, pair->sign_alg, hash_alg, ak);
        if (ret < 0)
                return vm_error(ret, "ak_source gce: %s", vm_error_detail(ret));
        log_info("AK: GCE's %s AK, made from the template in NV index 0x%08x and kept at handle 0x%08x, with its "
                 "certificate from NV index 0x%08x",
                 pair->kind, pair->template_nv, ak_handle, pair->cert_nv);
        return 0;
}

int platform_ak_open(struct tpm *tpm, const char *source, TPM2_HANDLE ak_handle, TPM2_ALG_ID sign_alg,
                     TPM2_ALG_ID hash_alg, struct ak *ak, struct platform_ak *platform) {
        const struct gce_ak_pair *gce = gce_pair(sign_alg);
        int ret;

        memset(platform, 0, sizeof(*platform));
        if (!gce)
                return vm_error(-EINVAL, "tpm_signing_alg 0x%04x is not rsassa or ecdsa", sign_alg);
        if (strcmp(source, "auto") == 0) {
                if (persistent_defined(tpm, AZURE_AK_HANDLE) && tpm_nv_defined(tpm, AZURE_AK_CERT_NV))
                        source = "azure";
                else if (tpm_nv_defined(tpm, gce->cert_nv) && tpm_nv_defined(tpm, gce->template_nv))
                        source = "gce";
                else
                        return 0;
        }
        if (strcmp(source, "azure") == 0)
                ret = azure_ak(tpm, sign_alg, hash_alg, ak, platform);
        else if (strcmp(source, "gce") == 0)
                ret = gce_ak(tpm, ak_handle, gce, hash_alg, ak, platform);
        else
                return 0;
        if (ret < 0) {
                platform_ak_done(platform);
                return ret;
        }
        platform->source = strcmp(source, "azure") == 0 ? "azure" : "gce";
        return 0;
}

void platform_ak_done(struct platform_ak *platform) {
        free(platform->cert_der);
        memset(platform, 0, sizeof(*platform));
}
