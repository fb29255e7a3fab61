/* verifier/hcl_report.c on the two real HCL reports of tests/fixtures/platforms/azure (an SEV-SNP
 * one and a TDX one, as Azure's paravisor wrote them to NV 0x01400001): every layout fact of
 * their manifest entries, then hostile variants: truncated at every length, every bit of the
 * header and request data flipped, sizes that disagree or point past the end, an unknown report
 * type, non-zero padding. */
#include "tests/unit/unit.h"

#include <openssl/sha.h>

#include "verifier/hcl_report.h"

#define AZURE "tests/fixtures/platforms/azure/"

/* Offsets in the file (manifest: layout_note) */
#define OFF_VERSION 4
#define OFF_REPORT_SIZE 8
#define OFF_STATUS 16
#define OFF_RESERVED 20
#define OFF_REQUEST 1216
#define OFF_DATA_SIZE (OFF_REQUEST + 0)
#define OFF_REPORT_TYPE (OFF_REQUEST + 8)
#define OFF_HASH_TYPE (OFF_REQUEST + 12)
#define OFF_VAR_SIZE (OFF_REQUEST + 16)

static void put_u32le(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32le(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void assert_hex_equal(const uint8_t *bytes, size_t size, const char *hex) {
        char text[2 * 256 + 1];

        assert_true(size <= 256);
        for (size_t i = 0; i < size; i++)
                snprintf(text + 2 * i, 3, "%02x", bytes[i]);
        assert_string_equal(text, hex);
}

static void test_snp_report(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_report report;
        uint8_t digest[SHA256_DIGEST_LENGTH];
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-snp.bin", &size);
        assert_int_equal(size, 2048);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        assert_int_equal(report.version, 1);
        assert_int_equal(report.report_size, 1819);
        assert_int_equal(report.request_type, 2);
        assert_int_equal(report.status, 0);
        assert_int_equal(report.type, HCL_REPORT_SNP);
        assert_string_equal(hcl_report_type_name(report.type), "SEV-SNP");
        assert_ptr_equal(report.hw_report, data + 32);
        assert_int_equal(report.hw_report_size, 1184);
        assert_int_equal(report.data_size, 603);
        assert_int_equal(report.request_version, 1);
        assert_int_equal(report.hash_type, HCL_HASH_SHA256);
        assert_ptr_equal(report.var_data, data + 1236);
        assert_int_equal(report.var_data_size, 583);
        assert_int_equal(size - report.report_size, 229); /* the NV index's zero padding */
        SHA256(report.var_data, report.var_data_size, digest);
        assert_hex_equal(digest, sizeof(digest), "1d0a466a9eed975e88f889f7aed4abc1c97e87c4f43e5e3478c9a4a5853cbd7d");

        /* the SNP report handed on, read at its ABI offsets (AMD SEV-SNP ABI, ATTESTATION_REPORT) */
        assert_int_equal(get_u32le(report.hw_report + 0x00), 2);  /* version */
        assert_int_equal(get_u32le(report.hw_report + 0x04), 2);  /* guest_svn */
        assert_hex_equal(report.hw_report + 0x08, 8, "1f00030000000000"); /* policy 0x3001f */
        assert_int_equal(get_u32le(report.hw_report + 0x30), 0);  /* vmpl */
        assert_int_equal(get_u32le(report.hw_report + 0x34), 1);  /* signature_algo */
        assert_hex_equal(report.hw_report + 0x50, 64,
                         "1d0a466a9eed975e88f889f7aed4abc1c97e87c4f43e5e3478c9a4a5853cbd7d"
                         "0000000000000000000000000000000000000000000000000000000000000000");
        assert_hex_equal(report.hw_report + 0x90, 48,
                         "5a71e4ba7e0b83e44c8e853130a65557db0a7782cdb2d906c54b0bf5878202805ab159bfe0cf7d5749aa6f62b7094508");
        assert_hex_equal(report.hw_report + 0xc0, 32, "0000000000000000000000000000000000000000000000000000000000000000");
        assert_hex_equal(report.hw_report + 0x180, 8, "0300000000000873"); /* reported_tcb 0x7308000000000003 */
        assert_hex_equal(report.hw_report + 0x1a0, 64,
                         "3a5d5b1d059d193e02d8533f1b005833276a4260ec05858590a4f187924e3db9"
                         "a2ec7499ce0ba607a50873b19a3ce093e55baadede2d56144065404f5a1a775a");
}

static void test_tdx_report(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_report report;
        uint8_t digest[SHA256_DIGEST_LENGTH];
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-tdx.bin", &size);
        assert_int_equal(size, 2600);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        assert_int_equal(report.version, 2);
        assert_int_equal(report.report_size, 2438);
        assert_int_equal(report.request_type, 2);
        assert_int_equal(report.status, 0);
        assert_int_equal(report.type, HCL_REPORT_TDX);
        assert_string_equal(hcl_report_type_name(report.type), "TDX");
        assert_ptr_equal(report.hw_report, data + 32);
        assert_int_equal(report.hw_report_size, 1024);
        assert_int_equal(report.data_size, 1222);
        assert_int_equal(report.request_version, 1);
        assert_int_equal(report.hash_type, HCL_HASH_SHA256);
        assert_ptr_equal(report.var_data, data + 1236);
        assert_int_equal(report.var_data_size, 1202);
        assert_int_equal(size - report.report_size, 162);
        SHA256(report.var_data, report.var_data_size, digest);
        assert_hex_equal(digest, sizeof(digest), "e8f0796193ba21d6d43d2ea4bb6e4081ce4920729b348f39099cd2f65ecb6170");

        /* the TDREPORT handed on: REPORTMACSTRUCT's type and reportdata (offset 128), TDINFO's (offset
         * 512) MRTD and RTMRs */
        assert_hex_equal(report.hw_report, 4, "81000000");
        assert_hex_equal(report.hw_report + 128, 64,
                         "e8f0796193ba21d6d43d2ea4bb6e4081ce4920729b348f39099cd2f65ecb6170"
                         "0000000000000000000000000000000000000000000000000000000000000000");
        assert_hex_equal(report.hw_report + 512 + 16, 48,
                         "75f3acc2e1dfc3acf404d7eaa69a2eefcd0475a0dd6516ef5ba3cb83399c61b4aa1c638e3622bb650a514bfc6e858886");
        for (size_t rtmr = 0; rtmr < 4; rtmr++)
                assert_hex_equal(report.hw_report + 512 + 208 + 48 * rtmr, 48,
                                 "000000000000000000000000000000000000000000000000"
                                 "000000000000000000000000000000000000000000000000");
}

/* A copy of a real report, for a test to spoil. */
static uint8_t *copy_of(const char *name, size_t *size) {
        return read_vector(name, size);
}

/* Up to report_size every length is refused, naming the HCL report; from there on the NV
 * index's padding may be shorter or absent and the report is the same. */
static void truncations(const char *name) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_report report;
        size_t size, report_size;

        data = copy_of(name, &size);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        report_size = report.report_size;
        for (size_t len = 0; len < report_size; len++) {
                _cleanup_(freep) uint8_t *cut = malloc(len ? len : 1);

                assert_non_null(cut);
                memcpy(cut, data, len);
                assert_error(hcl_report_parse(cut, len, &report), -EBADMSG, "HCL report: truncated in ");
        }
        for (size_t len = report_size; len <= size; len++) {
                assert_int_equal(hcl_report_parse(data, len, &report), 0);
                assert_int_equal(report.var_data_size, report_size - 1236);
        }
}

static void test_truncated(void **state) {
        (void)state;
        truncations(AZURE "hcl-report-snp.bin");
        truncations(AZURE "hcl-report-tdx.bin");
}

/* Every bit of the header and the request data matters, except the hash type's, which the
 * parser hands on as sent (hcl_verify.c refuses all but SHA-256). */
static void flips(const char *name) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_report report;
        size_t size;

        data = copy_of(name, &size);
        for (size_t offset = 0; offset < 1236; offset++) {
                if (offset == 32)
                        offset = OFF_REQUEST; /* the hardware report: parsed by its own checks */
                for (unsigned bit = 0; bit < 8; bit++) {
                        int ret;

                        data[offset] ^= (uint8_t)(1u << bit);
                        vm_error_clear();
                        ret = hcl_report_parse(data, size, &report);
                        if (offset >= OFF_HASH_TYPE && offset < OFF_HASH_TYPE + 4) {
                                assert_int_equal(ret, 0);
                                assert_int_not_equal(report.hash_type, HCL_HASH_SHA256);
                        } else {
                                if (ret != -EBADMSG)
                                        fail_msg("%s: flipping bit %u of byte %zu was not refused", name, bit, offset);
                                assert_detail_contains(ret, "HCL report: ");
                        }
                        data[offset] ^= (uint8_t)(1u << bit);
                }
        }
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
}

