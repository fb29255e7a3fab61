/* Parses the GHCB certificate table: the table is read entry by entry through lib/reader.h,
 * then each entry's range is checked against the blob before anything points into it. */
#include "verifier/snp_cert_table.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/reader.h"

/* The GUIDs of the GHCB specification, in the byte order of their text form. */
static const struct {
        enum snp_cert_kind kind;
        const char *name;
        uint8_t guid[16];
} known_guids[] = {
        {SNP_CERT_VCEK, "VCEK", {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd}},
        {SNP_CERT_VLEK, "VLEK", {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1}},
        {SNP_CERT_ASK, "ASK", {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82}},
        {SNP_CERT_ARK, "ARK", {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae}},
};

static enum snp_cert_kind kind_of(const uint8_t guid[16]) {
        for (size_t i = 0; i < ELEMENTSOF(known_guids); i++)
                if (memcmp(guid, known_guids[i].guid, 16) == 0)
                        return known_guids[i].kind;
        return SNP_CERT_OTHER;
}

const char *snp_cert_kind_name(enum snp_cert_kind kind) {
        for (size_t i = 0; i < ELEMENTSOF(known_guids); i++)
                if (known_guids[i].kind == kind)
                        return known_guids[i].name;
        return "other";
}

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

int snp_cert_table_parse(const uint8_t *blob, size_t size, struct snp_cert_table *table) {
        struct {
                uint32_t offset, length;
        } range[SNP_CERT_TABLE_MAX];
        struct reader r;
        size_t table_end;
        int ret;

        memset(table, 0, sizeof(*table));
        if (size == 0)
                return 0;
        if (size > SNP_CERT_TABLE_BLOB_MAX)
                return vm_error(-EBADMSG, "SNP certificate table: %zu bytes, more than %d", size, SNP_CERT_TABLE_BLOB_MAX);
        reader_init(&r, blob, size, "SNP certificate table");
        for (;;) {
                struct snp_cert_entry *e = &table->entry[table->count];
                uint8_t guid[16];
                uint32_t offset = 0, length = 0;

                if ((ret = reader_copy(&r, guid, sizeof(guid), "entry GUID")) < 0 ||
                    (ret = reader_u32le(&r, &offset, "entry offset")) < 0 ||
                    (ret = reader_u32le(&r, &length, "entry length")) < 0)
                        return vm_error(ret, "SNP certificate table: no all-zero entry ends the table (%zu entries read)",
                                        table->count);
                if (all_zero(guid, sizeof(guid)) && offset == 0 && length == 0)
                        break;
                if (table->count == SNP_CERT_TABLE_MAX)
                        return vm_error(-EBADMSG, "SNP certificate table: more than %d entries", SNP_CERT_TABLE_MAX);
                memcpy(e->guid, guid, sizeof(guid));
                e->kind = kind_of(guid);
                range[table->count].offset = offset;
                range[table->count].length = length;
                table->count++;
        }
        table_end = r.offset;
        for (size_t i = 0; i < table->count; i++) {
                struct snp_cert_entry *e = &table->entry[i];
                uint64_t start = range[i].offset, end = start + range[i].length;

                if (range[i].length == 0)
                        return vm_error(-EBADMSG, "SNP certificate table: entry %zu (%s) has length 0", i,
                                        snp_cert_kind_name(e->kind));
                if (start < table_end)
                        return vm_error(-EBADMSG,
                                        "SNP certificate table: entry %zu (%s) at offset %llu overlaps the table (%zu bytes)",
                                        i, snp_cert_kind_name(e->kind), (unsigned long long)start, table_end);
                if (end > size)
                        return vm_error(-EBADMSG,
                                        "SNP certificate table: entry %zu (%s) at offset %llu, %u bytes, ends past the blob (%zu bytes)",
                                        i, snp_cert_kind_name(e->kind), (unsigned long long)start, range[i].length, size);
                for (size_t j = 0; j < i; j++) {
                        uint64_t other = range[j].offset, other_end = other + range[j].length;

                        if (memcmp(table->entry[j].guid, e->guid, sizeof(e->guid)) == 0)
                                return vm_error(-EBADMSG, "SNP certificate table: entries %zu and %zu have the same GUID (%s)",
                                                j, i, snp_cert_kind_name(e->kind));
                        /* one certificate's bytes are never another's */
                        if (start < other_end && other < end)
                                return vm_error(-EBADMSG, "SNP certificate table: entries %zu (%s) and %zu (%s) overlap", j,
                                                snp_cert_kind_name(table->entry[j].kind), i, snp_cert_kind_name(e->kind));
                }
                e->data = blob + start;
                e->size = range[i].length;
        }
        return 0;
}

const struct snp_cert_entry *snp_cert_table_find(const struct snp_cert_table *table, enum snp_cert_kind kind) {
        for (size_t i = 0; i < table->count; i++)
                if (table->entry[i].kind == kind)
                        return &table->entry[i];
        return NULL;
}
