#include "verifier/platform_policy.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/json_member.h"

#define JSON_DEPTH_MAX 4 /* the policy nests 2 deep (min_tcb) */

#define policy_error(...) vm_error(-EBADMSG, "platform policy: " __VA_ARGS__)

static int check_members(json_object *obj, const char *where, const char *const *allowed, size_t n) {
        json_object_object_foreach(obj, key, value) {
                bool known = false;

                (void)value;
                for (size_t i = 0; i < n && !known; i++)
                        known = strcmp(key, allowed[i]) == 0;
                if (!known)
                        return policy_error("%sunknown member \"%.64s\"", where, key);
        }
        return 0;
}

/* Exactly `size` bytes as 2 * size hex digits. */
static int parse_hex(json_object *value, const char *member, uint8_t *out, size_t size) {
        size_t decoded;

        if (!json_object_is_type(value, json_type_string) ||
            (size_t)json_object_get_string_len(value) != 2 * size ||
            hex_decode(json_object_get_string(value), 2 * size, out, size, &decoded) < 0 || decoded != size)
                return policy_error("%s is not %zu hex digits", member, 2 * size);
        return 0;
}

static int parse_bool(json_object *obj, const char *member, bool *out) {
        json_object *value;

        if (!json_object_object_get_ex(obj, member, &value))
                return 0; /* the default the caller set */
        if (!json_object_is_type(value, json_type_boolean))
                return policy_error("%s is not true or false", member);
        *out = json_object_get_boolean(value);
        return 0;
}

/* An integer member in 0..max; absent: the caller's default. */
static int parse_uint(json_object *obj, const char *where, const char *member, uint64_t max, uint64_t *out) {
        json_object *value;
        int64_t v;

        if (!json_object_object_get_ex(obj, member, &value))
                return 0;
        if (!json_object_is_type(value, json_type_int))
                return policy_error("%s%s is not an integer", where, member);
        errno = 0;
        v = json_object_get_int64(value);
        if (errno || v < 0 || (uint64_t)v > max)
                return policy_error("%s%s is not in 0-%llu", where, member, (unsigned long long)max);
        *out = (uint64_t)v;
        return 0;
}

/* A required, non-empty array of 48-byte launch measurements (SNP MEASUREMENT, TDX MRTD) */
static int parse_measurements(json_object *obj, const char *member, uint8_t (**out)[48], size_t *count) {
        json_object *array;
        size_t n;

        if (!json_object_object_get_ex(obj, member, &array))
                return policy_error("missing %s: the launch measurements allowed (48-byte hex digests, as the "
                                    "report shows them)", member);
        if (!json_object_is_type(array, json_type_array))
                return policy_error("%s is not an array", member);
        n = json_object_array_length(array);
        if (n < 1 || n > PLATFORM_MEASUREMENTS_MAX)
                return policy_error("%s holds %zu digests, not 1-%d", member, n, PLATFORM_MEASUREMENTS_MAX);
        *out = calloc(n, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char name[32];
                int ret;

                snprintf(name, sizeof(name), "%s[%zu]", member, i);
                ret = parse_hex(json_object_array_get_idx(array, i), name, (*out)[i], 48);
                if (ret < 0)
                        return ret;
        }
        *count = n;
        return 0;
}

/* An optional hex member of exactly `size` bytes: *set tells whether it was given. */
static int parse_optional_hex(json_object *obj, const char *member, uint8_t *out, size_t size, bool *set) {
        json_object *value;

        *set = json_object_object_get_ex(obj, member, &value);
        return *set ? parse_hex(value, member, out, size) : 0;
}

static int parse_min_tcb(json_object *obj, struct snp_min_tcb *tcb) {
        static const char *const members[] = { "bl", "tee", "snp", "ucode", "fmc" };
        uint8_t *fields[] = { &tcb->bl, &tcb->tee, &tcb->snp, &tcb->ucode, &tcb->fmc };
        json_object *min;
        int ret;

        if (!json_object_object_get_ex(obj, "min_tcb", &min))
                return 0;
        if (!json_object_is_type(min, json_type_object))
                return policy_error("min_tcb is not an object");
        ret = check_members(min, "min_tcb: ", members, ELEMENTSOF(members));
        for (size_t i = 0; ret >= 0 && i < ELEMENTSOF(members); i++) {
                uint64_t v = 0;

                ret = parse_uint(min, "min_tcb.", members[i], UINT8_MAX, &v);
                *fields[i] = (uint8_t)v;
        }
        return ret;
}

