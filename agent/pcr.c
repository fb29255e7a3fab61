#include "agent/pcr.h"

#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"

#define PCR_READ_ATTEMPTS 5

static int pcr_read_once(struct tpm *tpm, TPM2_ALG_ID bank, uint32_t mask, struct pcr_values *out, bool *moved) {
        uint32_t pending = mask;
        UINT32 first_counter = 0;
        bool first = true;

        memset(out, 0, sizeof(*out));
        out->bank = bank;
        out->mask = mask;
        *moved = false;
        while (pending) {
                TPML_PCR_SELECTION sel, *sel_out = NULL;
                TPML_DIGEST *values = NULL;
                UINT32 counter;
                uint32_t got = 0;
                unsigned next = 0;
                int ret;

                pcr_selection_from_mask(bank, pending, &sel);
                ret = TPM_RUN("TPM2_PCR_Read", Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
                                                             &counter, &sel_out, &values));
                if (ret < 0)
                        return ret;
                if (sel_out->count == 1 && sel_out->pcrSelections[0].hash == bank)
                        for (unsigned i = 0; i < sel_out->pcrSelections[0].sizeofSelect && i < 4; i++)
                                got |= (uint32_t)sel_out->pcrSelections[0].pcrSelect[i] << (8 * i);
                got &= pending;
                if (got == 0 || pcr_mask_count(got) != values->count) {
                        Esys_Free(sel_out);
                        Esys_Free(values);
                        return vm_error(-EIO, "TPM2_PCR_Read returned no values for PCRs of the %s bank (is the bank allocated?)",
                                        hashalg_name(bank));
                }
                for (unsigned pcr = 0; pcr < PCR_MAX; pcr++)
                        if (got & (1u << pcr))
                                out->value[pcr] = values->digests[next++];
                Esys_Free(sel_out);
                Esys_Free(values);
                if (!first && counter != first_counter) {
                        *moved = true;
                        return 0;
                }
                first_counter = counter, first = false;
                pending &= ~got;
        }
        return 0;
}

int pcr_read(struct tpm *tpm, TPM2_ALG_ID bank, uint32_t mask, struct pcr_values *out) {
        if (!hashalg_size(bank))
                return vm_error(-EINVAL, "unsupported PCR bank 0x%04x", bank);
        for (unsigned attempt = 0; attempt < PCR_READ_ATTEMPTS; attempt++) {
                bool moved;
                int ret = pcr_read_once(tpm, bank, mask, out, &moved);

                if (ret < 0 || !moved)
                        return ret;
        }
        return vm_error(-EAGAIN, "PCRs kept changing during %d reads", PCR_READ_ATTEMPTS);
}

int pcr_active_banks(struct tpm *tpm, TPM2_ALG_ID *banks, size_t cap, size_t *count) {
        TPMS_CAPABILITY_DATA *cap_data = NULL;
        int ret;

        ret = TPM_RUN("TPM2_GetCapability (PCR banks)",
                      Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1,
                                         NULL, &cap_data));
        if (ret < 0)
                return ret;
        *count = 0;
        for (UINT32 i = 0; i < cap_data->data.assignedPCR.count && *count < cap; i++) {
                const TPMS_PCR_SELECTION *s = &cap_data->data.assignedPCR.pcrSelections[i];
                bool any = false;

                for (unsigned b = 0; b < s->sizeofSelect && b < 4; b++)
                        any = any || s->pcrSelect[b];
                if (any && hashalg_size(s->hash))
                        banks[(*count)++] = s->hash;
        }
        Esys_Free(cap_data);
        return 0;
}

int pcr_extend_data(struct tpm *tpm, unsigned pcr, const TPM2_ALG_ID *banks, size_t nbanks, const void *data,
                    size_t size) {
        TPML_DIGEST_VALUES digests = { 0 };
        ESYS_TR pcr_handle = ESYS_TR_PCR0 + pcr;

        if (pcr > 23)
                return vm_error(-EINVAL, "PCR %u does not exist (0-23)", pcr);
        if (nbanks == 0 || nbanks > ELEMENTSOF(digests.digests))
                return vm_error(-EINVAL, "no PCR bank to extend");
        for (size_t i = 0; i < nbanks; i++) {
                int ret = hashalg_digest(banks[i], data, size, (uint8_t *)&digests.digests[i].digest);

                if (ret < 0)
                        return ret;
                digests.digests[i].hashAlg = banks[i];
        }
        digests.count = (UINT32)nbanks;
        return TPM_RUN("TPM2_PCR_Extend", Esys_PCR_Extend(tpm->esys, pcr_handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                          ESYS_TR_NONE, &digests));
}

int pcr_reset(struct tpm *tpm, unsigned pcr) {
        if (pcr > 23)
                return vm_error(-EINVAL, "PCR %u does not exist (0-23)", pcr);
        return TPM_RUN("TPM2_PCR_Reset",
                       Esys_PCR_Reset(tpm->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE));
}