static void test_flipped(void **state) {
        (void)state;
        flips(AZURE "hcl-report-snp.bin");
        flips(AZURE "hcl-report-tdx.bin");
}

static void test_hostile_fields(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_report report;
        size_t size;

        (void)state;
        data = copy_of(AZURE "hcl-report-snp.bin", &size);

        /* a variable data size pointing past the end, with the other sizes made to agree */
        put_u32le(data + OFF_VAR_SIZE, 0x10000);
        put_u32le(data + OFF_DATA_SIZE, 0x10000 + 20);
        put_u32le(data + OFF_REPORT_SIZE, 0x10000 + 1236);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "truncated in variable data");
        /* ... and ones whose sums wrap around in 32 bits */
        put_u32le(data + OFF_VAR_SIZE, 0xfffffff0);
        put_u32le(data + OFF_DATA_SIZE, 4);
        put_u32le(data + OFF_REPORT_SIZE, 1220);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "data_size 4 is not 20 plus variable_data_size");
        put_u32le(data + OFF_VAR_SIZE, 0xffffffe0);
        put_u32le(data + OFF_DATA_SIZE, 0xfffffff4);
        put_u32le(data + OFF_REPORT_SIZE, 1204);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "report_size 1204 is not 1236 plus");
        put_u32le(data + OFF_VAR_SIZE, 583);
        put_u32le(data + OFF_DATA_SIZE, 603);
        put_u32le(data + OFF_REPORT_SIZE, 1819);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);

        /* sizes that agree with each other but leave part of the JSON in the "padding" */
        put_u32le(data + OFF_VAR_SIZE, 582);
        put_u32le(data + OFF_DATA_SIZE, 602);
        put_u32le(data + OFF_REPORT_SIZE, 1818);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "bytes after report_size 1818 are not zero");
        put_u32le(data + OFF_VAR_SIZE, 583);
        put_u32le(data + OFF_DATA_SIZE, 603);
        put_u32le(data + OFF_REPORT_SIZE, 1819);

        for (uint32_t type = 0; type < 16; type++) {
                put_u32le(data + OFF_REPORT_TYPE, type);
                if (type == HCL_REPORT_SNP || type == HCL_REPORT_TDX)
                        continue;
                assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "unknown report_type");
        }
        put_u32le(data + OFF_REPORT_TYPE, HCL_REPORT_SNP);

        put_u32le(data + OFF_VERSION, 3);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "header version 3 is not 1-2");
        put_u32le(data + OFF_VERSION, 1);
        put_u32le(data + OFF_STATUS, 0x80000001);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "request failed");
        put_u32le(data + OFF_STATUS, 0);
        data[OFF_RESERVED + 11] = 1;
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "header reserved bytes are not zero");
        data[OFF_RESERVED + 11] = 0;
        data[size - 1] = 1;
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "the 229 bytes after report_size 1819 are not zero");
        data[size - 1] = 0;
        memcpy(data, "HCLB", 4);
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG, "not \"HCLA\"");
        memcpy(data, "HCLA", 4);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);

        /* an SNP report relabelled TDX parses: the SNP report's last 160 bytes are reserved
         * zeros, so the layout cannot tell; hcl_verify.c takes the type from the policy and
         * checks the TDREPORT's own type byte (test-hcl_verify) */
        put_u32le(data + OFF_REPORT_TYPE, HCL_REPORT_TDX);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        assert_int_equal(report.hw_report_size, 1024);
        /* ... but not one whose last 160 bytes are not zero */
        data[32 + 1024] = 1;
        assert_error(hcl_report_parse(data, size, &report), -EBADMSG,
                     "hardware report region after the 1024-byte TDX report is not zero");
}

static void test_oversize(void **state) {
        _cleanup_(freep) uint8_t *big = calloc(1, HCL_REPORT_MAX + 1);
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_report report;
        size_t size;

        (void)state;
        assert_non_null(big);
        data = copy_of(AZURE "hcl-report-tdx.bin", &size);
        memcpy(big, data, size);
        assert_int_equal(hcl_report_parse(big, HCL_REPORT_MAX, &report), 0);
        assert_error(hcl_report_parse(big, HCL_REPORT_MAX + 1, &report), -EBADMSG, "more than 16384");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snp_report),     cmocka_unit_test(test_tdx_report),
                cmocka_unit_test(test_truncated),      cmocka_unit_test(test_flipped),
                cmocka_unit_test(test_hostile_fields), cmocka_unit_test(test_oversize),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
