/* The push model's session rate limits: bounded tables that a flood cannot grow or evict from
 * (verifier/push_rate_limit.h). */
#include "verifier/push_rate_limit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int push_rate_limit_init(struct push_rate_limit *l, size_t capacity, unsigned per_key, unsigned overflow) {
        *l = (struct push_rate_limit){ .per_key = per_key, .overflow = overflow, .capacity = capacity };
        l->entries = calloc(capacity, sizeof(*l->entries));
        return l->entries ? 0 : -ENOMEM;
}

void push_rate_limit_done(struct push_rate_limit *l) {
        free(l->entries);
        l->entries = NULL;
}

static bool entry_live(const struct push_rate_entry *e, int64_t now) {
        return e->window && now - e->window < PUSH_RATE_WINDOW_S;
}

/* The entry counting `key`: its own, a dead one taken over, else the shared overflow. */
static struct push_rate_entry *entry_of(struct push_rate_limit *l, const char *key, int64_t now, unsigned *budget) {
        struct push_rate_entry *dead = NULL;

        for (size_t i = 0; i < l->capacity; i++) {
                struct push_rate_entry *e = &l->entries[i];

                if (entry_live(e, now) && strcmp(e->key, key) == 0) {
                        *budget = l->per_key;
                        return e;
                }
                if (!entry_live(e, now) && !dead)
                        dead = e;
        }
        if (dead) {
                snprintf(dead->key, sizeof(dead->key), "%s", key);
                dead->window = now;
                dead->count = 0;
                *budget = l->per_key;
                return dead;
        }
        if (!entry_live(&l->overflow_entry, now)) {
                l->overflow_entry.window = now;
                l->overflow_entry.count = 0;
        }
        *budget = l->overflow;
        return &l->overflow_entry;
}

bool push_rate_limit_exhausted(struct push_rate_limit *l, const char *key, int64_t now) {
        unsigned budget;
        struct push_rate_entry *e = entry_of(l, key, now, &budget);

        return e->count >= budget;
}

void push_rate_limit_count(struct push_rate_limit *l, const char *key, int64_t now) {
        unsigned budget;
        struct push_rate_entry *e = entry_of(l, key, now, &budget);

        if (e->count < budget)
                e->count++;
}

bool push_rate_limit_allow(struct push_rate_limit *l, const char *key, int64_t now) {
        if (push_rate_limit_exhausted(l, key, now))
                return false;
        push_rate_limit_count(l, key, now);
        return true;
}

void push_rate_source_key(const char *peer, char *key, size_t size) {
        struct in6_addr addr;
        struct in_addr v4;
        char text[INET6_ADDRSTRLEN];

        if (inet_pton(AF_INET6, peer, &addr) != 1) {
                snprintf(key, size, "%.*s", PUSH_RATE_KEY_MAX, peer);
                return;
        }
        if (IN6_IS_ADDR_V4MAPPED(&addr)) {
                memcpy(&v4, &addr.s6_addr[12], sizeof(v4));
                inet_ntop(AF_INET, &v4, text, sizeof(text));
                snprintf(key, size, "%s", text);
                return;
        }
        memset(&addr.s6_addr[8], 0, 8);
        inet_ntop(AF_INET6, &addr, text, sizeof(text));
        snprintf(key, size, "%s/64", text);
}
