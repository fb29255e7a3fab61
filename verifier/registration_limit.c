#include "verifier/registration_limit.h"

#include <stdio.h>
#include <string.h>

bool registration_limit_allow(struct registration_limit *limit, const char *addr, time_t now) {
        struct registration_source *slot = NULL, *stalest = &limit->sources[0];

        if (!limit->per_source)
                return true;
        for (size_t i = 0; i < REGISTRATION_LIMIT_SOURCES && !slot; i++) {
                struct registration_source *s = &limit->sources[i];

                if (s->window && strcmp(s->addr, addr) == 0)
                        slot = s;
                else if (s->window < stalest->window)
                        stalest = s;
        }
        if (!slot) {
                slot = stalest;
                snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
                slot->window = now;
                slot->count = 0;
        }
        if (now - slot->window >= REGISTRATION_WINDOW_S) {
                slot->window = now;
                slot->count = 0;
        }
        if (slot->count >= limit->per_source)
                return false;
        slot->count++;
        return true;
}
