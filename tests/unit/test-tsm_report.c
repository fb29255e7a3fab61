/* agent/tsm_report: the checks of what configfs-tsm's provider gave (REPORT_DATA where each
 * format carries it, the generation's text) against well-formed, truncated, flipped and
 * oversize inputs: a clear error, never a read outside the report. The configfs exchange itself
 * is tests/integration/test-tsm-report.sh's, against the test double. */
#include "tests/unit/unit.h"

#include <openssl/sha.h>

#include "agent/tsm_report.h"

#define SNP_SIZE 0x4a0

static void fill(uint8_t *p, size_t n, uint8_t seed) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(seed + 7 * i);
}

static void test_snp(void **state) {
        uint8_t report[SNP_SIZE + 1], data[64];

        fill(data, sizeof(data), 3);
        memset(report, 0, sizeof(report));
        memcpy(report + 0x50, data, 64);
        assert_int_equal(tsm_report_data_check("sev_guest", report, SNP_SIZE, data, NULL, 0), 0);

        /* every length but the one: refused on its size, REPORT_DATA never read past the end */
        for (size_t n = 0; n <= SNP_SIZE + 1; n++) {
                uint8_t *copy;

                if (n == SNP_SIZE)
                        continue;
                copy = malloc(n ? n : 1); /* exactly n: ASan sees a read past it */
                memcpy(copy, report, n);
                assert_error(tsm_report_data_check("sev_guest", copy, n, data, NULL, 0), -EBADMSG,
                             "SEV-SNP report is");
                free(copy);
        }
        /* a flipped byte of REPORT_DATA, or another request's */
        for (size_t i = 0; i < 64; i++) {
                report[0x50 + i] ^= 0x01;
                assert_error(tsm_report_data_check("sev_guest", report, SNP_SIZE, data, NULL, 0), -EBADMSG,
                             "not the one written to inblob");
                report[0x50 + i] ^= 0x01;
        }
        /* bytes outside REPORT_DATA are the verifier's to judge */
        report[0x90] ^= 0xff;
        assert_int_equal(tsm_report_data_check("sev_guest", report, SNP_SIZE, data, NULL, 0), 0);
}

/* Through an SVSM the report carries SHA-512(ours || manifest), not ours. */
static void test_svsm(void **state) {
        uint8_t report[SNP_SIZE], data[64], manifest[100], both[164];

        fill(data, sizeof(data), 5);
        fill(manifest, sizeof(manifest), 9);
        memcpy(both, data, 64);
        memcpy(both + 64, manifest, sizeof(manifest));
        memset(report, 0, sizeof(report));
        SHA512(both, sizeof(both), report + 0x50);
        assert_int_equal(tsm_report_data_check("sev_guest", report, SNP_SIZE, data, manifest, sizeof(manifest)), 0);
        manifest[99] ^= 1;
        assert_error(tsm_report_data_check("sev_guest", report, SNP_SIZE, data, manifest, sizeof(manifest)), -EBADMSG,
                     "SHA-512 of ours and the manifest");
        manifest[99] ^= 1;
        /* the plain REPORT_DATA is not accepted in its place */
        memcpy(report + 0x50, data, 64);
        assert_error(tsm_report_data_check("sev_guest", report, SNP_SIZE, data, manifest, sizeof(manifest)), -EBADMSG,
                     "manifest");
}

static void test_tdx(void **state) {
        uint8_t quote[1024], data[64];
        size_t v4 = 48 + 520, v5 = 48 + 6 + 520;

        fill(data, sizeof(data), 11);
        memset(quote, 0, sizeof(quote));
        quote[0] = 4;
        memcpy(quote + v4, data, 64);
        assert_int_equal(tsm_report_data_check("tdx_guest", quote, sizeof(quote), data, NULL, 0), 0);
        assert_int_equal(tsm_report_data_check("tdx_guest", quote, v4 + 64, data, NULL, 0), 0);
        for (size_t n = 0; n < v4 + 64; n++)
                assert_error(tsm_report_data_check("tdx_guest", quote, n, data, NULL, 0), -EBADMSG, "TDX quote");
        memset(quote, 0, sizeof(quote));
        quote[0] = 5;
        memcpy(quote + v5, data, 64);
        assert_int_equal(tsm_report_data_check("tdx_guest", quote, sizeof(quote), data, NULL, 0), 0);
        quote[v5] ^= 0x80;
        assert_error(tsm_report_data_check("tdx_guest", quote, sizeof(quote), data, NULL, 0), -EBADMSG, "REPORT_DATA");
        quote[0] = 3;
        assert_error(tsm_report_data_check("tdx_guest", quote, sizeof(quote), data, NULL, 0), -EBADMSG,
                     "version 3 is not 4 or 5");
        quote[0] = 4;
        quote[1] = 1; /* version 0x0104 */
        assert_error(tsm_report_data_check("tdx_guest", quote, sizeof(quote), data, NULL, 0), -EBADMSG,
                     "version 260");
}

/* A provider this agent does not know (svsm's own, a future one): served as it is. */
static void test_other_provider(void **state) {
        uint8_t blob[3] = { 1, 2, 3 }, data[64] = { 0 };

        assert_int_equal(tsm_report_data_check("arm_cca_guest", blob, sizeof(blob), data, NULL, 0), 0);
        assert_int_equal(tsm_report_data_check("", blob, 0, data, NULL, 0), 0);
}

static void test_generation(void **state) {
        uint64_t g;

        assert_int_equal(tsm_generation_parse("0", &g), 0);
        assert_int_equal(g, 0);
        assert_int_equal(tsm_generation_parse("18446744073709551615", &g), 0);
        assert_true(g == UINT64_MAX);
        assert_error(tsm_generation_parse("", &g), -EBADMSG, "not a number");
        assert_error(tsm_generation_parse("-1", &g), -EBADMSG, "not a number");
        assert_error(tsm_generation_parse(" 1", &g), -EBADMSG, "not a number");
        assert_error(tsm_generation_parse("+1", &g), -EBADMSG, "not a number");
        assert_error(tsm_generation_parse("12x", &g), -EBADMSG, "not a number within 64 bits");
        assert_error(tsm_generation_parse("18446744073709551616", &g), -EBADMSG, "within 64 bits");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snp),
                cmocka_unit_test(test_svsm),
                cmocka_unit_test(test_tdx),
                cmocka_unit_test(test_other_provider),
                cmocka_unit_test(test_generation),
        };

        return cmocka_run_group_tests_name("tsm_report", tests, NULL, NULL);
}
