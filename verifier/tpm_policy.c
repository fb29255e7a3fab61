#include "verifier/tpm_policy.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"

#define TPM_POLICY_TEXT_MAX (1 << 20)

/* A PCR number spelled one way only: "0"-"23", no sign, space or leading zero. strtoul would
 * also take " 5", "+5", "05" or "5 " for 5, and a policy holding "5" and "05" would then have
 * one list silently replace the other. -1 when `key` is not one. */
static int pcr_from_key(const char *key) {
        size_t len = strlen(key);
        int pcr;

        if (len == 0 || len > 2 || (len == 2 && key[0] == '0'))
                return -1;
        for (size_t i = 0; i < len; i++)
                if (key[i] < '0' || key[i] > '9')
                        return -1;
        pcr = atoi(key);
        return pcr <= 23 ? pcr : -1;
}

static int load_pcr(struct tpm_policy *policy, const char *key, json_object *values, size_t digest_size) {
        int key_pcr = pcr_from_key(key);
        unsigned long pcr = key_pcr < 0 ? 0 : (unsigned long)key_pcr;
        size_t n;

        if (key_pcr < 0)
                return vm_error(-EINVAL, "tpm_policy: \"%.32s\" is not a PCR number (0-23 in decimal, without sign, "
                                         "space or leading zero) nor \"mask\"", key);
        if (pcr == 16)
                return vm_error(-EINVAL, "tpm_policy: PCR 16 holds the agent's payload-key binding and cannot be constrained");
        if (!json_object_is_type(values, json_type_array) || (n = json_object_array_length(values)) == 0 ||
            n > TPM_POLICY_VALUES_MAX)
                return vm_error(-EINVAL, "tpm_policy: PCR %lu needs a list of 1-%d hex values", pcr, TPM_POLICY_VALUES_MAX);
        policy->pcr[pcr].values = calloc(n, sizeof(*policy->pcr[pcr].values));
        if (!policy->pcr[pcr].values)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(values, i);
                const char *hex = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
                size_t size;

                if (!hex || hex_decode(hex, strlen(hex), policy->pcr[pcr].values[i], TPM2_MAX_DIGEST_BUFFER, &size) < 0 ||
                    size != digest_size)
                        return vm_error(-EINVAL, "tpm_policy: PCR %lu value %zu is not a %zu-byte hex digest", pcr, i,
                                        digest_size);
        }
        policy->pcr[pcr].count = (unsigned)n;
        policy->mask |= 1u << pcr;
        return 0;
}

int tpm_policy_load(const char *text, size_t size, TPM2_ALG_ID bank, struct tpm_policy *policy) {
        size_t digest_size = hashalg_size(bank);
        json_tokener *tok;
        json_object *root;
        int ret = 0;

        memset(policy, 0, sizeof(*policy));
        policy->bank = bank;
        if (size > TPM_POLICY_TEXT_MAX)
                return vm_error(-EINVAL, "tpm_policy: larger than %d bytes", TPM_POLICY_TEXT_MAX);
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)size);
        if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != size ||
            !json_object_is_type(root, json_type_object))
                ret = vm_error(-EINVAL, "tpm_policy: not one JSON object");
        json_tokener_free(tok);
        if (ret >= 0) {
                json_object_object_foreach(root, key, value) {
                        if (strcmp(key, "mask") == 0)
                                continue; /* derived from the PCRs listed */
                        ret = load_pcr(policy, key, value, digest_size);
                        if (ret < 0)
                                break;
                }
        }
        json_object_put(root);
        if (ret < 0)
                tpm_policy_done(policy);
        return ret;
}

void tpm_policy_done(struct tpm_policy *policy) {
        for (unsigned i = 0; i < 24; i++)
                free(policy->pcr[i].values);
        memset(policy, 0, sizeof(*policy));
}

int tpm_policy_check(const struct tpm_policy *policy, const struct pcr_values *quoted) {
        return tpm_policy_check_except(policy, quoted, 0);
}

int tpm_policy_check_except(const struct tpm_policy *policy, const struct pcr_values *quoted, uint32_t unchecked) {
        size_t digest_size = hashalg_size(policy->bank);

        for (unsigned pcr = 0; pcr < 24; pcr++) {
                bool allowed = false;

                if (!(policy->mask & ~unchecked & (1u << pcr)))
                        continue;
                if (!(quoted->mask & (1u << pcr)))
                        return vm_error(-EPERM, "PCR %u: not in the quote, but the tpm_policy constrains it", pcr);
                for (unsigned i = 0; i < policy->pcr[pcr].count && !allowed; i++)
                        allowed = quoted->value[pcr].size == digest_size &&
                                  memcmp(quoted->value[pcr].buffer, policy->pcr[pcr].values[i], digest_size) == 0;
                if (!allowed) {
                        char *hex = hex_encode(quoted->value[pcr].buffer, quoted->value[pcr].size);
                        int ret = vm_error(-EPERM, "PCR %u: quoted value %s is none of the %u the tpm_policy allows", pcr,
                                           hex ? hex : "?", policy->pcr[pcr].count);

                        free(hex);
                        return ret;
                }
        }
        return 0;
}

int tpm_policy_text_with_pcr(const char *text, unsigned pcr, const char *hex, char **out) {
        size_t size = strlen(text);
        json_tokener *tok;
        json_object *root, *values;
        char key[4];
        int ret = 0;

        *out = NULL;
        if (size > TPM_POLICY_TEXT_MAX || pcr > 23)
                return vm_error(-EINVAL, "tpm_policy: larger than %d bytes", TPM_POLICY_TEXT_MAX);
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)size);
        if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != size ||
            !json_object_is_type(root, json_type_object))
                ret = vm_error(-EINVAL, "tpm_policy: not one JSON object");
        json_tokener_free(tok);
        if (ret >= 0) {
                json_object *value = json_object_new_string(hex);

                values = json_object_new_array();
                snprintf(key, sizeof(key), "%u", pcr);
                json_object_object_del(root, "mask");
                if (!value || !values || json_object_array_add(values, value) < 0) {
                        json_object_put(value);
                        json_object_put(values);
                        ret = -ENOMEM;
                } else if (json_object_object_add(root, key, values) < 0) {
                        json_object_put(values);
                        ret = -ENOMEM;
                }
        }
        if (ret >= 0 && !(*out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN))))
                ret = -ENOMEM;
        json_object_put(root);
        return ret;
}
