/* A table of names (paths, keyrings, ima-buf event names) to the digests the tenant's runtime
 * policy allows for them, built once from the policy and read for every IMA entry. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Names (paths, keyrings, ima-buf event names) to the digests allowed for them. Each name is a
 * record in one arena with its digests right after it, so that a lookup touches one table slot
 * and one record:
 *   u32 name_len, u32 digest_count, name bytes, digest_count x {u8 size, size bytes}
 * The table is open addressing with linear probing, at most half full; a slot holds the upper
 * half of the name's hash and the record's offset + 1 (0: an empty slot). */
struct digest_map {
        uint64_t *slots;
        size_t slot_mask, count;
        uint8_t *arena;
        size_t arena_size, arena_cap;
};

#define DIGEST_RECORD_HEADER 8 /* u32 name_len, u32 digest_count */

/* A record, read out of the arena. */
struct digest_record {
        const char *name;
        uint32_t name_len, digest_count;
        const uint8_t *digests;
};

void digest_map_done(struct digest_map *map);
/* Sizes the table for `count` names (json-c has already made the keys of one object unique). */
int digest_map_reserve(struct digest_map *map, size_t count);
/* Starts the record of a new name (at most digest_map_reserve()'s count of them). */
int digest_map_add(struct digest_map *map, const char *name, size_t len, size_t *record);
/* Appends a digest to the record being built (the last one added). */
int digest_map_add_digest(struct digest_map *map, size_t record, const uint8_t *digest, size_t size);
/* Gives back what the arena's doubling left unused (up to half of it). */
void digest_map_shrink(struct digest_map *map);
/* True, with its record, when `name` is in the table. */
bool digest_map_find(const struct digest_map *map, const char *name, size_t len, struct digest_record *record);
/* The slot `name` hashes to, or (`record`) the record of the first slot whose tag matches. */
void digest_map_prefetch(const struct digest_map *map, const char *name, size_t len, bool record);
/* True when `digest` (of `size` bytes) is one of the record's. */
bool digest_record_allows(const struct digest_record *record, const uint8_t *digest, size_t size);
