/* Azure's paravisor (HCL) attestation report, as the paravisor of a confidential VM writes it
 * to the vTPM's NV index 0x01400001 (docs/platforms.md): a 32-byte header, the hardware report
 * (an SEV-SNP attestation report or a TDX TDREPORT) in a region of 1184 bytes, the IGVM request
 * data (five u32) and its variable data, the runtime data JSON whose SHA-256 the hardware
 * report carries in its REPORT_DATA. All integers are little-endian.
 *
 * Only the hardware report and, through its REPORT_DATA, the variable data are covered by a
 * signature (or, for TDX, a MAC). Every other field here is the guest's word: the parser only
 * checks that the fields agree with each other and with the layout, and hands them on; what is
 * checked is chosen by hcl_verify.h from the verifier's policy, never from these fields. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HCL_REPORT_NV_INDEX 0x01400001
/* "HCLA" read as a little-endian u32 */
#define HCL_REPORT_SIGNATURE 0x414c4348
#define HCL_HEADER_SIZE 32
/* the hardware report region is as large as the largest hardware report, the SNP one */
#define HCL_HW_REGION_SIZE 1184
#define HCL_SNP_REPORT_SIZE 1184
#define HCL_TDREPORT_SIZE 1024
#define HCL_IGVM_REQUEST_SIZE 20
#define HCL_VAR_DATA_OFFSET (HCL_HEADER_SIZE + HCL_HW_REGION_SIZE + HCL_IGVM_REQUEST_SIZE)
/* The NV index holds a few KiB (2048 and 2600 bytes in the reports seen); anything far larger
 * is not an HCL report. */
#define HCL_REPORT_MAX 16384

/* IGVM request data's report_type: which hardware report the region holds. */
enum hcl_report_type {
        HCL_REPORT_SNP = 2,
        HCL_REPORT_TDX = 4,
};

/* IGVM request data's report_data_hash_type. */
enum hcl_hash_type {
        HCL_HASH_INVALID = 0,
        HCL_HASH_SHA256 = 1,
        HCL_HASH_SHA384 = 2,
        HCL_HASH_SHA512 = 3,
};

struct hcl_report {
        /* header (unsigned) */
        uint32_t version;
        uint32_t report_size; /* header to the end of the variable data */
        uint32_t request_type;
        uint32_t status;
        /* the hardware report, for the SNP or TDX checks to verify: it points into the buffer
         * given to hcl_report_parse() and is as long as a report of `type` */
        enum hcl_report_type type;
        const uint8_t *hw_report;
        size_t hw_report_size;
        /* IGVM request data (unsigned) */
        uint32_t data_size; /* the request data with its variable data */
        uint32_t request_version;
        uint32_t hash_type; /* enum hcl_hash_type, as sent: hcl_verify.h accepts only SHA-256 */
        /* the variable data (runtime data JSON), into the parsed buffer as well */
        const uint8_t *var_data;
        size_t var_data_size;
};

/* Parses `size` bytes read from the NV index. The sizes must agree (report_size, data_size,
 * variable_data_size), the report type must be SNP or TDX, the status 0, the reserved fields
 * and every byte after the report (the NV index's padding) zero. -EBADMSG otherwise, the detail
 * naming the field. `report` points into `data`, which must outlive it. */
int hcl_report_parse(const uint8_t *data, size_t size, struct hcl_report *report);

const char *hcl_report_type_name(enum hcl_report_type type);