static int parse_vmpls(json_object *obj, uint8_t *allowed) {
        json_object *array;
        size_t count;

        if (!json_object_object_get_ex(obj, "vmpls", &array))
                return 0;
        if (!json_object_is_type(array, json_type_array) || (count = json_object_array_length(array)) < 1 || count > 4)
                return policy_error("vmpls is not an array of 1-4 VMPLs (0-3)");
        *allowed = 0;
        for (size_t i = 0; i < count; i++) {
                json_object *item = json_object_array_get_idx(array, i);
                int64_t v = json_object_is_type(item, json_type_int) ? json_object_get_int64(item) : -1;

                if (v < 0 || v > 3)
                        return policy_error("vmpls[%zu] is not a VMPL (0-3)", i);
                *allowed |= (uint8_t)(1u << v);
        }
        return 0;
}

static int parse_sev_snp(json_object *obj, bool svsm, struct platform_policy *policy) {
        static const char *const members[] = { "platform",    "measurements",          "host_data", "allow_debug",
                                               "allow_smt",   "allow_migration_agent", "min_tcb",   "vmpls",
                                               "min_guest_svn" };
        uint64_t svn = 0;
        int ret = check_members(obj, "", members, ELEMENTSOF(members));

        /* the defaults a tenant who writes only the measurements gets: no debugging, no
         * migration agent (it could hand the guest's memory to another host), SMT allowed (a
         * performance choice), the guest at VMPL 0 (no SVSM beneath it), any TCB */
        policy->snp.allow_smt = true;
        policy->snp.allowed_vmpls = 1u << 0;
        if (ret >= 0)
                ret = parse_measurements(obj, "measurements", &policy->snp_measurements,
                                         &policy->snp.measurement_count);
        policy->snp.measurements = (const uint8_t(*)[48])policy->snp_measurements;
        if (ret >= 0)
                ret = parse_optional_hex(obj, "host_data", policy->snp.host_data, sizeof(policy->snp.host_data),
                                         &policy->snp.check_host_data);
        if (ret >= 0)
                ret = parse_bool(obj, "allow_debug", &policy->snp.allow_debug);
        if (ret >= 0)
                ret = parse_bool(obj, "allow_smt", &policy->snp.allow_smt);
        if (ret >= 0)
                ret = parse_bool(obj, "allow_migration_agent", &policy->snp.allow_migration_agent);
        if (ret >= 0)
                ret = parse_min_tcb(obj, &policy->snp.min_tcb);
        if (ret >= 0)
                ret = parse_vmpls(obj, &policy->snp.allowed_vmpls);
        /* The SVSM asks the firmware for its reports at VMPL 0, where only it runs; a report at
         * another VMPL was asked for by the guest above it, which can write any digest as
         * REPORT_DATA and so vouch for any manifest: never the vTPM's word. */
        if (ret >= 0 && svsm && policy->snp.allowed_vmpls != 1u << 0)
                ret = policy_error("vmpls: an SVSM's vTPM report is made at VMPL 0 and only there (one at "
                                   "VMPL 1-3 is the guest's own, which could name any EK)");
        if (ret >= 0)
                ret = parse_uint(obj, "", "min_guest_svn", UINT32_MAX, &svn);
        policy->snp.min_guest_svn = (uint32_t)svn;
        return ret;
}

/* tdx, or azure-tdx (`azure`): the same members but require_cc_event_log, for on Azure the guest
 * serves no CC event log (the TD's RTMRs are the paravisor's), and a policy that asked for one
 * would fail every poll. */
