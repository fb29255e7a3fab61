#include "policy/policy_sets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

static int grow(void **items, size_t *cap, size_t count, size_t item_size) {
        size_t next;
        void *p;

        if (count < *cap)
                return 0;
        next = *cap ? *cap * 2 : 64;
        p = reallocarray(*items, next, item_size);
        if (!p)
                return -ENOMEM;
        *items = p;
        *cap = next;
        return 0;
}

static char *copy_text(const char *text, size_t len) {
        char *copy;

        if (memchr(text, '\0', len))
                return NULL;
        copy = malloc(len + 1);
        if (copy) {
                memcpy(copy, text, len);
                copy[len] = '\0';
        }
        return copy;
}

static int add_pair(struct name_set *set, const char *name, size_t name_len, char *digest) {
        struct name_digest *item;
        int ret;

        if (memchr(name, '\0', name_len)) {
                free(digest);
                return vm_error(-EINVAL, "a name holds a NUL character");
        }
        ret = grow((void **)&set->items, &set->cap, set->count, sizeof(*set->items));
        if (ret < 0) {
                free(digest);
                return ret;
        }
        item = &set->items[set->count];
        item->name = copy_text(name, name_len);
        if (!item->name) {
                free(digest);
                return -ENOMEM;
        }
        item->digest = digest;
        set->count++;
        return 0;
}

int name_set_add_hex(struct name_set *set, const char *name, size_t name_len, const char *hex, size_t hex_len) {
        char *digest = malloc(hex_len + 1);

        if (!digest)
                return -ENOMEM;
        for (size_t i = 0; i < hex_len; i++) {
                char c = hex[i];

                if (c >= 'A' && c <= 'F')
                        c = (char)(c - 'A' + 'a');
                else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                        free(digest);
                        return vm_error(-EINVAL, "a digest is not hex");
                }
                digest[i] = c;
        }
        digest[hex_len] = '\0';
        return add_pair(set, name, name_len, digest);
}

int name_set_add(struct name_set *set, const char *name, size_t name_len, const uint8_t *digest, size_t size) {
        static const char hex[] = "0123456789abcdef";
        char *text = malloc(2 * size + 1);

        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < size; i++) {
                text[2 * i] = hex[digest[i] >> 4];
                text[2 * i + 1] = hex[digest[i] & 0xf];
        }
        text[2 * size] = '\0';
        return add_pair(set, name, name_len, text);
}

static int compare_pairs(const void *a, const void *b) {
        const struct name_digest *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        return c ? c : strcmp(x->digest, y->digest);
}

void name_set_finish(struct name_set *set) {
        size_t kept = 0;

        if (set->count == 0)
                return;
        qsort(set->items, set->count, sizeof(*set->items), compare_pairs);
        for (size_t i = 0; i < set->count; i++) {
                if (kept > 0 && compare_pairs(&set->items[kept - 1], &set->items[i]) == 0) {
                        free(set->items[i].name);
                        free(set->items[i].digest);
                        continue;
                }
                set->items[kept++] = set->items[i];
        }
        set->count = kept;
}

void name_set_done(struct name_set *set) {
        for (size_t i = 0; i < set->count; i++) {
                free(set->items[i].name);
                free(set->items[i].digest);
        }
        free(set->items);
        memset(set, 0, sizeof(*set));
}

int string_set_add(struct string_set *set, const char *text, size_t len) {
        int ret = grow((void **)&set->items, &set->cap, set->count, sizeof(*set->items));

        if (ret < 0)
                return ret;
        if (memchr(text, '\0', len))
                return vm_error(-EINVAL, "a string holds a NUL character");
        set->items[set->count] = copy_text(text, len);
        if (!set->items[set->count])
                return -ENOMEM;
        set->count++;
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void string_set_finish(struct string_set *set) {
        size_t kept = 0;

        if (set->count == 0)
                return;
        qsort(set->items, set->count, sizeof(*set->items), compare_strings);
        for (size_t i = 0; i < set->count; i++) {
                if (kept > 0 && strcmp(set->items[kept - 1], set->items[i]) == 0) {
                        free(set->items[i]);
                        continue;
                }
                set->items[kept++] = set->items[i];
        }
        set->count = kept;
}

void string_set_done(struct string_set *set) {
        for (size_t i = 0; i < set->count; i++)
                free(set->items[i]);
        free(set->items);
        memset(set, 0, sizeof(*set));
}
