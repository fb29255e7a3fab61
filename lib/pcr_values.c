#include "pcr_values.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hashalg.h"

#define PCR_PLATFORM_COUNT 24 /* PC Client platforms have PCRs 0-23 */

int pcr_mask_parse(const char *list, uint32_t *mask) {
        uint32_t result = 0;
        const char *p = list;

        if (strcmp(list, "all") == 0) {
                *mask = (1u << PCR_PLATFORM_COUNT) - 1;
                return 0;
        }
        if (!*p)
                return vm_error(-EINVAL, "empty PCR list");
        for (;;) {
                char *end;
                unsigned long first = strtoul(p, &end, 10), last;

                if (end == p || first >= PCR_PLATFORM_COUNT)
                        return vm_error(-EINVAL, "PCR list \"%s\": expected a PCR number 0-%d at \"%s\"", list,
                                        PCR_PLATFORM_COUNT - 1, p);
                last = first;
                p = end;
                if (*p == '-') {
                        const char *q = p + 1;

                        last = strtoul(q, &end, 10);
                        if (end == q || last >= PCR_PLATFORM_COUNT || last < first)
                                return vm_error(-EINVAL, "PCR list \"%s\": bad range at \"%s\"", list, p);
                        p = end;
                }
                for (unsigned long i = first; i <= last; i++)
                        result |= 1u << i;
                if (*p == '\0')
                        break;
                if (*p != ',')
                        return vm_error(-EINVAL, "PCR list \"%s\": unexpected \"%c\"", list, *p);
                p++;
        }
        *mask = result;
        return 0;
}

void pcr_mask_format(uint32_t mask, char *out, size_t size) {
        size_t used = 0;

        out[0] = '\0';
        for (unsigned i = 0; i < PCR_MAX && used < size; i++)
                if (mask & (1u << i))
                        used += (size_t)snprintf(out + used, size - used, "%s%u", used ? "," : "", i);
}

unsigned pcr_mask_count(uint32_t mask) {
        return (unsigned)__builtin_popcount(mask);
}

void pcr_selection_from_mask(TPM2_ALG_ID bank, uint32_t mask, TPML_PCR_SELECTION *sel) {
        *sel = (TPML_PCR_SELECTION){ .count = 1 };
        sel->pcrSelections[0].hash = bank;
        /* PC Client TPMs take exactly 3 select bytes; a 4th only when PCRs above 23 are asked. */
        sel->pcrSelections[0].sizeofSelect = mask >> 24 ? 4 : 3;
        for (unsigned i = 0; i < 4; i++)
                sel->pcrSelections[0].pcrSelect[i] = (uint8_t)(mask >> (8 * i));
}

int pcr_values_digest(const struct pcr_values *pcrs, uint8_t *out) {
        return pcr_values_digest_with(pcrs, pcrs->bank, out);
}

int pcr_values_digest_with(const struct pcr_values *pcrs, TPM2_ALG_ID alg, uint8_t *out) {
        const EVP_MD *md = hashalg_md(alg);
        EVP_MD_CTX *ctx;
        int ok;

        if (!md)
                return vm_error(-EINVAL, "unsupported %s 0x%04x", alg == pcrs->bank ? "PCR bank" : "hash", alg);
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, md, NULL);
        for (unsigned i = 0; ok && i < PCR_MAX; i++)
                if (pcrs->mask & (1u << i))
                        ok = EVP_DigestUpdate(ctx, pcrs->value[i].buffer, pcrs->value[i].size);
        ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : vm_error(-EIO, "OpenSSL digest failed");
}

int pcr_value_after_one_extend(TPM2_ALG_ID bank, const void *data, size_t size, uint8_t *out) {
        size_t digest_size = hashalg_size(bank);
        uint8_t chain[2 * TPM2_MAX_DIGEST_BUFFER] = { 0 };
        int ret;

        if (!digest_size)
                return vm_error(-EINVAL, "unsupported PCR bank 0x%04x", bank);
        ret = hashalg_digest(bank, data, size, chain + digest_size);
        if (ret >= 0)
                ret = hashalg_digest(bank, chain, 2 * digest_size, out);
        return ret;
}
