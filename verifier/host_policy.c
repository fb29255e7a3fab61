#include "verifier/host_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/host_binding.h"
#include "lib/json_member.h"

#define JSON_DEPTH_MAX 3 /* the policy nests 2 deep (pcrs, trusted_host_aks) */
#define HOST_AK_DIR_MAX 1024
#define INLINE_AKS_MAX 64

#define policy_error(...) vm_error(-EBADMSG, "host policy: " __VA_ARGS__)

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

static int check_members(json_object *obj) {
        static const char *const allowed[] = { "trusted_host_aks_dir", "trusted_host_aks", "bank", "pcrs", "required",
                                              "fresh" };

        json_object_object_foreach(obj, key, value) {
                bool known = false;

                (void)value;
                for (size_t i = 0; i < ELEMENTSOF(allowed) && !known; i++)
                        known = strcmp(key, allowed[i]) == 0;
                if (!known)
                        return policy_error("unknown member \"%.64s\"", key);
        }
        return 0;
}

static int parse_aks(json_object *root, struct host_policy *policy) {
        const char *dir = NULL;
        json_object *array;
        int ret = json_member_string(root, "trusted_host_aks_dir", HOST_AK_DIR_MAX, true, &dir);

        if (ret < 0)
                return policy_error("trusted_host_aks_dir is not a path of at most %d bytes", HOST_AK_DIR_MAX);
        if (dir && (!dir[0] || (ret = host_policy_load_aks(dir, policy)) < 0))
                return dir[0] ? ret : policy_error("trusted_host_aks_dir is empty");
        if (json_object_object_get_ex(root, "trusted_host_aks", &array)) {
                size_t n;

                if (!json_object_is_type(array, json_type_array))
                        return policy_error("trusted_host_aks is not an array of PEM public keys");
                n = json_object_array_length(array);
                if (n > INLINE_AKS_MAX)
                        return policy_error("trusted_host_aks holds %zu keys, more than %d", n, INLINE_AKS_MAX);
                for (size_t i = 0; i < n; i++) {
                        json_object *pem = json_object_array_get_idx(array, i);
                        char what[64];

                        snprintf(what, sizeof(what), "host policy: trusted_host_aks[%zu]", i);
                        if (!json_object_is_type(pem, json_type_string))
                                return policy_error("trusted_host_aks[%zu] is not a string", i);
                        ret = host_policy_add_pem(policy, json_object_get_string(pem),
                                                  (size_t)json_object_get_string_len(pem), what);
                        if (ret < 0)
                                return ret;
                }
        }
        if (policy->trusted_ak_count == 0)
                return policy_error("no trusted host AK: %s%s%s", dir ? "trusted_host_aks_dir " : "",
                                    dir ? dir : "", dir ? " holds no *.pem key (or does not exist)"
                                                        : "give trusted_host_aks_dir or trusted_host_aks");
        return 0;
}

static int parse_pcrs(json_object *root, struct host_policy *policy) {
        const char *bank = NULL;
        json_object *pcrs;
        size_t size;
        int ret = json_member_string(root, "bank", 16, true, &bank);

        policy->pcrs.bank = TPM2_ALG_SHA256;
        if (ret < 0 || (bank && (policy->pcrs.bank = hashalg_from_name(bank)) == TPM2_ALG_ERROR) ||
            !hashalg_size(policy->pcrs.bank))
                return policy_error("bank is not a hash algorithm name (sha256, sha384, sha512)");
        size = hashalg_size(policy->pcrs.bank);
        if (!json_object_object_get_ex(root, "pcrs", &pcrs))
                return 0;
        if (!json_object_is_type(pcrs, json_type_object))
                return policy_error("pcrs is not an object of PCR numbers and hex values");
        json_object_object_foreach(pcrs, key, value) {
                char *end;
                unsigned long pcr = strtoul(key, &end, 10);
                size_t decoded;

                if (!key[0] || *end || (key[0] == '0' && key[1]) || pcr > 23)
                        return policy_error("pcrs: \"%.16s\" is not a PCR number 0-23", key);
                if (!json_object_is_type(value, json_type_string) ||
                    (size_t)json_object_get_string_len(value) != 2 * size ||
                    hex_decode(json_object_get_string(value), 2 * size, policy->pcrs.value[pcr].buffer, size,
                               &decoded) < 0 ||
                    decoded != size)
                        return policy_error("pcrs: PCR %lu is not %zu hex digits (%s)", pcr, 2 * size,
                                            hashalg_name(policy->pcrs.bank));
                policy->pcrs.value[pcr].size = (uint16_t)size;
                policy->pcrs.mask |= 1u << pcr;
        }
        return 0;
}

int host_policy_parse(const char *text, size_t size, struct host_policy **out) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        struct host_policy *policy;
        json_object *required, *fresh;
        int ret;

        *out = NULL;
        if (size > HOST_POLICY_TEXT_MAX)
                return policy_error("%zu bytes, more than %d", size, HOST_POLICY_TEXT_MAX);
        ret = json_parse_document("host policy", text, size, JSON_DEPTH_MAX, &root);
        if (ret < 0)
                return ret;
        if (!json_object_is_type(root, json_type_object))
                return policy_error("not a JSON object");
        if ((ret = check_members(root)) < 0)
                return ret;
        if (!(policy = calloc(1, sizeof(*policy))))
                return -ENOMEM;
        policy->required = true;
        if (json_object_object_get_ex(root, "required", &required)) {
                if (json_object_is_type(required, json_type_boolean))
                        policy->required = json_object_get_boolean(required);
                else
                        ret = policy_error("required is not true or false");
        }
        if (ret >= 0 && json_object_object_get_ex(root, "fresh", &fresh)) {
                if (!json_object_is_type(fresh, json_type_boolean))
                        ret = policy_error("fresh is not true or false");
                else
                        policy->fresh = json_object_get_boolean(fresh);
        }
        /* a fresh binding is asked for every poll: without one there is nothing to check */
        if (ret >= 0 && policy->fresh && !policy->required)
                ret = policy_error("fresh is true and required false: a fresh binding is always required");
        if (ret >= 0)
                ret = parse_pcrs(root, policy);
        if (ret >= 0)
                ret = parse_aks(root, policy);
        if (ret < 0) {
                host_policy_free(policy);
                return ret;
        }
        *out = policy;
        return 0;
}

void host_policy_free(struct host_policy *policy) {
        if (!policy)
                return;
        host_policy_done(policy);
        free(policy);
}
