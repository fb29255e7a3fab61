/* Fuzzes Azure's HCL report parser (verifier/hcl_report.h) and its runtime data JSON
 * (verifier/hcl_runtime_data.h). The input is the NV index's bytes (seeds: the two real reports
 * of tests/fixtures/platforms/azure), or, when it starts with '{', runtime data alone (seed:
 * var-data.bin). Invariants: only 0 or -EBADMSG; a parsed report's hardware report and variable
 * data lie inside the input, at the layout's offsets, with sizes that agree with the header;
 * parsed runtime data has an HCLAkPub key, at most HCL_KEYS_MAX kids, each a distinct string. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/hcl_report.h"
#include "verifier/hcl_runtime_data.h"

static void fuzz_runtime_data(const uint8_t *json, size_t size) {
        struct hcl_runtime_data runtime;
        bool ak = false;
        int ret = hcl_runtime_data_parse(json, size, &runtime);

        if (ret == -EBADMSG) {
                if (runtime.ak_public || runtime.n_keys)
                        abort();
                return;
        }
        if (ret != 0 || !runtime.ak_public || runtime.n_keys == 0 || runtime.n_keys > HCL_KEYS_MAX)
                abort();
        for (size_t i = 0; i < runtime.n_keys; i++) {
                if (strnlen(runtime.kids[i], sizeof(runtime.kids[i])) > HCL_KID_MAX)
                        abort();
                ak |= strcmp(runtime.kids[i], HCL_AK_KID) == 0;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(runtime.kids[i], runtime.kids[j]) == 0)
                                abort();
        }
        if (!ak)
                abort();
        hcl_runtime_data_clear(&runtime);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct hcl_report report;
        int ret;

        if (size > 0 && data[0] == '{') {
                fuzz_runtime_data(data, size);
                return 0;
        }
        ret = hcl_report_parse(data, size, &report);
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
        fuzz_runtime_data(report.var_data, report.var_data_size);
        return 0;
}
