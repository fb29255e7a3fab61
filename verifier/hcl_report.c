#include "verifier/hcl_report.h"

#include <stdbool.h>
#include <string.h>

#include "lib/error.h"
#include "lib/reader.h"

/* The header versions and the request data version the paravisor has been seen to write: a
 * layout not seen is refused rather than guessed at. */
#define HCL_HEADER_VERSION_MIN 1
#define HCL_HEADER_VERSION_MAX 2
#define HCL_REQUEST_TYPE 2
#define HCL_REQUEST_VERSION 1

const char *hcl_report_type_name(enum hcl_report_type type) {
        switch (type) {
        case HCL_REPORT_SNP:
                return "SEV-SNP";
        case HCL_REPORT_TDX:
                return "TDX";
        }
        return "unknown";
}

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

static int parse_header(struct reader *r, struct hcl_report *report) {
        const uint8_t *reserved;
        uint32_t signature;

        if (reader_u32le(r, &signature, "header signature") < 0 || reader_u32le(r, &report->version, "header version") < 0 ||
            reader_u32le(r, &report->report_size, "header report_size") < 0 ||
            reader_u32le(r, &report->request_type, "header request_type") < 0 ||
            reader_u32le(r, &report->status, "header status") < 0 || reader_bytes(r, 12, &reserved, "header reserved") < 0)
                return -EBADMSG;
        if (signature != HCL_REPORT_SIGNATURE)
                return reader_invalid(r, "header signature is 0x%08x, not \"HCLA\"", signature);
        if (report->version < HCL_HEADER_VERSION_MIN || report->version > HCL_HEADER_VERSION_MAX)
                return reader_invalid(r, "header version %u is not %d-%d", report->version, HCL_HEADER_VERSION_MIN,
                                      HCL_HEADER_VERSION_MAX);
        if (report->request_type != HCL_REQUEST_TYPE)
                return reader_invalid(r, "header request_type %u is not %d", report->request_type, HCL_REQUEST_TYPE);
        /* a failed request leaves no report worth reading */
        if (report->status != 0)
                return reader_invalid(r, "header status is 0x%08x, not 0 (the paravisor's request failed)", report->status);
        if (!all_zero(reserved, 12))
                return reader_invalid(r, "header reserved bytes are not zero");
        return 0;
}

static int parse_request_data(struct reader *r, struct hcl_report *report) {
        uint32_t report_type, var_data_size;

        if (reader_u32le(r, &report->data_size, "request data_size") < 0 ||
            reader_u32le(r, &report->request_version, "request version") < 0 ||
            reader_u32le(r, &report_type, "request report_type") < 0 ||
            reader_u32le(r, &report->hash_type, "request report_data_hash_type") < 0 ||
            reader_u32le(r, &var_data_size, "request variable_data_size") < 0)
                return -EBADMSG;
        if (report->request_version != HCL_REQUEST_VERSION)
                return reader_invalid(r, "request version %u is not %d", report->request_version, HCL_REQUEST_VERSION);
        if (report_type != HCL_REPORT_SNP && report_type != HCL_REPORT_TDX)
                return reader_invalid(r, "unknown report_type %u (2 is SEV-SNP, 4 is TDX)", report_type);
        report->type = (enum hcl_report_type)report_type;
        if ((uint64_t)report->data_size != (uint64_t)HCL_IGVM_REQUEST_SIZE + var_data_size)
                return reader_invalid(r, "request data_size %u is not %d plus variable_data_size %u", report->data_size,
                                      HCL_IGVM_REQUEST_SIZE, var_data_size);
        if ((uint64_t)report->report_size != (uint64_t)HCL_VAR_DATA_OFFSET + var_data_size)
                return reader_invalid(r, "header report_size %u is not %d plus variable_data_size %u", report->report_size,
                                      HCL_VAR_DATA_OFFSET, var_data_size);
        if (reader_bytes(r, var_data_size, &report->var_data, "variable data") < 0)
                return -EBADMSG;
        report->var_data_size = var_data_size;
        return 0;
}

int hcl_report_parse(const uint8_t *data, size_t size, struct hcl_report *report) {
        const uint8_t *region, *padding;
        size_t padding_size;
        struct reader r;
        int ret;

        memset(report, 0, sizeof(*report));
        if (size > HCL_REPORT_MAX)
                return vm_error(-EBADMSG, "HCL report: %zu bytes, more than %d", size, HCL_REPORT_MAX);
        reader_init(&r, data, size, "HCL report");
        ret = parse_header(&r, report);
        if (ret < 0)
                return ret;
        if (reader_bytes(&r, HCL_HW_REGION_SIZE, &region, "hardware report") < 0)
                return -EBADMSG;
        ret = parse_request_data(&r, report);
        if (ret < 0)
                return ret;
        report->hw_report = region;
        report->hw_report_size = report->type == HCL_REPORT_SNP ? HCL_SNP_REPORT_SIZE : HCL_TDREPORT_SIZE;
        /* nothing but zeros in what no signature covers and no field describes: not in the
         * hardware region after a TDREPORT, not in the NV index after the report */
        if (!all_zero(region + report->hw_report_size, HCL_HW_REGION_SIZE - report->hw_report_size))
                return vm_error(-EBADMSG, "HCL report: hardware report region after the %zu-byte %s report is not zero",
                                report->hw_report_size, hcl_report_type_name(report->type));
        padding_size = reader_left(&r);
        if (reader_bytes(&r, padding_size, &padding, "padding") < 0)
                return -EBADMSG;
        if (!all_zero(padding, padding_size))
                return vm_error(-EBADMSG, "HCL report: the %zu bytes after report_size %u are not zero", padding_size,
                                report->report_size);
        return 0;
}
