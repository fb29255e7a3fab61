/* Fuzzes the agent's checks of a configfs-tsm report (agent/tsm_report.c): a provider, our
 * REPORT_DATA, an SVSM manifest (maybe none), then the outblob; and the generation's text.
 * Invariant: an accepted SNP or TDX report holds our REPORT_DATA (or the SVSM's digest) where
 * its format puts it, inside the blob. */
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/tsm_report.h"
#include "tests/fuzz/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const providers[] = { "sev_guest", "tdx_guest", "svsm", "" };
        struct fuzz_input in = { data, size };
        const char *provider = providers[fuzz_byte(&in) % 4];
        uint8_t report_data[TSM_REPORT_DATA_SIZE], expected[SHA512_DIGEST_LENGTH], *outblob;
        char *manifest = NULL, *generation;
        size_t manifest_size = 0, offset = 0;
        uint64_t g;
        bool svsm = fuzz_byte(&in) & 1;

        fuzz_bytes(&in, report_data, sizeof(report_data));
        if (svsm) {
                manifest = fuzz_string(&in, TSM_BLOB_MAX);
                manifest_size = strlen(manifest);
        }
        generation = fuzz_string(&in, 32);
        (void)tsm_generation_parse(generation, &g);
        free(generation);
        /* the rest is the outblob, in a buffer of exactly its size */
        outblob = malloc(in.size ? in.size : 1);
        if (!outblob)
                abort();
        memcpy(outblob, in.data, in.size);
        if (tsm_report_data_check(provider, outblob, in.size, report_data, svsm ? (uint8_t *)manifest : NULL,
                                  manifest_size) == 0) {
                if (svsm) {
                        uint8_t *both = malloc(sizeof(report_data) + manifest_size);

                        if (!both)
                                abort();
                        memcpy(both, report_data, sizeof(report_data));
                        memcpy(both + sizeof(report_data), manifest, manifest_size);
                        SHA512(both, sizeof(report_data) + manifest_size, expected);
                        free(both);
                } else
                        memcpy(expected, report_data, sizeof(report_data));
                if (strcmp(provider, "sev_guest") == 0) {
                        if (in.size != 0x4a0)
                                abort();
                        offset = 0x50;
                } else if (strcmp(provider, "tdx_guest") == 0)
                        offset = 48 + (outblob[0] == 5 ? 6 : 0) + 520;
                if (*provider && strcmp(provider, "svsm") != 0 &&
                    (offset + 64 > in.size || memcmp(outblob + offset, expected, 64) != 0))
                        abort();
        }
        free(outblob);
        free(manifest);
        return 0;
}
