/* A cloud vTPM's own AK and the cloud's certificate of it (ak_source, docs/platforms.md): what
 * the agent registers with when the vTPM has no EK certificate a tenant can chain.
 *   Azure: the AK is persistent at 0x81000003, its certificate in NV 0x01C101D0.
 *   GCE:   the AK is the primary key of the endorsement hierarchy made from a template in NV,
 *          certified in NV: the RSA pair (template 0x01c10001, certificate 0x01c10000) with
 *          tpm_signing_alg rsassa, the ECC pair (template 0x01c10003, certificate 0x01c10002)
 *          with ecdsa. The agent keeps it at ak_handle, as it keeps its own AK.
 * Either AK must certify as the key the agent quotes with (ak_check_public, of tpm_signing_alg's
 * kind), and the certificate must certify exactly that key: the registrar trusts nothing else of
 * it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/ak.h"
#include "agent/tpm.h"

#define AZURE_AK_HANDLE 0x81000003
#define AZURE_AK_CERT_NV 0x01C101D0
#define GCE_AK_CERT_NV_RSA 0x01c10000
#define GCE_AK_TEMPLATE_NV_RSA 0x01c10001
#define GCE_AK_CERT_NV_ECC 0x01c10002
#define GCE_AK_TEMPLATE_NV_ECC 0x01c10003
/* an AK certificate is 1-2 KiB; an NV index larger than this is not one */
#define PLATFORM_AK_CERT_MAX 8192

struct platform_ak {
        const char *source;  /* "azure" or "gce"; NULL: the agent's own AK */
        uint8_t *cert_der;   /* the cloud's certificate of the AK, DER (padding cut) */
        size_t cert_size;
};

/* auto, agent, azure or gce */
bool ak_source_valid(const char *source);

/* With `source` azure or gce, or auto and the platform's objects present (Azure's AK handle and
 * certificate index, else GCE's certificate and template indices of `sign_alg`'s pair): opens
 * the platform's AK into `ak` and its certificate into `platform`. With agent, or auto and
 * neither platform: platform->source is NULL and `ak` untouched (the caller opens its own AK).
 * An error names the handle or NV index that is absent, malformed or does not match, and
 * tpm_signing_alg when the platform's AK is of the other kind (Azure's is RSA). */
int platform_ak_open(struct tpm *tpm, const char *source, TPM2_HANDLE ak_handle, TPM2_ALG_ID sign_alg,
                     TPM2_ALG_ID hash_alg, struct ak *ak, struct platform_ak *platform);
void platform_ak_done(struct platform_ak *platform);

/* The DER certificate at the start of `nv` (an NV index's data): its length; what follows it
 * must be padding (all 0x00 or all 0xff). -EBADMSG naming `what` otherwise. Exposed for tests. */
int platform_ak_cert_length(const char *what, const uint8_t *nv, size_t nv_size, size_t *der_size);
