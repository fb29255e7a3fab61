#include "agent/nv.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"

uint16_t tpm_nv_buffer_max(struct tpm *tpm) {
        TPMS_CAPABILITY_DATA *cap = NULL;
        uint16_t chunk = 512;

        if (TPM_RETRYING(Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                            TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, NULL, &cap)) ==
                    TSS2_RC_SUCCESS &&
            cap->data.tpmProperties.count == 1 &&
            cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
            cap->data.tpmProperties.tpmProperty[0].value > 0 &&
            cap->data.tpmProperties.tpmProperty[0].value <= sizeof(((TPM2B_MAX_NV_BUFFER *)0)->buffer))
                chunk = (uint16_t)cap->data.tpmProperties.tpmProperty[0].value;
        Esys_Free(cap);
        return chunk;
}

int tpm_nv_find(struct tpm *tpm, TPM2_HANDLE index, ESYS_TR *tr) {
        TSS2_RC rc = TPM_RETRYING(Esys_TR_FromTPMPublic(tpm->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, tr));
        TSS2_RC base = tpm_rc_base(rc);

        if (rc == TSS2_RC_SUCCESS)
                return 0;
        /* an undefined index: TPM_RC_HANDLE, with or without a parameter number */
        if ((base & ~TPM2_RC_N_MASK) == TPM2_RC_HANDLE || base == TPM2_RC_HANDLE)
                return -ENOENT;
        return tpm_failed(rc, "TPM2_NV_ReadPublic");
}

/* An ESYS_TR for `index` and its public area; -ENOENT when it is not defined. */
static int nv_open(struct tpm *tpm, TPM2_HANDLE index, const char *what, ESYS_TR *tr, TPMS_NV_PUBLIC *pub) {
        TPM2B_NV_PUBLIC *nv_public = NULL;
        int ret = tpm_nv_find(tpm, index, tr);

        if (ret == -ENOENT)
                return ret;
        if (ret < 0)
                return vm_error(ret, "%s NV index 0x%08x: %s", what, index, vm_error_detail(ret));
        ret = TPM_RUN("TPM2_NV_ReadPublic",
                      Esys_NV_ReadPublic(tpm->esys, *tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv_public, NULL));
        if (ret < 0) {
                Esys_TR_Close(tpm->esys, tr);
                return vm_error(ret, "%s NV index 0x%08x: %s", what, index, vm_error_detail(ret));
        }
        *pub = nv_public->nvPublic;
        Esys_Free(nv_public);
        return 0;
}

bool tpm_nv_defined(struct tpm *tpm, TPM2_HANDLE index) {
        TPMS_NV_PUBLIC pub;
        ESYS_TR tr;

        if (nv_open(tpm, index, "", &tr, &pub) < 0)
                return false;
        Esys_TR_Close(tpm->esys, &tr);
        return true;
}

static int nv_read_all(struct tpm *tpm, TPM2_HANDLE index, size_t max, const char *what, bool owner_first,
                       uint8_t **data, size_t *size) {
        _cleanup_(freep) uint8_t *buffer = NULL;
        TPMS_NV_PUBLIC pub;
        ESYS_TR tr, auth;
        uint16_t chunk, offset = 0;
        int ret;

        ret = nv_open(tpm, index, what, &tr, &pub);
        if (ret < 0)
                return ret;
        if (pub.dataSize == 0 || pub.dataSize > max) {
                Esys_TR_Close(tpm->esys, &tr);
                return vm_error(-EBADMSG, "%s NV index 0x%08x: size %u is not 1-%zu bytes", what, index, pub.dataSize,
                                max);
        }
        if ((pub.attributes & TPMA_NV_OWNERREAD) && (owner_first || !(pub.attributes & TPMA_NV_AUTHREAD)))
                auth = ESYS_TR_RH_OWNER;
        else if (pub.attributes & TPMA_NV_AUTHREAD)
                auth = tr;
        else {
                Esys_TR_Close(tpm->esys, &tr);
                return vm_error(-EACCES, "%s NV index 0x%08x: neither the owner nor the index itself may read it "
                                         "(attributes 0x%08x)",
                                what, index, pub.attributes);
        }
        if (!(buffer = malloc(pub.dataSize))) {
                Esys_TR_Close(tpm->esys, &tr);
                return -ENOMEM;
        }
        chunk = tpm_nv_buffer_max(tpm);
        while (offset < pub.dataSize) {
                TPM2B_MAX_NV_BUFFER *part = NULL;
                uint16_t want = (uint16_t)(pub.dataSize - offset < chunk ? pub.dataSize - offset : chunk);

                ret = TPM_RUN("TPM2_NV_Read", Esys_NV_Read(tpm->esys, auth, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                           ESYS_TR_NONE, want, offset, &part));
                if (ret >= 0 && part->size != want)
                        ret = vm_error(-EBADMSG, "TPM2_NV_Read returned %u bytes, asked for %u", part->size, want);
                if (ret < 0) {
                        Esys_Free(part);
                        Esys_TR_Close(tpm->esys, &tr);
                        return vm_error(ret, "%s NV index 0x%08x: %s", what, index, vm_error_detail(ret));
                }
                memcpy(buffer + offset, part->buffer, want);
                offset = (uint16_t)(offset + want);
                Esys_Free(part);
        }
        Esys_TR_Close(tpm->esys, &tr);
        *size = pub.dataSize;
        *data = TAKE_PTR(buffer);
        return 0;
}

