/* Fuzzes the tenant's platform policy (verifier/platform_policy.c) on the input as its JSON text.
 * Invariants: the parse returns 0 or -EBADMSG (-ENOMEM aside); a parsed policy names a platform,
 * allows 1-64 measurements (SEV-SNP) or MRTDs (TDX), at least one VMPL and only VMPLs 0-3, and
 * never expects a REPORT_DATA of its own (that is the verifier's per poll). Seeds: a minimal and
 * a full policy of each platform (corpus/platform-policy/). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "verifier/platform_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct platform_policy *policy = NULL;
        int ret = platform_policy_parse((const char *)data, size, &policy);

        if (ret < 0) {
                if ((ret != -EBADMSG && ret != -ENOMEM) || policy)
                        abort();
                return 0;
        }
        switch (policy->kind) {
        case PLATFORM_SEV_SNP:
        case PLATFORM_AZURE_SEV_SNP:
                if (policy->snp.measurement_count < 1 || policy->snp.measurement_count > PLATFORM_MEASUREMENTS_MAX ||
                    !policy->snp.measurements || policy->snp.report_data || policy->snp.allowed_vmpls == 0 ||
                    policy->snp.allowed_vmpls > 0xf)
                        abort();
                break;
        case PLATFORM_SVSM_SEV_SNP:
                /* the SVSM's reports are made at VMPL 0: no other is ever allowed */
                if (policy->snp.measurement_count < 1 || !policy->snp.measurements || policy->snp.report_data ||
                    policy->snp.allowed_vmpls != 1)
                        abort();
                break;
        case PLATFORM_TDX:
                if (policy->tdx.mrtd_allowed_count < 1 || policy->tdx.mrtd_allowed_count > PLATFORM_MEASUREMENTS_MAX ||
                    !policy->tdx.mrtd_allowed)
                        abort();
                break;
        default:
                abort();
        }
        platform_policy_free(policy);
        return 0;
}
