/* Fuzzes the Authenticode digest of a PE image (policy/authenticode.c) on the input as an image;
 * invariants: 0 or -EBADMSG, nothing read outside the input (ASan), the same digest twice. Seeds:
 * the PE32+ and PE32 images of tests/unit/test-authenticode.c, the first also signed by
 * osslsigncode (a throwaway certificate). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "policy/authenticode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t first[32], second[32];
        int ret;

        log_setup("fuzz", LOG_LEVEL_SILENT);
        ret = authenticode_digest(data, size, TPM2_ALG_SHA256, first);
        if (ret != 0 && ret != -EBADMSG)
                abort();
        if (ret == 0 && (authenticode_digest(data, size, TPM2_ALG_SHA256, second) != 0 || memcmp(first, second, 32) != 0))
                abort();
        return 0;
}
