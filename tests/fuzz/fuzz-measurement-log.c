/* Fuzzes measurement_log_replay on a vmattest_measurement_list as the agent serves it;
 * invariant: a log that replays has at most MEASUREMENT_RECORDS_MAX records. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/measurement_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct measurement_summary s;

        if (measurement_log_replay((const char *)data, size, TPM2_ALG_SHA256, &s) == 0 && s.records > MEASUREMENT_RECORDS_MAX)
                abort();
        return 0;
}
