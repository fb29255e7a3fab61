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

#define JSON_DEPTH_MAX 5 /* the policy nests 4 deep (host_classes[].pcrs) */
#define HOST_AK_DIR_MAX 1024
#define INLINE_AKS_MAX 64

#define policy_error(...) vm_error(-EBADMSG, "host policy: " __VA_ARGS__)

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

static int check_members(json_object *obj) {
        static const char *const allowed[] = { "trusted_host_aks_dir", "trusted_host_aks", "bank", "pcrs",
                                               "host_classes", "required", "fresh" };

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

/* `pcrs` ({"N": "hex", ...}) into `values` of `bank`; errors name `what` ("pcrs" or the class). */
static int parse_pcr_values(json_object *pcrs, TPM2_ALG_ID bank, const char *what, struct pcr_values *values) {
        size_t size = hashalg_size(bank);

        values->bank = bank;
        if (!json_object_is_type(pcrs, json_type_object))
                return policy_error("%s is not an object of PCR numbers and hex values", what);
        json_object_object_foreach(pcrs, key, value) {
                char *end;
                unsigned long pcr = strtoul(key, &end, 10);
                size_t decoded;

                if (!key[0] || *end || (key[0] == '0' && key[1]) || pcr > 23)
                        return policy_error("%s: \"%.16s\" is not a PCR number 0-23", what, key);
                if (!json_object_is_type(value, json_type_string) ||
                    (size_t)json_object_get_string_len(value) != 2 * size ||
                    hex_decode(json_object_get_string(value), 2 * size, values->value[pcr].buffer, size,
                               &decoded) < 0 ||
                    decoded != size)
                        return policy_error("%s: PCR %lu is not %zu hex digits (%s)", what, pcr, 2 * size,
                                            hashalg_name(bank));
                values->value[pcr].size = (uint16_t)size;
                values->mask |= 1u << pcr;
        }
        return 0;
}

/* A name is shown in logs and in the status: letters, digits, '.', '_' and '-' only. */
static bool class_name_valid(const char *name) {
        if (!name[0])
                return false;
        for (; *name; name++)
                if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
                      (*name >= '0' && *name <= '9') || *name == '.' || *name == '_' || *name == '-'))
                        return false;
        return true;
}

static int parse_class(json_object *entry, size_t index, TPM2_ALG_ID bank, struct host_policy *policy) {
        struct host_class *class = &policy->classes[index];
        const char *name = NULL;
        json_object *pcrs;
        char what[32 + HOST_CLASS_NAME_MAX];
        int ret;

        if (!json_object_is_type(entry, json_type_object))
                return policy_error("host_classes[%zu] is not an object with a name and pcrs", index);
        json_object_object_foreach(entry, key, value) {
                (void)value;
                if (strcmp(key, "name") != 0 && strcmp(key, "pcrs") != 0)
                        return policy_error("host_classes[%zu]: unknown member \"%.64s\"", index, key);
        }
        if (json_member_string(entry, "name", HOST_CLASS_NAME_MAX, false, &name) < 0 || !class_name_valid(name))
                return policy_error("host_classes[%zu]: name is not 1-%d letters, digits, '.', '_' or '-'", index,
                                    HOST_CLASS_NAME_MAX);
        for (size_t i = 0; i < index; i++)
                if (strcmp(policy->classes[i].name, name) == 0)
                        return policy_error("host_classes[%zu]: the name \"%s\" is given twice", index, name);
        snprintf(class->name, sizeof(class->name), "%s", name);
        snprintf(what, sizeof(what), "host_classes[%zu] (\"%s\"): pcrs", index, name);
        if (!json_object_object_get_ex(entry, "pcrs", &pcrs))
                return policy_error("%s is missing", what);
        if ((ret = parse_pcr_values(pcrs, bank, what, &class->pcrs)) < 0)
                return ret;
        /* a class that fixes nothing would let every trusted host pass, whatever it booted */
        if (!class->pcrs.mask)
                return policy_error("%s is empty: a class fixes at least one host PCR", what);
        return 0;
}

/* "host_classes": [{"name": ..., "pcrs": {...}}, ...], or the older top-level "pcrs" as one
 * unnamed class; neither: no host PCR is fixed. An array, not an object keyed by name: a JSON
 * parser keeps the last of two members of one name, and a class given twice must be refused. */
static int parse_classes(json_object *root, struct host_policy *policy) {
        const char *bank_name = NULL;
        TPM2_ALG_ID bank = TPM2_ALG_SHA256;
        json_object *pcrs, *classes;
        bool has_pcrs = json_object_object_get_ex(root, "pcrs", &pcrs);
        bool has_classes = json_object_object_get_ex(root, "host_classes", &classes);
        size_t n;
        int ret = json_member_string(root, "bank", 16, true, &bank_name);

        if (ret < 0 || (bank_name && (bank = hashalg_from_name(bank_name)) == TPM2_ALG_ERROR) || !hashalg_size(bank))
                return policy_error("bank is not a hash algorithm name (sha256, sha384, sha512)");
        if (has_pcrs && has_classes)
                return policy_error("pcrs and host_classes both given: put the PCRs in a class");
        if (has_pcrs) {
                if (!(policy->classes = calloc(1, sizeof(*policy->classes))))
                        return -ENOMEM;
                policy->class_count = 1;
                return parse_pcr_values(pcrs, bank, "pcrs", &policy->classes[0].pcrs);
        }
        if (!has_classes)
                return 0;
        if (!json_object_is_type(classes, json_type_array))
                return policy_error("host_classes is not an array of classes");
        n = json_object_array_length(classes);
        if (n == 0)
                return policy_error("host_classes is empty: leave it out to fix no host PCR");
        if (n > HOST_CLASSES_MAX)
                return policy_error("host_classes holds %zu classes, more than %d", n, HOST_CLASSES_MAX);
        if (!(policy->classes = calloc(n, sizeof(*policy->classes))))
                return -ENOMEM;
        policy->class_count = n;
        for (size_t i = 0; i < n; i++)
                if ((ret = parse_class(json_object_array_get_idx(classes, i), i, bank, policy)) < 0)
                        return ret;
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
                ret = parse_classes(root, policy);
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
