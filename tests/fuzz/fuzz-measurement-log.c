/* Fuzzes measurement_log_replay on an event log as the agent serves it (mb_measurement_list:
 * the firmware's events, then PCR 15's records); invariant: a log that replays has at most
 * MEASUREMENT_RECORDS_MAX records, and measurement_log_foreach walks the same ones. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/measurement_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_record(unsigned record, const char *event, const uint8_t *bytes, size_t size, void *user) {
        (*(unsigned *)user)++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct measurement_summary s;
        unsigned listed = 0;

        if (measurement_log_replay(data, size, TPM2_ALG_SHA256, &s) != 0)
                return 0;
        if (s.records > MEASUREMENT_RECORDS_MAX)
                abort();
        if (measurement_log_foreach(data, size, count_record, &listed) != 0 || listed != s.records)
                abort();
        return 0;
}
