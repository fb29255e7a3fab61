/* Fuzzes Azure's HCL report parser (verifier/hcl_report.h); the input is the NV index's bytes
 * (seeds: the two real reports of tests/fixtures/platforms/azure). Invariants: only 0 or
 * -EBADMSG; a parsed report's hardware report and variable data lie inside the input, at the
 * layout's offsets, with sizes that agree with the header. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "verifier/hcl_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct hcl_report report;
        int ret = hcl_report_parse(data, size, &report);

        if (ret == -EBADMSG)
                return 0;
        if (ret != 0)
                abort();
        if (report.type != HCL_REPORT_SNP && report.type != HCL_REPORT_TDX)
                abort();
        if (report.hw_report != data + HCL_HEADER_SIZE || report.hw_report_size > HCL_HW_REGION_SIZE)
                abort();
        if (report.var_data != data + HCL_VAR_DATA_OFFSET || report.var_data_size > size - HCL_VAR_DATA_OFFSET)
                abort();
        if (report.report_size != HCL_VAR_DATA_OFFSET + report.var_data_size ||
            report.data_size != HCL_IGVM_REQUEST_SIZE + report.var_data_size || report.report_size > size)
                abort();
        return 0;
}
