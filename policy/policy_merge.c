#include "policy/policy_merge.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/runtime_policy.h"

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

static TPM2_ALG_ID alg_by_hex_length(size_t len) {
        switch (len) {
        case 40:
                return TPM2_ALG_SHA1;
        case 64: /* or SM3-256, which vmattest does not hash */
                return TPM2_ALG_SHA256;
        case 96:
                return TPM2_ALG_SHA384;
        case 128:
                return TPM2_ALG_SHA512;
        }
        return TPM2_ALG_ERROR;
}

/* {"name": ["hex", ...], ...} into `set`; `member` names it in errors */
static int read_digest_map(json_object *policy, const char *member, struct name_set *set, TPM2_ALG_ID *first_alg) {
        json_object *map;

        if (!json_object_object_get_ex(policy, member, &map) || !json_object_is_type(map, json_type_object))
                return 0;
        json_object_object_foreach(map, name, list) {
                size_t count = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

                for (size_t i = 0; i < count; i++) {
                        json_object *item = json_object_array_get_idx(list, i);
                        const char *hex = json_object_get_string(item);
                        size_t hex_len = (size_t)json_object_get_string_len(item);
                        int ret;

                        if (first_alg && *first_alg == TPM2_ALG_NULL)
                                *first_alg = alg_by_hex_length(hex_len);
                        ret = name_set_add_hex(set, name, strlen(name), hex, hex_len);
                        if (ret < 0)
                                return vm_error(ret, "%s[\"%.200s\"][%zu]: %s", member, name, i, vm_error_detail(ret));
                }
        }
        return 0;
}

static int read_string_list(json_object *parent, const char *member, const char *shown, struct string_set *set) {
        json_object *list;
        size_t count;

        if (!json_object_object_get_ex(parent, member, &list) || !json_object_is_type(list, json_type_array))
                return 0;
        count = json_object_array_length(list);
        for (size_t i = 0; i < count; i++) {
                json_object *item = json_object_array_get_idx(list, i);
                int ret;

                if (!json_object_is_type(item, json_type_string))
                        return vm_error(-EBADMSG, "%s[%zu] is not a string", shown, i);
                ret = string_set_add(set, json_object_get_string(item), (size_t)json_object_get_string_len(item));
                if (ret < 0)
                        return vm_error(ret, "%s[%zu]: %s", shown, i, vm_error_detail(ret));
        }
        return 0;
}

static int read_string(json_object *parent, const char *member, char **out) {
        json_object *value;

        if (!json_object_object_get_ex(parent, member, &value) || !json_object_is_type(value, json_type_string))
                return 0;
        *out = strdup(json_object_get_string(value));
        return *out ? 0 : -ENOMEM;
}

static int read_members(json_object *obj, struct runtime_policy_doc *doc, struct merged_policy *merged) {
        json_object *ima = NULL;
        int ret;

        merged->digest_alg = TPM2_ALG_NULL;
        ret = read_digest_map(obj, "digests", &doc->digests, &merged->digest_alg);
        if (ret >= 0)
                ret = read_digest_map(obj, "keyrings", &doc->keyrings, NULL);
        if (ret >= 0)
                ret = read_digest_map(obj, "ima-buf", &doc->ima_buf, NULL);
        if (ret >= 0)
                ret = read_string_list(obj, "excludes", "excludes", &doc->excludes);
        if (ret >= 0 && json_object_object_get_ex(obj, "ima", &ima) && json_object_is_type(ima, json_type_object)) {
                ret = read_string_list(ima, "ignored_keyrings", "ima.ignored_keyrings", &doc->ignored_keyrings);
                if (ret >= 0)
                        ret = read_string(ima, "log_hash_alg", &merged->log_hash_alg);
        }
        if (ret >= 0)
                ret = read_string(obj, "verification-keys", &merged->verification_keys);
        return ret;
}

int policy_merge_read(const char *path, struct runtime_policy_doc *doc, struct merged_policy *merged) {
        _cleanup_(freep) char *text = NULL;
        _cleanup_(json_object_putp) json_object *obj = NULL;
        struct runtime_policy *checked = NULL;
        size_t size;
        int ret;

        memset(merged, 0, sizeof(*merged));
        ret = file_read_all(path, RUNTIME_POLICY_TEXT_MAX, &text, &size);
        if (ret == -ENOENT)
                return vm_error(-ENOENT, "%s: no such file", path);
        if (ret < 0)
                return ret;
        ret = runtime_policy_parse(text, size, &checked);
        runtime_policy_free(checked);
        if (ret < 0)
                return vm_error(ret, "%s: %s", path, vm_error_detail(ret));
        obj = json_tokener_parse(text);
        if (!obj)
                return vm_error(-EBADMSG, "%s: not JSON", path);
        ret = read_members(obj, doc, merged);
        if (ret < 0)
                return vm_error(ret, "%s: %s", path, vm_error_detail(ret));
        return 0;
}

void merged_policy_done(struct merged_policy *merged) {
        free(merged->log_hash_alg);
        free(merged->verification_keys);
        memset(merged, 0, sizeof(*merged));
}
