/* A runtime policy written as Keylime's generator writes it (keylime-policy create runtime:
 * Python's json.dumps with its defaults), so that the two tools' output can be compared byte for
 * byte:
 *   {"meta": {"version": 1, "generator": 3, "timestamp": "..."}, "release": 0,
 *    "digests": {"/path": ["hex", ...], ...}, "excludes": [...], "keyrings": {...},
 *    "ima": {"ignored_keyrings": [...], "log_hash_alg": "sha1", "dm_policy": null},
 *    "ima-buf": {...}, "verification-keys": ""}
 * on one line, without a final newline; ", " and ": " as separators; strings escaped as
 * json.dumps escapes them with ensure_ascii (every character outside printable ASCII as \uXXXX,
 * lower-case hex, a surrogate pair above U+FFFF; \n, \t, \", \\ and the like by name).
 * generator 3 is Keylime's LegacyAllowList, what its generator always writes. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "policy/policy_sets.h"

struct runtime_policy_doc {
        const char *timestamp; /* meta.timestamp; NULL leaves it out */
        struct name_set digests, keyrings, ima_buf;     /* finished (sorted, unique) */
        struct string_set excludes, ignored_keyrings;   /* finished */
        const char *log_hash_alg;                       /* "sha1" when NULL */
        const char *verification_keys;                  /* "" when NULL */
};

/* Writes `len` bytes of UTF-8 as a JSON string the way json.dumps does; -EILSEQ (nothing
 * written) when they are not valid UTF-8: a JSON string cannot carry other bytes. */
int python_json_string(FILE *out, const char *text, size_t len);

/* Writes the whole policy; -EIO when `out` failed. */
int runtime_policy_write(FILE *out, const struct runtime_policy_doc *doc);
