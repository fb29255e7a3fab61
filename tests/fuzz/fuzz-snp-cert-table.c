/* Fuzzes snp_cert_table_parse (verifier/snp_cert_table.h) with a raw auxblob; seeds: a table
 * around the real Milan VCEK, ASK and ARK, and its parts. Invariants: every entry's certificate
 * lies inside the blob, after the table and its terminator, overlaps no other, and no GUID is
 * there twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/snp_cert_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct snp_cert_table table;
        size_t table_end;

        if (snp_cert_table_parse(data, size, &table) < 0)
                return 0;
        if (table.count > SNP_CERT_TABLE_MAX)
                abort();
        table_end = (table.count + 1) * SNP_CERT_TABLE_ENTRY_SIZE;
        for (size_t i = 0; i < table.count; i++) {
                const struct snp_cert_entry *e = &table.entry[i];

                if (e->size == 0 || e->data < data + table_end || e->data + e->size > data + size)
                        abort();
                for (size_t j = 0; j < i; j++) {
                        const struct snp_cert_entry *o = &table.entry[j];

                        if (memcmp(o->guid, e->guid, 16) == 0)
                                abort();
                        if (e->data < o->data + o->size && o->data < e->data + e->size)
                                abort();
                }
                if (e->kind != SNP_CERT_OTHER && snp_cert_table_find(&table, e->kind) != &table.entry[i])
                        abort();
        }
        return 0;
}
