#include "runtime_policy.h"

#include <limits.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "error.h"
#include "hashalg.h"
#include "digest_map.h"
#include "python_regex.h"

#define POLICY_DEPTH_MAX 16  /* the policy nests 3 deep; json-c's default allows 32 */
#define MEMBER_NAME_MAX 160  /* bytes of a path quoted in an error detail */

struct runtime_policy {
        struct digest_map digests, keyrings, ima_buf, ignored_keyrings;
        bool ignore_all_keyrings; /* ima.ignored_keyrings lists "*" */
        struct python_regex **excludes;
        size_t exclude_count;
        TPM2_ALG_ID log_hash_alg;
        bool allow_violations; /* not a policy member: the verifier's ima_violations switch */
};

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
                               uint8_t out[IMA_DIGEST_MAX], size_t *out_size) {
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
        ret = hex_decode(text, (size_t)len, out, IMA_DIGEST_MAX, &size);
        if (ret < 0)
                return policy_invalid("%s[\"%.*s\"][%zu]: %s", member, MEMBER_NAME_MAX, key, index,
                                      vm_error_detail(ret));
        if (size != 16 && size != 20 && size != 28 && size != 32 && size != 48 && size != 64)
                return policy_invalid("%s[\"%.*s\"][%zu]: %zu bytes is no digest size (16, 20, 28, 32, 48 or 64)",
                                      member, MEMBER_NAME_MAX, key, index, size);
        *out_size = size;
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
                size_t record, count;

                if (!json_object_is_type(list, json_type_array))
                        return policy_invalid("%s[\"%.*s\"] is %s, not an array of hex digests", member,
                                              MEMBER_NAME_MAX, key, json_type_label(list));
                ret = digest_map_add(map, key, strlen(key), &record);
                if (ret < 0)
                        return ret;
                count = json_object_array_length(list);
                for (size_t i = 0; i < count; i++) {
                        uint8_t digest[IMA_DIGEST_MAX];
                        size_t size = 0;

                        ret = policy_digest_parse(member, key, i, json_object_array_get_idx(list, i), digest, &size);
                        if (ret >= 0)
                                ret = digest_map_add_digest(map, record, digest, size);
                        if (ret < 0)
                                return ret;
                }
        }
        digest_map_shrink(map);
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
                const char *regex;
                int ret;

                if (!json_object_is_type(value, json_type_string))
                        return policy_invalid("excludes[%zu] is %s, not a string", i, json_type_label(value));
                regex = json_object_get_string(value);
                if ((size_t)json_object_get_string_len(value) > RUNTIME_POLICY_REGEX_MAX)
                        return policy_invalid("excludes[%zu] is longer than %d bytes", i, RUNTIME_POLICY_REGEX_MAX);
                if (strlen(regex) != (size_t)json_object_get_string_len(value))
                        return policy_invalid("excludes[%zu] holds a NUL character", i);
                ret = python_regex_compile(regex, &policy->excludes[i]);
                if (ret == -ENOMEM)
                        return ret;
                if (ret < 0)
                        return policy_invalid("excludes[%zu] \"%.100s\": %s", i, regex, vm_error_detail(ret));
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
                struct digest_record existing;
                const char *text;
                size_t record;

                if (!json_object_is_type(value, json_type_string))
                        return policy_invalid("ima.ignored_keyrings[%zu] is %s, not a string", i,
                                              json_type_label(value));
                text = json_object_get_string(value);
                if (strcmp(text, "*") == 0)
                        policy->ignore_all_keyrings = true;
                if (digest_map_find(&policy->ignored_keyrings, text, strlen(text), &existing))
                        continue;
                ret = digest_map_add(&policy->ignored_keyrings, text, strlen(text), &record);
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
                python_regex_free(policy->excludes[i]);
        free(policy->excludes);
        free(policy);
}

TPM2_ALG_ID runtime_policy_log_hash_alg(const struct runtime_policy *policy) {
        return policy->log_hash_alg;
}

enum exclusion { NOT_EXCLUDED, EXCLUDED, EXCLUDE_GAVE_UP };

/* Keylime applies Python's re.match: a match must start at the path's first byte, and need not
 * reach its end (lib/python_regex.h). A regex that hits its match limits on a path excludes
 * nothing: the path must then be listed like any other. */
static enum exclusion policy_excluded(const struct runtime_policy *policy, const struct ima_entry *entry) {
        bool gave_up = false;

