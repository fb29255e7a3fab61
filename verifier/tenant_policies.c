#include "verifier/tenant_policies.h"

#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/mb_policy.h"
#include "verifier/host_policy.h"
#include "verifier/platform_policy.h"
#include "lib/runtime_policy.h"
#include "verifier/tpm_policy.h"

#define POLICY_FILE_MAX (64u << 20)

/* PCR 9 holds what the kernel's EFI stub measured: the command line and the initrd. */
#define CMDLINE_PCR 9

static int read_policy_file(const char *path, char **text) {
        size_t size;
        int ret = file_read_all(path, POLICY_FILE_MAX, text, &size);

        return ret == -ENOENT ? vm_error(-ENOENT, "%s: no such file", path) : ret;
}

static bool mb_policy_pins(const struct mb_policy *policy, uint32_t pcr) {
        if (policy->pcr_mask & (1u << pcr))
                return true;
        for (size_t i = 0; i < policy->rule_count; i++)
                if (policy->rules[i].pcr == pcr)
                        return true;
        return false;
}

static int load_tpm_policy(const struct verifier_config *config, const struct policy_sources *src, struct policy_texts *out) {
        TPM2_ALG_ID bank = hashalg_from_name(config->tpm_hash_alg);
        const char *label = src->tpm_file ? src->tpm_file : "--tpm-policy";
        struct tpm_policy policy;
        int ret;

        if (src->tpm_file)
                ret = read_policy_file(src->tpm_file, &out->tpm);
        else
                ret = (out->tpm = strdup(src->tpm_json)) ? 0 : -ENOMEM;
        if (ret < 0)
                return ret;
        ret = tpm_policy_load(out->tpm, strlen(out->tpm), bank, &policy);
        if (ret < 0)
                return vm_error(ret, "%s: %s", label, vm_error_detail(ret));
        out->cmdline_pinned = policy.mask & (1u << CMDLINE_PCR) && policy.pcr[CMDLINE_PCR].count > 0;
        tpm_policy_done(&policy);
        return 0;
}

int tenant_policies_load(const struct verifier_config *config, const struct policy_sources *src, struct policy_texts *out) {
        int ret = 0;

        memset(out, 0, sizeof(*out));
        if (src->tpm_file || src->tpm_json)
                ret = load_tpm_policy(config, src, out);
        if (ret >= 0 && src->runtime_file && (ret = read_policy_file(src->runtime_file, &out->runtime)) >= 0) {
                struct runtime_policy *policy = NULL;

                ret = runtime_policy_parse(out->runtime, strlen(out->runtime), &policy);
                runtime_policy_free(policy);
                if (ret < 0)
                        ret = vm_error(ret, "%s: %s", src->runtime_file, vm_error_detail(ret));
        }
        if (ret >= 0 && src->mb_file && (ret = read_policy_file(src->mb_file, &out->mb)) >= 0) {
                struct mb_policy *policy = NULL;

                ret = mb_policy_parse(out->mb, strlen(out->mb), &policy);
                if (ret >= 0 && mb_policy_pins(policy, CMDLINE_PCR))
                        out->cmdline_pinned = true;
                mb_policy_free(policy);
                if (ret < 0)
                        ret = vm_error(ret, "%s: %s", src->mb_file, vm_error_detail(ret));
        }
        if (ret >= 0 && src->platform_file && (ret = read_policy_file(src->platform_file, &out->platform)) >= 0) {
                struct platform_policy *policy = NULL;

                ret = platform_policy_parse(out->platform, strlen(out->platform), &policy);
                platform_policy_free(policy);
                if (ret < 0)
                        ret = vm_error(ret, "%s: %s", src->platform_file, vm_error_detail(ret));
        }
        /* the trusted host AKs are read now too: a directory without one is refused here */
        if (ret >= 0 && src->host_file && (ret = read_policy_file(src->host_file, &out->host)) >= 0) {
                struct host_policy *policy = NULL;

                ret = host_policy_parse(out->host, strlen(out->host), &policy);
                host_policy_free(policy);
                if (ret < 0)
                        ret = vm_error(ret, "%s: %s", src->host_file, vm_error_detail(ret));
        }
        if (ret < 0)
                policy_texts_done(out);
        return ret;
}

void policy_texts_done(struct policy_texts *texts) {
        free(texts->tpm);
        free(texts->runtime);
        free(texts->mb);
        free(texts->platform);
        free(texts->host);
        texts->tpm = texts->runtime = texts->mb = texts->platform = texts->host = NULL;
}

int policy_texts_check_cmdline(const struct policy_texts *texts, bool payload, bool allow_unpinned, const char *tpm_option) {
        if (!payload || texts->cmdline_pinned)
                return 0;
        log_warning("the kernel command line (PCR 9) is not pinned: a command line with rd.shell=1 or rd.break would "
                    "get the key (pin PCR 9 in %s or --mb-policy)",
                    tpm_option);
        if (allow_unpinned)
                return 0;
        return vm_error(-EPERM, "a payload without a policy that pins PCR 9 needs --allow-unpinned-cmdline");
}
