/* Rate limits of the push model's sessions (docs/protocol.md §4.2, "Limits"), keyed only on what
 * the peer proved: POST /v3.0/sessions is unauthenticated, so it is counted by source address
 * (an IPv6 address by its /64, what one host is usually given); the agent id a request names
 * proves nothing until the session's proof of possession passes, so the per-agent budget counts
 * proved sessions only: no one but the agent can spend it (a limit keyed on the claimed id let
 * anyone lock a victim agent out by naming it).
 *
 * A table holds a fixed number of keys. An entry lives one window (a minute) from its first
 * request; a dead entry is reused. When every entry is live, a new key is not given one and no
 * live entry is evicted (that would reset the count of the source that floods): new keys share
 * one overflow entry with its own budget, so a flood from more sources than the table holds
 * slows only sources first seen during it, never the ones already counted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/agent_id.h"

#define PUSH_RATE_WINDOW_S 60
#define PUSH_RATE_KEY_MAX AGENT_ID_MAX /* an agent id, or an address's text */

struct push_rate_entry {
        char key[PUSH_RATE_KEY_MAX + 1];
        int64_t window; /* the start of its minute (seconds since the epoch); 0: unused */
        unsigned count;
};

struct push_rate_limit {
        unsigned per_key;  /* requests a minute for one key */
        unsigned overflow; /* a minute, shared by the keys that found the table full */
        size_t capacity;
        struct push_rate_entry *entries;
        struct push_rate_entry overflow_entry;
};

int push_rate_limit_init(struct push_rate_limit *l, size_t capacity, unsigned per_key, unsigned overflow);
void push_rate_limit_done(struct push_rate_limit *l);
/* True when `key`'s budget for the minute is spent (nothing counted). */
bool push_rate_limit_exhausted(struct push_rate_limit *l, const char *key, int64_t now);
/* Counts one request of `key`. */
void push_rate_limit_count(struct push_rate_limit *l, const char *key, int64_t now);
/* Not exhausted, then counted. */
bool push_rate_limit_allow(struct push_rate_limit *l, const char *key, int64_t now);
/* The key of a peer address as libevent gives it: an IPv4 address as is (an IPv4-mapped IPv6
 * one as its IPv4), an IPv6 address as its /64 ("2001:db8:1:2::/64"). */
void push_rate_source_key(const char *peer, char *key, size_t size);
