/* Bounds on what unauthenticated registrations can fill: POST /agents/{id} from one source
 * address, a fixed number per minute (a new registration is a row, a credential to make and a
 * pending challenge, before anything proves a TPM), tracked for the most recent sources. */
#pragma once

#include <stdbool.h>
#include <time.h>

#define REGISTRATION_LIMIT_SOURCES 1024 /* sources remembered; the stalest is forgotten first */
#define REGISTRATION_WINDOW_S 60

struct registration_source {
        char addr[64];
        time_t window; /* the start of its current minute; 0: slot unused */
        unsigned count;
};

struct registration_limit {
        unsigned per_source; /* registrations a minute from one address; 0: no bound */
        struct registration_source sources[REGISTRATION_LIMIT_SOURCES];
};

/* True when `addr` may register once more at `now` (and counts it). */
bool registration_limit_allow(struct registration_limit *limit, const char *addr, time_t now);
