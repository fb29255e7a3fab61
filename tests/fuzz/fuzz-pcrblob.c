/* Fuzzes pcrblob_decode (docs/protocol.md §2); invariant: what decodes re-encodes to pcrblob_size()
 * bytes that decode the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pcrblob.h"

static void expect_same_values(const struct pcr_values *a, const struct pcr_values *b) {
        if (a->bank != b->bank || a->mask != b->mask)
                abort();
        for (unsigned i = 0; i < PCR_MAX; i++) {
                if (a->value[i].size != b->value[i].size)
                        abort();
                if (memcmp(a->value[i].buffer, b->value[i].buffer, a->value[i].size) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t encoded[PCRBLOB_MAX_SIZE];
        struct pcr_values decoded, again;
        size_t encoded_size = 0;

        if (pcrblob_decode(data, size, &decoded) < 0)
                return 0;
        /* Only selected PCRs carry a value, each the bank's digest size. */
        for (unsigned i = 0; i < PCR_MAX; i++)
                if (!(decoded.mask & (1u << i)) && decoded.value[i].size != 0)
                        abort();
        if (pcrblob_encode(&decoded, encoded, sizeof(encoded), &encoded_size) < 0)
                abort();
        if (encoded_size != pcrblob_size(&decoded) || encoded_size > size)
                abort();
        if (pcrblob_decode(encoded, encoded_size, &again) < 0)
                abort();
        expect_same_values(&decoded, &again);
        return 0;
}
