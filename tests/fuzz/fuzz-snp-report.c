/* Fuzzes snp_report_parse (verifier/snp_report.h) with raw report bytes; seeds: the real Milan
 * report. Invariants: a parsed report is exactly the input, its version is 2, 3 or 5, its
 * version-dependent fields are present exactly when the version has them, its signing key is
 * one the ABI defines and its reserved policy bits are as the ABI says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/snp_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct snp_report report;
        struct snp_tcb tcb;

        if (snp_report_parse(data, size, &report) < 0)
                return 0;
        if (size != SNP_REPORT_SIZE || memcmp(report.bytes, data, size) != 0)
                abort();
        if (report.version != 2 && report.version != 3 && report.version != 5)
                abort();
        if (report.has_cpuid != (report.version >= 3) || report.has_mit_vectors != (report.version >= 5))
                abort();
        if (report.signing_key != SNP_SIGNING_KEY_VCEK && report.signing_key != SNP_SIGNING_KEY_VLEK &&
            report.signing_key != SNP_SIGNING_KEY_NONE)
                abort();
        if (!(report.policy & SNP_POLICY_RESERVED_ONE) || (report.policy & ~SNP_POLICY_KNOWN_MASK))
                abort();
        for (enum snp_product p = SNP_PRODUCT_UNKNOWN; p <= SNP_PRODUCT_TURIN; p++) {
                snp_tcb_decode(report.reported_tcb, p, &tcb);
                if (tcb.raw != report.reported_tcb || tcb.ucode != (uint8_t)(report.reported_tcb >> 56))
                        abort();
        }
        return 0;
}
