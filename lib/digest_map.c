#include "digest_map.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Eight bytes at a time with a multiply-xorshift mix: the keys come from the tenant's policy,
 * not from the attested machine, so no keyed hash is needed against chosen collisions (a path
 * the guest measures only ever probes a table the tenant built). */
static uint64_t name_hash(const char *name, size_t len) {
        const uint64_t k = 0xff51afd7ed558ccdULL;
        uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, word;
        size_t i;

        for (i = 0; i + 8 <= len; i += 8) {
                memcpy(&word, name + i, 8);
                h = (h ^ word) * k;
                h ^= h >> 32;
        }
        if (i < len) {
                word = 0;
                memcpy(&word, name + i, len - i);
                h = (h ^ word) * k;
        }
        h ^= h >> 29;
        h *= 0xc4ceb9fe1a85ec53ULL;
        return h ^ (h >> 32);
}

static int grow(void **array, size_t *cap, size_t need, size_t elem) {
        size_t new_cap = *cap ? *cap : 64;
        void *p;

        if (need <= *cap)
                return 0;
        while (new_cap < need)
                new_cap *= 2;
        p = realloc(*array, new_cap * elem);
        if (!p)
                return -ENOMEM;
        *array = p;
        *cap = new_cap;
        return 0;
}

void digest_map_done(struct digest_map *map) {
        free(map->slots);
        free(map->arena);
        memset(map, 0, sizeof(*map));
}

static void record_read(const struct digest_map *map, size_t offset, struct digest_record *record) {
        const uint8_t *p = map->arena + offset;

        memcpy(&record->name_len, p, 4);
        memcpy(&record->digest_count, p + 4, 4);
        record->name = (const char *)p + DIGEST_RECORD_HEADER;
        record->digests = p + DIGEST_RECORD_HEADER + record->name_len;
}

bool digest_map_find(const struct digest_map *map, const char *name, size_t len, struct digest_record *record) {
        uint64_t h;
        uint32_t tag;

        if (!map->count)
                return false;
        h = name_hash(name, len);
        tag = (uint32_t)(h >> 32);
        for (size_t i = h & map->slot_mask;; i = (i + 1) & map->slot_mask) {
                uint64_t slot = map->slots[i];

                if (!slot)
                        return false;
                if ((uint32_t)(slot >> 32) != tag)
                        continue;
                record_read(map, (uint32_t)slot - 1, record);
                if (record->name_len == len && memcmp(record->name, name, len) == 0)
                        return true;
        }
}

void digest_map_prefetch(const struct digest_map *map, const char *name, size_t len, bool record) {
        uint64_t h;
        size_t i;

        if (!map->count)
                return;
        h = name_hash(name, len);
        i = h & map->slot_mask;
        if (!record) {
                __builtin_prefetch(&map->slots[i]);
                return;
        }
        for (;; i = (i + 1) & map->slot_mask) {
                uint64_t slot = map->slots[i];

                if (!slot)
                        return;
                if ((uint32_t)(slot >> 32) == (uint32_t)(h >> 32)) {
                        /* a record of a path and a SHA-256 digest spans two cache lines */
                        size_t offset = (uint32_t)slot - 1;

                        __builtin_prefetch(map->arena + offset);
                        if (offset + 64 < map->arena_size)
                                __builtin_prefetch(map->arena + offset + 64);
                        return;
                }
        }
}

bool digest_record_allows(const struct digest_record *record, const uint8_t *digest, size_t size) {
        const uint8_t *p = record->digests;

        for (uint32_t i = 0; i < record->digest_count; i++, p += 1 + p[0])
                if (p[0] == size && memcmp(p + 1, digest, size) == 0)
                        return true;
        return false;
}

int digest_map_reserve(struct digest_map *map, size_t count) {
        size_t slots = 16;

        if (count > UINT32_MAX / 4)
                return vm_error(-E2BIG, "runtime policy: %zu names", count);
        while (slots < 2 * count)
                slots *= 2;
        map->slots = calloc(slots, sizeof(*map->slots));
        if (!map->slots)
                return -ENOMEM;
        map->slot_mask = slots - 1;
        return 0;
}

static int arena_append(struct digest_map *map, const void *data, size_t size) {
        if (size > UINT32_MAX - 1 - map->arena_size)
                return vm_error(-E2BIG, "runtime policy: more than 4 GiB of names and digests");
        if (grow((void **)&map->arena, &map->arena_cap, map->arena_size + size, 1) < 0)
                return -ENOMEM;
        if (size)
                memcpy(map->arena + map->arena_size, data, size);
        map->arena_size += size;
        return 0;
}

int digest_map_add(struct digest_map *map, const char *name, size_t len, size_t *record) {
        uint32_t header[2] = { (uint32_t)len, 0 };
        uint64_t h = name_hash(name, len);
        size_t i;
        int ret;

        if (len > UINT32_MAX)
                return vm_error(-E2BIG, "runtime policy: a name of %zu bytes", len);
        *record = map->arena_size;
        ret = arena_append(map, header, sizeof(header));
        if (ret >= 0)
                ret = arena_append(map, name, len);
        if (ret < 0)
                return ret;
        for (i = h & map->slot_mask; map->slots[i]; i = (i + 1) & map->slot_mask)
                ;
        map->slots[i] = (h >> 32) << 32 | (uint64_t)(*record + 1);
        map->count++;
        return 0;
}

void digest_map_shrink(struct digest_map *map) {
        uint8_t *arena = map->arena_size ? realloc(map->arena, map->arena_size) : NULL;

        if (arena) {
                map->arena = arena;
                map->arena_cap = map->arena_size;
        }
}

int digest_map_add_digest(struct digest_map *map, size_t record, const uint8_t *digest, size_t size) {
        uint8_t size_byte = (uint8_t)size;
        uint32_t count;
        int ret = arena_append(map, &size_byte, 1);

        if (ret >= 0)
                ret = arena_append(map, digest, size);
        if (ret < 0)
                return ret;
        memcpy(&count, map->arena + record + 4, 4);
        count++;
        memcpy(map->arena + record + 4, &count, 4);
        return 0;
}

