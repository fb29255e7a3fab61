#include "agent/azure_report.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/nv.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/reader.h"

bool azure_report_present(struct tpm *tpm) {
        return tpm_nv_defined(tpm, AZURE_HCL_REPORT_INDEX);
}

/* Whether the report's bytes hold `hex` (the user data as the runtime data's "user-data" spells
 * it, in either case). Only the agent's own wait ends on this: the verifier parses the report
 * and checks the user data itself. */
static bool holds_hex(const uint8_t *report, size_t size, const char *hex) {
        size_t n = strlen(hex);

        for (size_t i = 0; i + n <= size; i++)
                if (strncasecmp((const char *)report + i, hex, n) == 0)
                        return true;
        return false;
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0)
                ;
}

int azure_report_get(struct tpm *tpm, const uint8_t user_data[AZURE_USER_DATA_SIZE], uint8_t **report, size_t *size) {
        _cleanup_(freep) char *hex = hex_encode(user_data, AZURE_USER_DATA_SIZE);
        int ret;

        *report = NULL, *size = 0;
        if (!hex)
                return -ENOMEM;
        ret = tpm_nv_write_owner(tpm, AZURE_USER_DATA_INDEX, user_data, AZURE_USER_DATA_SIZE, "Azure user data");
        if (ret < 0)
                return ret;
        for (long waited = 0;; waited += AZURE_REPORT_POLL_MS) {
                uint8_t *data = NULL;
                size_t data_size = 0;

                ret = tpm_nv_read_all(tpm, AZURE_HCL_REPORT_INDEX, AZURE_HCL_REPORT_MAX, "Azure HCL report", &data,
                                      &data_size);
                if (ret == -ENOENT)
                        return vm_error(-ENODEV, "Azure HCL report NV index 0x%08x: not defined",
                                        AZURE_HCL_REPORT_INDEX);
                if (ret < 0)
                        return ret;
                if (holds_hex(data, data_size, hex)) {
                        *report = data, *size = data_size;
                        return 0;
                }
                free(data);
                if (waited >= AZURE_REPORT_WAIT_MS)
                        return vm_error(-ETIMEDOUT, "Azure HCL report NV index 0x%08x: the paravisor did not put the "
                                                    "user data written to 0x%08x into a new report within %d ms",
                                        AZURE_HCL_REPORT_INDEX, AZURE_USER_DATA_INDEX, AZURE_REPORT_WAIT_MS);
                sleep_ms(AZURE_REPORT_POLL_MS);
        }
}

int azure_report_tdreport(const uint8_t *report, size_t size, const uint8_t **tdreport) {
        struct reader r;
        uint32_t signature, type;

        *tdreport = NULL;
        reader_init(&r, report, size, "Azure HCL report");
        if (reader_u32le(&r, &signature, "header signature") < 0 ||
            reader_skip(&r, AZURE_HCL_REPORT_TYPE_OFFSET - 4, "header and hardware report") < 0 ||
            reader_u32le(&r, &type, "request report_type") < 0)
                return -EBADMSG;
        if (signature != 0x414c4348) /* "HCLA" */
                return vm_error(-EBADMSG, "Azure HCL report: header signature is 0x%08x, not \"HCLA\"", signature);
        if (type == AZURE_HCL_REPORT_TYPE_SNP)
                return 0;
        if (type != AZURE_HCL_REPORT_TYPE_TDX)
                return vm_error(-EBADMSG, "Azure HCL report: report_type %u is neither SEV-SNP (2) nor TDX (4)", type);
        *tdreport = report + AZURE_HCL_HW_REPORT_OFFSET;
        return 1;
}
