/* Fuzzes what the agent reads on Azure TDX (agent/azure_imds.h, agent/azure_report.h): the IMDS
 * answer to its TD-quote request (seeds: {"quote": ...} in base64url, padded and not, one the
 * real TDX quote of tests/fixtures/platforms/tdx) and, on the same bytes, the HCL report's type
 * and TDREPORT lookup. Invariants: the answer parses to 0 with a quote of 1-AZURE_TD_QUOTE_MAX
 * bytes, or -EBADMSG with none; the lookup is 1 with the TDREPORT at offset 32 of an input long
 * enough to hold the report type, 0, or -EBADMSG. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "agent/azure_imds.h"
#include "agent/azure_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *tdreport = (const uint8_t *)1;
        uint8_t *quote = (uint8_t *)1;
        size_t quote_size = 1;
        int ret = azure_imds_quote_parse((const char *)data, size, &quote, &quote_size);

        if (ret == 0) {
                if (!quote || quote_size == 0 || quote_size > AZURE_TD_QUOTE_MAX)
                        abort();
                free(quote);
        } else if (ret != -EBADMSG || quote || quote_size) {
                abort();
        }
        ret = azure_report_tdreport(data, size, &tdreport);
        if (ret == 1 && (tdreport != data + AZURE_HCL_HW_REPORT_OFFSET || size < AZURE_HCL_REPORT_TYPE_OFFSET + 4))
                abort();
        if ((ret == 0 || ret == -EBADMSG) && tdreport)
                abort();
        if (ret != 0 && ret != 1 && ret != -EBADMSG)
                abort();
        return 0;
}
