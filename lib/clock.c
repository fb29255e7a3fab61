#include "lib/clock.h"

#include <stdio.h>
#include <time.h>

uint64_t monotonic_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void utc_time_format(int64_t t, char *out, size_t size) {
        time_t tt = (time_t)t;
        struct tm tm;

        if (t == 0 || !gmtime_r(&tt, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(out, size, "never");
}
