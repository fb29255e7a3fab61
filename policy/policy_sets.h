/* The collections a runtime policy is made of, gathered from every source (the image tree,
 * --merge, --from-ima-log) and then sorted and made unique, as Keylime's generator does with
 * sorted(set(...)) before it writes a policy:
 *   - a name set: names (paths, keyrings) each with a list of hex digests;
 *   - a string set: the excludes and the ignored keyrings.
 * Strings are compared bytewise, which for UTF-8 is the code point order Python sorts str in. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct name_digest {
        char *name;   /* NUL-terminated, no NUL inside */
        char *digest; /* lower-case hex */
};

struct name_set {
        struct name_digest *items;
        size_t count, cap;
};

struct string_set {
        char **items;
        size_t count, cap;
};

/* Adds `name` (`name_len` bytes; a NUL inside is -EINVAL) with a digest given as hex (either case,
 * stored lower case) or as bytes. */
int name_set_add_hex(struct name_set *set, const char *name, size_t name_len, const char *hex, size_t hex_len);
int name_set_add(struct name_set *set, const char *name, size_t name_len, const uint8_t *digest, size_t size);
/* Sorts by name, then digest, and drops repeated pairs. */
void name_set_finish(struct name_set *set);
void name_set_done(struct name_set *set);

int string_set_add(struct string_set *set, const char *text, size_t len);
void string_set_finish(struct string_set *set);
void string_set_done(struct string_set *set);