int tpm_nv_read_all(struct tpm *tpm, TPM2_HANDLE index, size_t max, const char *what, uint8_t **data, size_t *size) {
        return nv_read_all(tpm, index, max, what, true, data, size);
}

int tpm_nv_read_all_index_auth(struct tpm *tpm, TPM2_HANDLE index, size_t max, const char *what, uint8_t **data,
                               size_t *size) {
        return nv_read_all(tpm, index, max, what, false, data, size);
}

static int nv_define_owner(struct tpm *tpm, TPM2_HANDLE index, size_t size, const char *what, ESYS_TR *tr) {
        TPM2B_NV_PUBLIC pub = {
                .nvPublic = {
                        .nvIndex = index,
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD |
                                      (TPM2_NT_ORDINARY << TPMA_NV_TPM2_NT_SHIFT),
                        .dataSize = (uint16_t)size,
                },
        };
        TPM2B_AUTH no_auth = { 0 };
        int ret = TPM_RUN("TPM2_NV_DefineSpace", Esys_NV_DefineSpace(tpm->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
                                                                     ESYS_TR_NONE, ESYS_TR_NONE, &no_auth, &pub, tr));

        if (ret < 0)
                return vm_error(ret, "%s NV index 0x%08x: %s", what, index, vm_error_detail(ret));
        return 0;
}

int tpm_nv_write_owner(struct tpm *tpm, TPM2_HANDLE index, const uint8_t *data, size_t size, const char *what) {
        TPM2B_MAX_NV_BUFFER buffer = { .size = (uint16_t)size };
        TPMS_NV_PUBLIC pub;
        ESYS_TR tr;
        int ret;

        if (size == 0 || size > tpm_nv_buffer_max(tpm))
                return vm_error(-EINVAL, "%s NV index 0x%08x: %zu bytes is not one NV_Write", what, index, size);
        memcpy(buffer.buffer, data, size);
        ret = nv_open(tpm, index, what, &tr, &pub);
        if (ret >= 0 && pub.dataSize != size) {
                ret = TPM_RUN("TPM2_NV_UndefineSpace", Esys_NV_UndefineSpace(tpm->esys, ESYS_TR_RH_OWNER, tr,
                                                                             ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                                             ESYS_TR_NONE));
                if (ret < 0) {
                        Esys_TR_Close(tpm->esys, &tr);
                        return vm_error(ret, "%s NV index 0x%08x: %u bytes, not %zu, and it cannot be undefined: %s",
                                        what, index, pub.dataSize, size, vm_error_detail(ret));
                }
                ret = -ENOENT;
        }
        if (ret == -ENOENT)
                ret = nv_define_owner(tpm, index, size, what, &tr);
        if (ret < 0)
                return ret;
        ret = TPM_RUN("TPM2_NV_Write", Esys_NV_Write(tpm->esys, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                     ESYS_TR_NONE, &buffer, 0));
        Esys_TR_Close(tpm->esys, &tr);
        if (ret < 0)
                return vm_error(ret, "%s NV index 0x%08x: %s", what, index, vm_error_detail(ret));
        return 0;
}
