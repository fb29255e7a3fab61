#include "runtime_policy.h"

#include <limits.h>
#include <openssl/x509.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "error.h"
#include "hashalg.h"

#define POLICY_DEPTH_MAX 16  /* the policy nests 3 deep; json-c's default allows 32 */
#define MEMBER_NAME_MAX 160  /* bytes of a path quoted in an error detail */

struct policy_digest {
        uint8_t size;
        uint8_t bytes[IMA_DIGEST_MAX];
};

struct policy_name {
        uint64_t hash;
        uint32_t name_offset, name_len;       /* in the map's strings */
        uint32_t digest_first, digest_count;  /* in the map's digests */
};

/* Names (paths, keyrings, ima-buf event names) to the digests allowed for them: an open
 * addressing table (linear probing, at most half full) of indices into `names`; the strings
 * and digests are kept in two arrays rather than one allocation each. */
struct digest_map {
        struct policy_name *names;
        size_t count, names_cap;
        uint32_t *slots; /* index into names + 1; 0 is empty */
        size_t slot_mask;
        char *strings;
        size_t strings_size, strings_cap;
        struct policy_digest *digests;
        size_t digest_count, digests_cap;
};

struct runtime_policy {
        struct digest_map digests, keyrings, ima_buf, ignored_keyrings;
        bool ignore_all_keyrings; /* ima.ignored_keyrings lists "*" */
        regex_t *excludes;
        size_t exclude_count;
        TPM2_ALG_ID log_hash_alg;
};

/* FNV-1a: the table's keys come from the tenant's policy, not from the attested machine,
 * so no keyed hash is needed against collisions chosen by an attacker. */
static uint64_t name_hash(const char *name, size_t len) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t)name[i]) * 0x100000001b3ULL;
        return h;
}

