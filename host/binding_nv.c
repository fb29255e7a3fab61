#include "host/binding_nv.h"

#include <string.h>

#include "agent/nv.h"
#include "lib/error.h"

int binding_nv_write(struct tpm *vtpm, TPM2_HANDLE index, const uint8_t *blob, size_t size) {
        TPM2B_NV_PUBLIC public = {
                .nvPublic = {
                        .nvIndex = index,
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_WRITEDEFINE | TPMA_NV_AUTHREAD |
                                      TPMA_NV_OWNERREAD | TPMA_NV_NO_DA,
                        .dataSize = (UINT16)size,
                },
        };
        TPM2B_AUTH empty = { 0 };
        uint16_t chunk = tpm_nv_buffer_max(vtpm);
        ESYS_TR tr = ESYS_TR_NONE;
        int ret;

        if (size == 0 || size > UINT16_MAX)
                return vm_error(-EINVAL, "host binding of %zu bytes", size);
        ret = tpm_nv_find(vtpm, index, &tr);
        if (ret == 0) {
                /* a binding of an earlier provisioning: write-locked, so replaced whole */
                ret = TPM_RUN("TPM2_NV_UndefineSpace",
                              Esys_NV_UndefineSpace(vtpm->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                    ESYS_TR_NONE));
                if (ret < 0)
                        return vm_error(ret, "removing the earlier binding at NV 0x%08x: %s", index,
                                        vm_error_detail(ret));
                tr = ESYS_TR_NONE;
        } else if (ret != -ENOENT)
                return vm_error(ret, "NV index 0x%08x: %s", index, vm_error_detail(ret));

        ret = TPM_RUN("TPM2_NV_DefineSpace", Esys_NV_DefineSpace(vtpm->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
                                                                  ESYS_TR_NONE, ESYS_TR_NONE, &empty, &public, &tr));
        if (ret < 0)
                return vm_error(ret, "defining NV 0x%08x (%zu bytes): %s", index, size, vm_error_detail(ret));
        for (size_t offset = 0; ret >= 0 && offset < size; offset += chunk) {
                TPM2B_MAX_NV_BUFFER data = { .size = (UINT16)(size - offset < chunk ? size - offset : chunk) };

                memcpy(data.buffer, blob + offset, data.size);
                ret = TPM_RUN("TPM2_NV_Write", Esys_NV_Write(vtpm->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD,
                                                             ESYS_TR_NONE, ESYS_TR_NONE, &data, (UINT16)offset));
        }
        if (ret >= 0)
                ret = TPM_RUN("TPM2_NV_WriteLock", Esys_NV_WriteLock(vtpm->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD,
                                                                     ESYS_TR_NONE, ESYS_TR_NONE));
        Esys_TR_Close(vtpm->esys, &tr);
        if (ret < 0)
                return vm_error(ret, "writing the binding to NV 0x%08x: %s", index, vm_error_detail(ret));
        return 0;
}