static int parse_tdx(json_object *obj, bool azure, struct platform_policy *policy) {
        static const char *const members[] = { "platform",        "mrtd",       "rtmr0",   "rtmr1",
                                               "rtmr2",           "rtmr3",      "mrconfigid", "mrowner",
                                               "allow_debug",     "min_tee_tcb_svn", "require_cc_event_log" };
        struct tdx_policy *tdx = &policy->tdx;
        int ret;

        if (azure && json_object_object_get_ex(obj, "require_cc_event_log", NULL))
                return policy_error("require_cc_event_log is not an azure-tdx member: an Azure TDX guest serves no "
                                    "CC event log (the TD's RTMRs are the paravisor's)");
        ret = check_members(obj, "", members, ELEMENTSOF(members) - (azure ? 1 : 0));

        if (ret >= 0)
                ret = parse_measurements(obj, "mrtd", &policy->tdx_mrtds, &tdx->mrtd_allowed_count);
        tdx->mrtd_allowed = (const uint8_t(*)[TDX_MR_SIZE])policy->tdx_mrtds;
        for (int i = 0; ret >= 0 && i < TDX_RTMR_COUNT; i++) {
                char member[8];

                snprintf(member, sizeof(member), "rtmr%d", i);
                ret = parse_optional_hex(obj, member, tdx->rtmr[i], TDX_MR_SIZE, &tdx->rtmr_expected[i]);
        }
        if (ret >= 0)
                ret = parse_optional_hex(obj, "mrconfigid", tdx->mrconfigid, TDX_MR_SIZE, &tdx->mrconfigid_expected);
        if (ret >= 0)
                ret = parse_optional_hex(obj, "mrowner", tdx->mrowner, TDX_MR_SIZE, &tdx->mrowner_expected);
        if (ret >= 0)
                ret = parse_bool(obj, "allow_debug", &tdx->allow_debug);
        if (ret >= 0)
                ret = parse_optional_hex(obj, "min_tee_tcb_svn", tdx->min_tee_tcb_svn, sizeof(tdx->min_tee_tcb_svn),
                                         &tdx->min_tee_tcb_svn_set);
        if (ret >= 0)
                ret = parse_bool(obj, "require_cc_event_log", &policy->tdx_require_cc_event_log);
        return ret;
}

int platform_policy_parse(const char *text, size_t size, struct platform_policy **out) {
        _cleanup_(platform_policy_freep) struct platform_policy *policy = calloc(1, sizeof(*policy));
        json_object *obj = NULL;
        const char *platform = NULL;
        int ret;

        *out = NULL;
        if (!policy)
                return -ENOMEM;
        if (size > PLATFORM_POLICY_TEXT_MAX)
                return policy_error("%zu bytes, at most %d", size, PLATFORM_POLICY_TEXT_MAX);
        ret = json_parse_document("platform policy", text, size, JSON_DEPTH_MAX, &obj);
        if (ret >= 0 && !json_object_is_type(obj, json_type_object))
                ret = policy_error("not a JSON object");
        if (ret >= 0 && json_member_string(obj, "platform", 32, false, &platform) < 0)
                ret = policy_error("%s", vm_error_detail(-EBADMSG));
        if (ret >= 0) {
                if (strcmp(platform, "sev-snp") == 0) {
                        policy->kind = PLATFORM_SEV_SNP;
                        ret = parse_sev_snp(obj, false, policy);
                } else if (strcmp(platform, "svsm-sev-snp") == 0) {
                        policy->kind = PLATFORM_SVSM_SEV_SNP;
                        ret = parse_sev_snp(obj, true, policy);
                } else if (strcmp(platform, "tdx") == 0) {
                        policy->kind = PLATFORM_TDX;
                        ret = parse_tdx(obj, false, policy);
                } else if (strcmp(platform, "azure-sev-snp") == 0) {
                        policy->kind = PLATFORM_AZURE_SEV_SNP;
                        ret = parse_sev_snp(obj, false, policy);
                } else if (strcmp(platform, "azure-tdx") == 0) {
                        /* the HCL report's TDREPORT is only MAC'd for its CPU: what is checked is
                         * the TD quote IMDS made of it, under Intel's chain */
                        policy->kind = PLATFORM_AZURE_TDX;
                        ret = parse_tdx(obj, true, policy);
                } else
                        ret = policy_error("platform \"%s\" is not one this verifier checks (sev-snp, svsm-sev-snp, "
                                           "tdx, azure-sev-snp, azure-tdx)", platform);
        }
        json_object_put(obj);
        if (ret < 0)
                return ret;
        *out = TAKE_PTR(policy);
        return 0;
}

void platform_policy_free(struct platform_policy *policy) {
        if (!policy)
                return;
        free(policy->snp_measurements);
        free(policy->tdx_mrtds);
        free(policy);
}

const char *platform_kind_name(enum platform_kind kind) {
        switch (kind) {
        case PLATFORM_SEV_SNP:
                return "sev-snp";
        case PLATFORM_TDX:
                return "tdx";
        case PLATFORM_SVSM_SEV_SNP:
                return "svsm-sev-snp";
        case PLATFORM_AZURE_SEV_SNP:
                return "azure-sev-snp";
        case PLATFORM_AZURE_TDX:
                return "azure-tdx";
        }
        return "unknown";
}