static int grow(void **array, size_t *cap, size_t need, size_t elem) {
        size_t new_cap = *cap ? *cap : 16;
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

static void digest_map_done(struct digest_map *map) {
        free(map->names);
        free(map->slots);
        free(map->strings);
        free(map->digests);
        memset(map, 0, sizeof(*map));
}

static const struct policy_name *digest_map_find(const struct digest_map *map, const char *name, size_t len) {
        uint64_t h;

        if (!map->count)
                return NULL;
        h = name_hash(name, len);
        for (size_t i = h & map->slot_mask;; i = (i + 1) & map->slot_mask) {
                uint32_t slot = map->slots[i];
                const struct policy_name *entry;

                if (!slot)
                        return NULL;
                entry = &map->names[slot - 1];
                if (entry->hash == h && entry->name_len == len &&
                    memcmp(map->strings + entry->name_offset, name, len) == 0)
                        return entry;
        }
}

static bool digest_map_allows(const struct digest_map *map, const struct policy_name *name, const uint8_t *digest,
                              size_t size) {
        for (uint32_t i = 0; i < name->digest_count; i++) {
                const struct policy_digest *d = &map->digests[name->digest_first + i];

                if (d->size == size && memcmp(d->bytes, digest, size) == 0)
                        return true;
        }
        return false;
}

/* Sizes the table for `count` names; json-c has already made the keys of one object unique. */
static int digest_map_reserve(struct digest_map *map, size_t count) {
        size_t slots = 16;

        if (count > UINT32_MAX / 4)
                return vm_error(-E2BIG, "runtime policy: %zu names", count);
        while (slots < 2 * count)
                slots *= 2;
        map->slots = calloc(slots, sizeof(*map->slots));
        if (!map->slots || grow((void **)&map->names, &map->names_cap, count ? count : 1, sizeof(*map->names)) < 0)
                return -ENOMEM;
        map->slot_mask = slots - 1;
        return 0;
}

static int digest_map_add(struct digest_map *map, const char *name, size_t len, struct policy_name **added) {
        struct policy_name *entry;
        size_t i;

        if (len > UINT32_MAX || map->strings_size > UINT32_MAX - len)
                return vm_error(-E2BIG, "runtime policy: names too long");
        if (grow((void **)&map->strings, &map->strings_cap, map->strings_size + len + 1, 1) < 0)
                return -ENOMEM;
        entry = &map->names[map->count];
        *entry = (struct policy_name){
                .hash = name_hash(name, len),
                .name_offset = (uint32_t)map->strings_size,
                .name_len = (uint32_t)len,
                .digest_first = (uint32_t)map->digest_count,
        };
        if (len)
                memcpy(map->strings + map->strings_size, name, len);
        map->strings_size += len;
        for (i = entry->hash & map->slot_mask; map->slots[i]; i = (i + 1) & map->slot_mask)
                ;
        map->slots[i] = (uint32_t)++map->count;
        *added = entry;
        return 0;
}

static int policy_invalid(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int policy_invalid(const char *fmt, ...) {
        char detail[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        return vm_error(-EBADMSG, "runtime policy: %s", detail);
}

static const char *json_type_label(json_object *value) {
        return json_type_to_name(json_object_get_type(value));
}

/* A hex digest as the policy lists it: 16-64 bytes, one of the sizes IMA's algorithms have. */
static int policy_digest_parse(const char *member, const char *key, size_t index, json_object *value,
                               struct policy_digest *out) {
        size_t size = 0;
        const char *text;
        int len, ret;

        if (!json_object_is_type(value, json_type_string))
                return policy_invalid("%s[\"%.*s\"][%zu] is %s, not a hex string", member, MEMBER_NAME_MAX, key, index,
                                      json_type_label(value));
        text = json_object_get_string(value);
        len = json_object_get_string_len(value);
        if (len > 2 * IMA_DIGEST_MAX)
                return policy_invalid("%s[\"%.*s\"][%zu]: %d hex digits, at most %d", member, MEMBER_NAME_MAX, key,
                                      index, len, 2 * IMA_DIGEST_MAX);
        ret = hex_decode(text, (size_t)len, out->bytes, sizeof(out->bytes), &size);
        if (ret < 0)
                return policy_invalid("%s[\"%.*s\"][%zu]: %s", member, MEMBER_NAME_MAX, key, index,
                                      vm_error_detail(ret));
        if (size != 16 && size != 20 && size != 28 && size != 32 && size != 48 && size != 64)
                return policy_invalid("%s[\"%.*s\"][%zu]: %zu bytes is no digest size (16, 20, 28, 32, 48 or 64)",
                                      member, MEMBER_NAME_MAX, key, index, size);
        out->size = (uint8_t)size;
        return 0;
}

/* `{"name": ["hex", ...], ...}` (digests, keyrings, ima-buf) */
static int digest_map_load(json_object *obj, const char *member, struct digest_map *map) {
        int ret;

        if (!json_object_is_type(obj, json_type_object))
                return policy_invalid("%s is %s, not an object of digest lists", member, json_type_label(obj));
        ret = digest_map_reserve(map, (size_t)json_object_object_length(obj));
        if (ret < 0)
                return ret;
        json_object_object_foreach(obj, key, list) {
                struct policy_name *name;
                size_t count;

                if (!json_object_is_type(list, json_type_array))
                        return policy_invalid("%s[\"%.*s\"] is %s, not an array of hex digests", member,
                                              MEMBER_NAME_MAX, key, json_type_label(list));
                ret = digest_map_add(map, key, strlen(key), &name);
                if (ret < 0)
                        return ret;
                count = json_object_array_length(list);
                if (count > UINT32_MAX - map->digest_count)
                        return vm_error(-E2BIG, "runtime policy: too many digests");
                if (grow((void **)&map->digests, &map->digests_cap, map->digest_count + count,
                         sizeof(*map->digests)) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < count; i++) {
                        ret = policy_digest_parse(member, key, i, json_object_array_get_idx(list, i),
                                                  &map->digests[map->digest_count]);
                        if (ret < 0)
                                return ret;
                        map->digest_count++;
                }
                name->digest_count = (uint32_t)count;
        }
        return 0;
}

/* Python escapes that glibc's regcomp would read as a plain letter ("\d" as "d"), and Python's
 * "(?" extensions: refused, so that an exclude never silently means something else here. */
static int exclude_check_syntax(size_t index, const char *regex) {
        for (const char *p = regex; *p; p++) {
                if (p[0] == '(' && p[1] == '?')
                        return policy_invalid("excludes[%zu]: \"(?\" is Python regex syntax, not POSIX", index);
                if (p[0] != '\\' || !p[1])
                        continue;
                p++;
                if (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) && !strchr("wWsSbB", *p))
                        return policy_invalid("excludes[%zu]: \"\\%c\" is not a POSIX regex escape "
                                              "(use a bracket expression such as [0-9])",
                                              index, *p);
        }
        return 0;
}

static int excludes_load(json_object *array, struct runtime_policy *policy) {
        size_t count;

        if (!json_object_is_type(array, json_type_array))
                return policy_invalid("excludes is %s, not an array of regexes", json_type_label(array));
        count = json_object_array_length(array);
        if (count > RUNTIME_POLICY_MAX_EXCLUDES)
                return policy_invalid("excludes has %zu regexes, at most %d", count, RUNTIME_POLICY_MAX_EXCLUDES);
        policy->excludes = calloc(count ? count : 1, sizeof(*policy->excludes));
        if (!policy->excludes)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                json_object *value = json_object_array_get_idx(array, i);
                char reason[128];
                const char *regex;
                int ret;

                if (!json_object_is_type(value, json_type_string))
                        return policy_invalid("excludes[%zu] is %s, not a string", i, json_type_label(value));
                regex = json_object_get_string(value);
                if ((size_t)json_object_get_string_len(value) > RUNTIME_POLICY_REGEX_MAX)
                        return policy_invalid("excludes[%zu] is longer than %d bytes", i, RUNTIME_POLICY_REGEX_MAX);
                if (strlen(regex) != (size_t)json_object_get_string_len(value))
                        return policy_invalid("excludes[%zu] holds a NUL character", i);
                ret = exclude_check_syntax(i, regex);
                if (ret < 0)
                        return ret;
                ret = regcomp(&policy->excludes[i], regex, REG_EXTENDED);
                if (ret != 0) {
                        regerror(ret, &policy->excludes[i], reason, sizeof(reason));
                        return policy_invalid("excludes[%zu] \"%.100s\": %s", i, regex, reason);
                }
                policy->exclude_count = i + 1;
        }
        return 0;
}

/* ima.ignored_keyrings: names, or "*" for every keyring */
static int ignored_keyrings_load(json_object *array, struct runtime_policy *policy) {
        size_t count;
        int ret;

        if (!json_object_is_type(array, json_type_array))
                return policy_invalid("ima.ignored_keyrings is %s, not an array of strings", json_type_label(array));
        count = json_object_array_length(array);
        ret = digest_map_reserve(&policy->ignored_keyrings, count);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < count; i++) {
                json_object *value = json_object_array_get_idx(array, i);
                struct policy_name *name;
                const char *text;

                if (!json_object_is_type(value, json_type_string))
                        return policy_invalid("ima.ignored_keyrings[%zu] is %s, not a string", i,
                                              json_type_label(value));
                text = json_object_get_string(value);
                if (strcmp(text, "*") == 0)
                        policy->ignore_all_keyrings = true;
                if (digest_map_find(&policy->ignored_keyrings, text, strlen(text)))
                        continue;
                ret = digest_map_add(&policy->ignored_keyrings, text, strlen(text), &name);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

static int ima_member_load(json_object *ima, struct runtime_policy *policy) {
        json_object *value;
        int ret;

        if (!json_object_is_type(ima, json_type_object))
                return policy_invalid("ima is %s, not an object", json_type_label(ima));
        if (json_object_object_get_ex(ima, "ignored_keyrings", &value) && value) {
                ret = ignored_keyrings_load(value, policy);
                if (ret < 0)
                        return ret;
        }
        if (json_object_object_get_ex(ima, "log_hash_alg", &value) && value) {
                const char *name = json_object_get_string(value);
                TPM2_ALG_ID alg;

                if (!json_object_is_type(value, json_type_string))
                        return policy_invalid("ima.log_hash_alg is %s, not a string", json_type_label(value));
                alg = hashalg_from_name(name);
                if (alg == TPM2_ALG_ERROR)
                        return policy_invalid("ima.log_hash_alg \"%.16s\" is not sha1, sha256, sha384 or sha512", name);
                policy->log_hash_alg = alg;
        }
        if (json_object_object_get_ex(ima, "dm_policy", &value) && value)
                return vm_error(-EOPNOTSUPP, "runtime policy: ima.dm_policy (device-mapper rules) is not supported");
        return 0;
}

static int meta_load(json_object *meta) {
        json_object *value;

        if (!json_object_is_type(meta, json_type_object))
                return policy_invalid("meta is %s, not an object", json_type_label(meta));
        if (!json_object_object_get_ex(meta, "version", &value) || !json_object_is_type(value, json_type_int))
                return policy_invalid("meta.version is missing or not an integer");
        if (json_object_get_int64(value) != 1)
                return policy_invalid("meta.version %lld is not 1, the only runtime policy format known",
                                      (long long)json_object_get_int64(value));
        if (json_object_object_get_ex(meta, "generator", &value) && value && !json_object_is_type(value, json_type_int))
                return policy_invalid("meta.generator is %s, not an integer", json_type_label(value));
        if (json_object_object_get_ex(meta, "timestamp", &value) && value &&
            !json_object_is_type(value, json_type_string))
                return policy_invalid("meta.timestamp is %s, not a string", json_type_label(value));
        return 0;
}

/* An optional member: absent and null are alike. */
static json_object *member(json_object *obj, const char *name) {
        json_object *value = NULL;

        json_object_object_get_ex(obj, name, &value);
        return value;
}

static int policy_load(json_object *obj, struct runtime_policy *policy) {
        json_object *value;
        int ret;

        if (!json_object_is_type(obj, json_type_object))
                return policy_invalid("the policy is %s, not a JSON object", obj ? json_type_label(obj) : "null");
        if (!(value = member(obj, "meta")))
                return policy_invalid("meta is missing");
        if ((ret = meta_load(value)) < 0)
                return ret;
        if ((value = member(obj, "release")) && !json_object_is_type(value, json_type_int) &&
            !json_object_is_type(value, json_type_double))
                return policy_invalid("release is %s, not a number", json_type_label(value));
        if (!(value = member(obj, "digests")))
                return policy_invalid("digests is missing");
        if ((ret = digest_map_load(value, "digests", &policy->digests)) < 0)
                return ret;
        if ((value = member(obj, "excludes")) && (ret = excludes_load(value, policy)) < 0)
                return ret;
        if ((value = member(obj, "keyrings")) && (ret = digest_map_load(value, "keyrings", &policy->keyrings)) < 0)
                return ret;
        if ((value = member(obj, "ima-buf")) && (ret = digest_map_load(value, "ima-buf", &policy->ima_buf)) < 0)
                return ret;
        if ((value = member(obj, "ima")) && (ret = ima_member_load(value, policy)) < 0)
                return ret;
        if ((value = member(obj, "verification-keys")) && !json_object_is_type(value, json_type_string))
                return policy_invalid("verification-keys is %s, not a string", json_type_label(value));
        return 0;
}

int runtime_policy_from_json(json_object *obj, struct runtime_policy **out) {
        struct runtime_policy *policy = calloc(1, sizeof(*policy));
        int ret;

        *out = NULL;
        if (!policy)
                return -ENOMEM;
        policy->log_hash_alg = TPM2_ALG_SHA1;
        ret = policy_load(obj, policy);
        if (ret < 0) {
                runtime_policy_free(policy);
                return ret;
        }
        *out = policy;
        return 0;
}

int runtime_policy_parse(const char *text, size_t size, struct runtime_policy **out) {
        json_tokener *tok;
        json_object *obj;
        size_t end;
        int ret;

        *out = NULL;
        if (size > RUNTIME_POLICY_TEXT_MAX)
                return policy_invalid("%zu bytes, at most %u", size, RUNTIME_POLICY_TEXT_MAX);
        tok = json_tokener_new_ex(POLICY_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, size ? text : "", (int)size);
        end = json_tokener_get_parse_end(tok);
        if (json_tokener_get_error(tok) != json_tokener_success) {
                enum json_tokener_error err = json_tokener_get_error(tok);

                json_object_put(obj);
                json_tokener_free(tok);
                return policy_invalid("not JSON: %s at offset %zu",
                                      err == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(err),
                                      err == json_tokener_continue ? size : end);
        }
        json_tokener_free(tok);
        for (; end < size; end++)
                if (text[end] != ' ' && text[end] != '\t' && text[end] != '\n' && text[end] != '\r') {
                        json_object_put(obj);
                        return policy_invalid("trailing data after the JSON object at offset %zu", end);
                }
        ret = runtime_policy_from_json(obj, out);
        json_object_put(obj);
        return ret;
}

void runtime_policy_free(struct runtime_policy *policy) {
        if (!policy)
                return;
        digest_map_done(&policy->digests);
        digest_map_done(&policy->keyrings);
        digest_map_done(&policy->ima_buf);
        digest_map_done(&policy->ignored_keyrings);
        for (size_t i = 0; i < policy->exclude_count; i++)
                regfree(&policy->excludes[i]);
        free(policy->excludes);
        free(policy);
}

TPM2_ALG_ID runtime_policy_log_hash_alg(const struct runtime_policy *policy) {
        return policy->log_hash_alg;
}

/* Keylime applies Python's re.match: a match must start at the path's first byte, and need not
 * reach its end. POSIX finds the leftmost match, which starts there if any match does. */
static bool policy_excluded(const struct runtime_policy *policy, const struct ima_entry *entry) {
        char name[IMA_PATH_MAX + 1];

        if (!policy->exclude_count || entry->name_len > IMA_PATH_MAX)
                return false;
        memcpy(name, entry->name, entry->name_len);
        name[entry->name_len] = '\0';
        for (size_t i = 0; i < policy->exclude_count; i++) {
                regmatch_t match;

                if (regexec(&policy->excludes[i], name, 1, &match, 0) == 0 && match.rm_so == 0)
                        return true;
        }
        return false;
}

static void hex_text(const uint8_t *data, size_t size, char *out, size_t cap) {
        static const char digits[] = "0123456789abcdef";
        size_t i;

        for (i = 0; i < size && 2 * i + 2 < cap; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 0xf];
        }
        out[2 * i] = '\0';
}

/* The digests listed for a name, as hex, as many as fit. */
static void allowed_text(const struct digest_map *map, const struct policy_name *name, char *out, size_t cap) {
        size_t used = 0;

        out[0] = '\0';
        if (name->digest_count == 0) {
                snprintf(out, cap, "no digest");
                return;
        }
        for (uint32_t i = 0; i < name->digest_count; i++) {
                const struct policy_digest *d = &map->digests[name->digest_first + i];
                char hex[2 * IMA_DIGEST_MAX + 1];

                hex_text(d->bytes, d->size, hex, sizeof(hex));
                if (used + strlen(hex) + 24 >= cap) {
                        snprintf(out + used, cap - used, "%s(+%u more)", i ? " " : "", name->digest_count - i);
                        return;
                }
                used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", hex);
        }
}

static int policy_refuse(const struct ima_entry *entry, const char *member, struct runtime_policy_refusal *refusal) {
        int name_len = (int)(entry->name_len < MEMBER_NAME_MAX ? entry->name_len : MEMBER_NAME_MAX);
        char digest[2 * IMA_DIGEST_MAX + 1];

        hex_text(entry->digest, entry->digest_size, digest, sizeof(digest));
        if (refusal->allowed[0])
                return vm_error(-EPERM, "\"%.*s\" %s:%s: %s (%s allows %s)", name_len, entry->name, entry->digest_alg,
                                digest, refusal->reason, member, refusal->allowed);
        return vm_error(-EPERM, "\"%.*s\" %s:%s: %s", name_len, entry->name, entry->digest_alg, digest,
                        refusal->reason);
}

/* `map` is digests, keyrings or ima-buf; `member` its name for the detail. */
static int policy_check_map(const struct runtime_policy *policy, const struct digest_map *map, const char *member,
                            const struct ima_entry *entry, struct runtime_policy_refusal *refusal) {
        const struct policy_name *name = digest_map_find(map, entry->name, entry->name_len);

        /* listed digests first: the common case needs no regex */
        if (name && digest_map_allows(map, name, entry->digest, entry->digest_size))
                return 0;
        if (policy_excluded(policy, entry))
                return 0;
        if (entry->violation)
                refusal->reason = "a violation (measured while open for write) on a path no exclude matches";
        else if (!name)
                refusal->reason = map == &policy->digests   ? "not in the runtime policy's digests"
                                  : map == &policy->keyrings ? "a key on a keyring not in the runtime policy's keyrings"
                                                             : "not in the runtime policy's ima-buf";
        else
                refusal->reason = "digest not allowed";
        if (name)
                allowed_text(map, name, refusal->allowed, sizeof(refusal->allowed));
        return policy_refuse(entry, member, refusal);
}

/* Keylime tells a keyring measurement from other ima-buf entries by its buffer: a key. */
static bool buffer_is_key(const struct ima_entry *entry) {
        const unsigned char *p = entry->data;
        X509 *cert;
        EVP_PKEY *key;

        if (entry->data_size == 0 || entry->data_size > LONG_MAX)
                return false;
        cert = d2i_X509(NULL, &p, (long)entry->data_size);
        X509_free(cert);
        if (cert && p == entry->data + entry->data_size)
                return true;
        p = entry->data;
        key = d2i_PUBKEY(NULL, &p, (long)entry->data_size);
        EVP_PKEY_free(key);
        return key && p == entry->data + entry->data_size;
}

int runtime_policy_check(const struct runtime_policy *policy, const struct ima_entry *entry,
                         const uint8_t *boot_aggregate, struct runtime_policy_refusal *refusal) {
        static const char boot_aggregate_name[] = "boot_aggregate";

        refusal->reason = NULL;
        refusal->allowed[0] = '\0';
        if (entry->template_type == IMA_TEMPLATE_BUF) {
                if (!buffer_is_key(entry))
                        return policy_check_map(policy, &policy->ima_buf, "ima-buf", entry, refusal);
                if (policy->ignore_all_keyrings || digest_map_find(&policy->ignored_keyrings, entry->name, entry->name_len))
                        return 0;
                return policy_check_map(policy, &policy->keyrings, "keyrings", entry, refusal);
        }
        if (boot_aggregate && entry->name_len == sizeof(boot_aggregate_name) - 1 &&
            memcmp(entry->name, boot_aggregate_name, entry->name_len) == 0) {
                if (entry->digest_size == TPM2_SHA256_DIGEST_SIZE &&
                    memcmp(entry->digest, boot_aggregate, TPM2_SHA256_DIGEST_SIZE) == 0)
                        return 0;
                refusal->reason = "not the SHA-256 of the quoted PCRs 0-9";
                refusal->allowed[0] = '\0';
                hex_text(boot_aggregate, TPM2_SHA256_DIGEST_SIZE, refusal->allowed, sizeof(refusal->allowed));
                return policy_refuse(entry, "the quote", refusal);
        }
        return policy_check_map(policy, &policy->digests, "digests", entry, refusal);
}
