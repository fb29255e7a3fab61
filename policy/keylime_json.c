#include "policy/keylime_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "policy/utf8.h"

int python_json_string(FILE *out, const char *text, size_t len) {
        const uint8_t *p = (const uint8_t *)text;
        uint32_t cp;

        if (!utf8_valid(text, len))
                return -EILSEQ;
        putc_unlocked('"', out);
        for (size_t i = 0; i < len;) {
                size_t n = utf8_decode(p + i, len - i, &cp);

                i += n;
                switch (cp) {
                case '"':
                        fputs("\\\"", out);
                        continue;
                case '\\':
                        fputs("\\\\", out);
                        continue;
                case '\b':
                        fputs("\\b", out);
                        continue;
                case '\f':
                        fputs("\\f", out);
                        continue;
                case '\n':
                        fputs("\\n", out);
                        continue;
                case '\r':
                        fputs("\\r", out);
                        continue;
                case '\t':
                        fputs("\\t", out);
                        continue;
                }
                if (cp >= 0x20 && cp <= 0x7e)
                        putc_unlocked((int)cp, out);
                else if (cp < 0x10000)
                        fprintf(out, "\\u%04x", (unsigned)cp);
                else {
                        cp -= 0x10000;
                        fprintf(out, "\\u%04x\\u%04x", (unsigned)(0xd800 | cp >> 10), (unsigned)(0xdc00 | (cp & 0x3ff)));
                }
        }
        putc_unlocked('"', out);
        return 0;
}

/* Strings that reach the writer were checked when they were gathered (names of the tree are
 * UTF-8, JSON gave the others); one that is not still fails the whole write. */
static int string(FILE *out, const char *text) {
        int ret = python_json_string(out, text, strlen(text));

        return ret < 0 ? vm_error(ret, "runtime policy: \"%.200s\" is not UTF-8", text) : 0;
}

static int string_list(FILE *out, const struct string_set *set) {
        int ret;

        putc_unlocked('[', out);
        for (size_t i = 0; i < set->count; i++) {
                if (i > 0)
                        fputs(", ", out);
                if ((ret = string(out, set->items[i])) < 0)
                        return ret;
        }
        putc_unlocked(']', out);
        return 0;
}

/* {"name": ["digest", ...], ...}: the set's pairs, sorted, grouped by name */
static int digest_map(FILE *out, const struct name_set *set) {
        int ret;

        putc_unlocked('{', out);
        for (size_t i = 0; i < set->count; i++) {
                bool first = i == 0 || strcmp(set->items[i - 1].name, set->items[i].name) != 0;
                bool last = i + 1 == set->count || strcmp(set->items[i + 1].name, set->items[i].name) != 0;

                if (first) {
                        if (i > 0)
                                fputs(", ", out);
                        if ((ret = string(out, set->items[i].name)) < 0)
                                return ret;
                        fputs(": [", out);
                } else
                        fputs(", ", out);
                if ((ret = string(out, set->items[i].digest)) < 0)
                        return ret;
                if (last)
                        putc_unlocked(']', out);
        }
        putc_unlocked('}', out);
        return 0;
}

int runtime_policy_write(FILE *out, const struct runtime_policy_doc *doc) {
        int ret = 0;

        fputs("{\"meta\": {\"version\": 1, \"generator\": 3", out);
        if (doc->timestamp) {
                fputs(", \"timestamp\": ", out);
                ret = string(out, doc->timestamp);
        }
        if (ret >= 0) {
                fputs("}, \"release\": 0, \"digests\": ", out);
                ret = digest_map(out, &doc->digests);
        }
        if (ret >= 0) {
                fputs(", \"excludes\": ", out);
                ret = string_list(out, &doc->excludes);
        }
        if (ret >= 0) {
                fputs(", \"keyrings\": ", out);
                ret = digest_map(out, &doc->keyrings);
        }
        if (ret >= 0) {
                fputs(", \"ima\": {\"ignored_keyrings\": ", out);
                ret = string_list(out, &doc->ignored_keyrings);
        }
        if (ret >= 0) {
                fputs(", \"log_hash_alg\": ", out);
                ret = string(out, doc->log_hash_alg ? doc->log_hash_alg : "sha1");
        }
        if (ret >= 0) {
                fputs(", \"dm_policy\": null}, \"ima-buf\": ", out);
                ret = digest_map(out, &doc->ima_buf);
        }
        if (ret >= 0) {
                fputs(", \"verification-keys\": ", out);
                ret = string(out, doc->verification_keys ? doc->verification_keys : "");
        }
        if (ret >= 0)
                putc_unlocked('}', out);
        if (ret >= 0 && (fflush(out) != 0 || ferror(out)))
                ret = vm_error(-EIO, "cannot write the policy: %m");
        return ret;
}
