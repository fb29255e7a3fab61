/* Fuzzes the agent's cut of a TD's CC event log out of its ACPI log area (agent/cc_event_log.c)
 * on the whole input as the area. Invariant: a cut keeps a prefix that parses as an event log
 * and leaves out only bytes that are all 0xff or all zero; a refusal is -EBADMSG. Seeds: a
 * TDVF-shaped log (Spec ID event declaring SHA-384, events for RTMR0-2) followed by 0xff, and
 * by zeros. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cc_event_log.h"
#include "lib/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(const struct eventlog_event *ev, void *user) {
        (void)ev;
        ++*(size_t *)user;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* a buffer of exactly the input's size, so that a read past it is caught */
        uint8_t *area = malloc(size ? size : 1);
        size_t used = 0, events = 0;
        int ret;

        if (!area)
                abort();
        memcpy(area, data, size);
        ret = cc_event_log_used(area, size, &used);
        if (ret == 0) {
                bool ff = true, zero = true;

                if (used > size || eventlog_foreach(area, used, count, &events) != 0 || events == 0)
                        abort();
                for (size_t i = used; i < size; i++) {
                        ff = ff && area[i] == 0xff;
                        zero = zero && area[i] == 0;
                }
                if (!ff && !zero)
                        abort();
        } else if (ret != -EBADMSG)
                abort();
        free(area);
        return 0;
}
