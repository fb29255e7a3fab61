#include "verifier/hcl_verify.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"

void hcl_evidence_clear(struct hcl_evidence *evidence) {
        hcl_runtime_data_clear(&evidence->runtime);
        memset(evidence, 0, sizeof(*evidence));
}

static const char *hash_type_name(uint32_t hash_type) {
        switch (hash_type) {
        case HCL_HASH_SHA256:
                return "SHA-256";
        case HCL_HASH_SHA384:
                return "SHA-384";
        case HCL_HASH_SHA512:
                return "SHA-512";
        }
        return "invalid";
}

/* The type is the policy's, not the report's: the report_type field is not signed, and an SNP
 * report's last 160 bytes are zeros, so that one relabelled TDX still parses. The TDREPORT's own
 * type byte is covered by its MAC, which the TDX checks verify through the quote. */
static int check_type(const struct hcl_report *report, const struct hcl_expect *expect) {
        if (report->type != expect->type)
                return vm_error(-EPERM, "HCL report: holds a %s report, the policy expects %s",
                                hcl_report_type_name(report->type), hcl_report_type_name(expect->type));
        /* with a verified TD quote the TDREPORT decides nothing: the quote's body is what counts */
        if (report->type == HCL_REPORT_TDX && !expect->signed_report_data &&
            report->hw_report[0] != HCL_TDREPORT_TYPE_TDX)
                return vm_error(-EPERM, "HCL report: TDREPORT's REPORTTYPE.TYPE is 0x%02x, not 0x%02x (TDX)",
                                report->hw_report[0], HCL_TDREPORT_TYPE_TDX);
        return 0;
}

/* The binding: the hardware signs REPORT_DATA, and REPORT_DATA holds SHA-256(variable data).
 * The hash type field lies outside every signature, so it chooses nothing: anything but the
 * SHA-256 Azure uses is refused, never followed to another hash. */
static int check_binding(const struct hcl_report *report, const uint8_t *signed_report_data) {
        static const uint8_t zeros[HCL_REPORT_DATA_SIZE - SHA256_DIGEST_LENGTH];
        size_t offset = report->type == HCL_REPORT_SNP ? HCL_SNP_REPORT_DATA_OFFSET : HCL_TDX_REPORT_DATA_OFFSET;
        const uint8_t *report_data = signed_report_data ? signed_report_data : report->hw_report + offset;
        const char *where = signed_report_data ? "the TD quote's REPORTDATA" : NULL;
        char name[48];
        uint8_t digest[SHA256_DIGEST_LENGTH];

        if (report->hash_type != HCL_HASH_SHA256)
                return vm_error(-EPERM, "HCL report: report_data_hash_type %u (%s) is not SHA-256, the only one accepted",
                                report->hash_type, hash_type_name(report->hash_type));
        if (!SHA256(report->var_data, report->var_data_size, digest))
                return -ENOMEM;
        if (!where) {
                snprintf(name, sizeof(name), "the %s report's REPORT_DATA", hcl_report_type_name(report->type));
                where = name;
        }
        if (memcmp(report_data, digest, sizeof(digest)) != 0)
                return vm_error(-EPERM, "HCL report: %s does not bind the variable data (SHA-256 differs)", where);
        if (memcmp(report_data + sizeof(digest), zeros, sizeof(zeros)) != 0)
                return vm_error(-EPERM, "HCL report: %s[32:64] is not zero", where);
        return 0;
}

int hcl_verify(const struct hcl_report *report, const struct hcl_expect *expect, struct hcl_evidence *evidence) {
        int ret;

        memset(evidence, 0, sizeof(*evidence));
        if (!expect->ak)
                return vm_error(-EINVAL, "HCL report: no AK to compare HCLAkPub with");
        ret = check_type(report, expect);
        if (ret < 0)
                return ret;
        ret = check_binding(report, expect->signed_report_data);
        if (ret < 0)
                return ret;
        ret = hcl_runtime_data_parse(report->var_data, report->var_data_size, &evidence->runtime);
        if (ret < 0)
                return ret;
        if (EVP_PKEY_eq(evidence->runtime.ak_public, expect->ak) != 1) {
                hcl_evidence_clear(evidence);
                return vm_error(-EPERM, "HCL report: HCLAkPub is not the AK that signs the agent's quotes");
        }
        evidence->type = report->type;
        evidence->hw_report = report->hw_report;
        evidence->hw_report_size = report->hw_report_size;
        return 0;
}
