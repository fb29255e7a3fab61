#include "pcrblob.h"

#include <string.h>

#include "error.h"
#include "hashalg.h"
#include "reader.h"
#include "writer.h"

#define BANK_SLOTS 16    /* TPM2_NUM_PCR_BANKS selections, used or not */
#define LIST_SLOTS 8     /* digests per TPML_DIGEST */
#define DIGEST_SLOT 64   /* sizeof(TPMU_HA) */

size_t pcrblob_size(const struct pcr_values *pcrs) {
        unsigned lists = (pcr_mask_count(pcrs->mask) + LIST_SLOTS - 1) / LIST_SLOTS;

        return PCRBLOB_SELECTION_SIZE + 4 + lists * PCRBLOB_DIGEST_LIST_SIZE;
}

int pcrblob_encode(const struct pcr_values *pcrs, uint8_t *out, size_t cap, size_t *out_size) {
        unsigned total = pcr_mask_count(pcrs->mask), lists = (total + LIST_SLOTS - 1) / LIST_SLOTS;
        size_t digest_size = hashalg_size(pcrs->bank);
        TPML_PCR_SELECTION sel;
        struct writer w;
        unsigned pcr = 0;

        if (!digest_size)
                return vm_error(-EINVAL, "pcrblob: unsupported bank 0x%04x", pcrs->bank);
        pcr_selection_from_mask(pcrs->bank, pcrs->mask, &sel);
        writer_init(&w, out, cap);
        writer_u32le(&w, 1);
        for (unsigned slot = 0; slot < BANK_SLOTS; slot++) {
                if (slot > 0) {
                        writer_zeros(&w, 8);
                        continue;
                }
                writer_u16le(&w, sel.pcrSelections[0].hash);
                writer_u8(&w, sel.pcrSelections[0].sizeofSelect);
                writer_bytes(&w, sel.pcrSelections[0].pcrSelect, 4);
                writer_u8(&w, 0); /* struct padding in tpm2-tools' layout */
        }
        writer_u32le(&w, lists);
        for (unsigned list = 0; list < lists; list++) {
                unsigned in_list = total - list * LIST_SLOTS < LIST_SLOTS ? total - list * LIST_SLOTS : LIST_SLOTS;

                writer_u32le(&w, in_list);
                for (unsigned slot = 0; slot < LIST_SLOTS; slot++) {
                        if (slot >= in_list) {
                                writer_zeros(&w, 2 + DIGEST_SLOT);
                                continue;
                        }
                        while (!(pcrs->mask & (1u << pcr)))
                                pcr++;
                        if (pcrs->value[pcr].size != digest_size)
                                return vm_error(-EINVAL, "pcrblob: PCR %u has %u bytes, bank needs %zu", pcr,
                                                pcrs->value[pcr].size, digest_size);
                        writer_u16le(&w, (uint16_t)digest_size);
                        writer_bytes(&w, pcrs->value[pcr].buffer, digest_size);
                        writer_zeros(&w, DIGEST_SLOT - digest_size);
                        pcr++;
                }
        }
        if (w.failed)
                return vm_error(-ENOBUFS, "pcrblob: %zu bytes do not fit in %zu", pcrblob_size(pcrs), cap);
        *out_size = w.offset;
        return 0;
}

static int pcrblob_read_selection(struct reader *r, struct pcr_values *pcrs) {
        uint32_t banks;

        reader_u32le(r, &banks, "selection count");
        if (r->failed)
                return -EBADMSG;
        if (banks != 1)
                return reader_invalid(r, "%u PCR banks selected, exactly one is supported", banks);
        for (unsigned slot = 0; slot < BANK_SLOTS; slot++) {
                uint16_t hash;
                uint8_t size_of_select, select[4];

                reader_u16le(r, &hash, "selection hashAlg");
                reader_u8(r, &size_of_select, "selection sizeofSelect");
                reader_copy(r, select, sizeof(select), "selection pcrSelect");
                reader_skip(r, 1, "selection padding");
                if (r->failed)
                        return -EBADMSG;
                if (slot > 0) /* unused slots hold whatever tpm2-tools' memory held */
                        continue;
                if (!hashalg_size(hash))
                        return reader_invalid(r, "unsupported hash algorithm 0x%04x", hash);
                if (size_of_select < 1 || size_of_select > 4)
                        return reader_invalid(r, "sizeofSelect %u is not 1-4", size_of_select);
                pcrs->bank = hash;
                pcrs->mask = 0;
                for (unsigned i = 0; i < size_of_select; i++)
                        pcrs->mask |= (uint32_t)select[i] << (8 * i);
        }
        return 0;
}

int pcrblob_decode(const uint8_t *blob, size_t size, struct pcr_values *pcrs) {
        unsigned expected, seen = 0, pcr = 0;
        struct reader r;
        uint32_t lists;
        size_t digest_size;

        memset(pcrs, 0, sizeof(*pcrs));
        reader_init(&r, blob, size, "pcrblob");
        if (pcrblob_read_selection(&r, pcrs) < 0)
                return -EBADMSG;
        digest_size = hashalg_size(pcrs->bank);
        expected = pcr_mask_count(pcrs->mask);

        if (reader_u32le(&r, &lists, "digest list count") < 0)
                return -EBADMSG;
        if (lists > PCRBLOB_MAX_LISTS)
                return reader_invalid(&r, "%u digest lists, at most %d allowed", lists, PCRBLOB_MAX_LISTS);
        for (uint32_t list = 0; list < lists; list++) {
                uint32_t count;

                if (reader_u32le(&r, &count, "TPML_DIGEST count") < 0)
                        return -EBADMSG;
                if (count > LIST_SLOTS)
                        return reader_invalid(&r, "TPML_DIGEST %u holds %u digests, at most %d allowed", list,
                                              count, LIST_SLOTS);
                for (unsigned slot = 0; slot < LIST_SLOTS; slot++) {
                        uint16_t digest_len;
                        const uint8_t *digest;

                        reader_u16le(&r, &digest_len, "digest size");
                        reader_bytes(&r, DIGEST_SLOT, &digest, "digest buffer");
                        if (r.failed)
                                return -EBADMSG;
                        if (slot >= count)
                                continue;
                        if (digest_len != digest_size)
                                return reader_invalid(&r, "digest %u is %u bytes, the %s bank needs %zu", seen,
                                                      digest_len, hashalg_name(pcrs->bank), digest_size);
                        if (++seen > expected)
                                return reader_invalid(&r, "more digests than the %u selected PCRs", expected);
                        while (!(pcrs->mask & (1u << pcr)))
                                pcr++;
                        pcrs->value[pcr].size = digest_len;
                        memcpy(pcrs->value[pcr].buffer, digest, digest_len);
                        pcr++;
                }
        }
        if (seen != expected)
                return reader_invalid(&r, "%u digests for %u selected PCRs", seen, expected);
        return reader_expect_end(&r);
}