        if (!policy->exclude_count || entry->name_len > IMA_PATH_MAX)
                return NOT_EXCLUDED;
        for (size_t i = 0; i < policy->exclude_count; i++) {
                int ret = python_regex_match(policy->excludes[i], entry->name, entry->name_len);

                if (ret == 1)
                        return EXCLUDED;
                gave_up = gave_up || ret < 0;
        }
        return gave_up ? EXCLUDE_GAVE_UP : NOT_EXCLUDED;
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
static void allowed_text(const struct digest_record *record, char *out, size_t cap) {
        const uint8_t *p = record->digests;
        size_t used = 0;

        out[0] = '\0';
        if (record->digest_count == 0) {
                snprintf(out, cap, "no digest");
                return;
        }
        for (uint32_t i = 0; i < record->digest_count; i++, p += 1 + p[0]) {
                char hex[2 * IMA_DIGEST_MAX + 1];

                hex_text(p + 1, p[0], hex, sizeof(hex));
                if (used + strlen(hex) + 24 >= cap) {
                        snprintf(out + used, cap - used, "%s(+%u more)", i ? " " : "", record->digest_count - i);
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
        struct digest_record record;
        bool listed = digest_map_find(map, entry->name, entry->name_len, &record);
        enum exclusion excluded;

        /* listed digests first: the common case needs no regex */
        if (listed && digest_record_allows(&record, entry->digest, entry->digest_size))
                return 0;
        excluded = policy_excluded(policy, entry);
        if (excluded == EXCLUDED)
                return 0;
        if (excluded == EXCLUDE_GAVE_UP)
                refusal->reason = listed ? "digest not allowed, and an exclude regex gave up on the name (too costly "
                                           "to match: nothing excluded)"
                                         : "not listed, and an exclude regex gave up on the name (too costly to "
                                           "match: nothing excluded)";
        else if (!listed)
                refusal->reason = map == &policy->digests   ? "not in the runtime policy's digests"
                                  : map == &policy->keyrings ? "a key on a keyring not in the runtime policy's keyrings"
                                                             : "not in the runtime policy's ima-buf";
        else
                refusal->reason = "digest not allowed";
        if (listed)
                allowed_text(&record, refusal->allowed, sizeof(refusal->allowed));
        return policy_refuse(entry, member, refusal);
}

/* Keylime tells a keyring measurement from other ima-buf entries by its buffer: a key (the
 * policy generator sorts a known-good list's entries the same way). */
bool runtime_policy_buffer_is_key(const struct ima_entry *entry) {
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

/* The kernel extends PCR 10 with 0xff bytes for a violation, not with the hash of its data:
 * the line's path and digest could say anything and the replay would still meet the quote.
 * So nothing in the line decides, and the detail does not show the path as if it were the
 * file's. */
static int policy_check_violation(const struct runtime_policy *policy, struct runtime_policy_refusal *refusal) {
        if (policy->allow_violations)
                return 0;
        refusal->reason = "a violation";
        return vm_error(-EPERM, "a violation (a file measured while open for write, or opened for write while "
                                "measured): its path and digest are unsigned text the quote does not cover, so "
                                "none is shown; violations are refused unless the verifier's configuration sets "
                                "ima_violations = allow");
}

void runtime_policy_allow_violations(struct runtime_policy *policy, bool allow) {
        policy->allow_violations = allow;
}

void runtime_policy_prefetch(const struct runtime_policy *policy, const struct ima_entry *entry, bool record) {
        if (entry->template_type != IMA_TEMPLATE_BUF && !entry->violation)
                digest_map_prefetch(&policy->digests, entry->name, entry->name_len, record);
}

int runtime_policy_check(const struct runtime_policy *policy, const struct ima_entry *entry,
                         const uint8_t *boot_aggregate, struct runtime_policy_refusal *refusal) {
        static const char boot_aggregate_name[] = "boot_aggregate";

        refusal->reason = NULL;
        refusal->allowed[0] = '\0';
        if (entry->violation)
                return policy_check_violation(policy, refusal);
        if (entry->template_type == IMA_TEMPLATE_BUF) {
                if (!runtime_policy_buffer_is_key(entry))
                        return policy_check_map(policy, &policy->ima_buf, "ima-buf", entry, refusal);
                struct digest_record record;

                if (policy->ignore_all_keyrings ||
                    digest_map_find(&policy->ignored_keyrings, entry->name, entry->name_len, &record))
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
