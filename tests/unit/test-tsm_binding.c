/* lib/tsm_binding: the REPORT_DATA of a hardware report, against values computed here from
 * SHA-512 of the concatenation (and one fixed answer Python's hashlib gave), and the inputs it
 * refuses. */
#include "tests/unit/unit.h"

#include <openssl/sha.h>

#include "lib/tsm_binding.h"

static void name_fill(TPM2B_NAME *name, TPM2_ALG_ID alg, size_t digest_size, uint8_t first) {
        name->size = (UINT16)(2 + digest_size);
        name->name[0] = (uint8_t)(alg >> 8);
        name->name[1] = (uint8_t)alg;
        for (size_t i = 0; i < digest_size; i++)
                name->name[2 + i] = (uint8_t)(first + i);
}

/* The concatenation, spelled out without the module's code. */
static void expected(const char *nonce, const TPM2B_NAME *ak, const TPM2B_NAME *ek, uint8_t out[64]) {
        uint8_t buf[256];
        size_t n = 0;

        memcpy(buf, "vmattest-tsm-report-v1", 22);
        n = 22;
        buf[n++] = 0;
        memcpy(buf + n, nonce, strlen(nonce));
        n += strlen(nonce);
        memcpy(buf + n, ak->name, ak->size);
        n += ak->size;
        memcpy(buf + n, ek->name, ek->size);
        n += ek->size;
        SHA512(buf, n, out);
}

static void test_known_answer(void **state) {
        /* python3: hashlib.sha512(b'vmattest-tsm-report-v1\x00' + b'nonce-1234' + ak + ek) with
         * ak = 000b || 00..1f, ek = 000c || 64..93 */
        static const uint8_t answer[64] = {
                0x6e, 0xcb, 0x50, 0xae, 0xf5, 0xa2, 0x00, 0x66, 0xc1, 0x59, 0xf3, 0x18, 0x8d, 0x8e, 0x36, 0xa1,
                0xc9, 0xd4, 0x34, 0x52, 0x7f, 0xda, 0x7a, 0xf0, 0x55, 0x0a, 0xbe, 0xf1, 0x4d, 0x2f, 0x1f, 0x09,
                0x6b, 0x44, 0xce, 0xdd, 0xa3, 0xf1, 0x39, 0x27, 0x94, 0x62, 0x85, 0xcc, 0x6c, 0xdd, 0x0d, 0x9b,
                0xa2, 0x2c, 0xe4, 0x9f, 0x55, 0x20, 0xc3, 0x67, 0xff, 0x53, 0xf5, 0x1e, 0xc1, 0x31, 0x66, 0x31,
        };
        TPM2B_NAME ak, ek;
        uint8_t out[64], mine[64];

        name_fill(&ak, TPM2_ALG_SHA256, 32, 0);
        name_fill(&ek, TPM2_ALG_SHA384, 48, 100);
        assert_int_equal(tsm_report_binding((const uint8_t *)"nonce-1234", 10, &ak, &ek, out), 0);
        assert_memory_equal(out, answer, sizeof(answer));
        expected("nonce-1234", &ak, &ek, mine);
        assert_memory_equal(out, mine, sizeof(mine));
}

/* Each input changes the bytes: another nonce, AK or EK gives another REPORT_DATA, and the
 * AK and EK are not interchangeable. */
static void test_each_input_counts(void **state) {
        TPM2B_NAME ak, ek, other;
        uint8_t base[64], out[64], mine[64];

        name_fill(&ak, TPM2_ALG_SHA256, 32, 1);
        name_fill(&ek, TPM2_ALG_SHA256, 32, 2);
        name_fill(&other, TPM2_ALG_SHA256, 32, 3);
        assert_int_equal(tsm_report_binding((const uint8_t *)"abc", 3, &ak, &ek, base), 0);
        expected("abc", &ak, &ek, mine);
        assert_memory_equal(base, mine, 64);

        assert_int_equal(tsm_report_binding((const uint8_t *)"abd", 3, &ak, &ek, out), 0);
        assert_memory_not_equal(out, base, 64);
        assert_int_equal(tsm_report_binding((const uint8_t *)"abc", 3, &other, &ek, out), 0);
        assert_memory_not_equal(out, base, 64);
        assert_int_equal(tsm_report_binding((const uint8_t *)"abc", 3, &ak, &other, out), 0);
        assert_memory_not_equal(out, base, 64);
        assert_int_equal(tsm_report_binding((const uint8_t *)"abc", 3, &ek, &ak, out), 0);
        assert_memory_not_equal(out, base, 64);

        /* the longest nonce */
        char nonce[65];
        memset(nonce, 'n', 64);
        nonce[64] = 0;
        assert_int_equal(tsm_report_binding((const uint8_t *)nonce, 64, &ak, &ek, out), 0);
        expected(nonce, &ak, &ek, mine);
        assert_memory_equal(out, mine, 64);
}

static void test_refused(void **state) {
        TPM2B_NAME ak, ek, bad;
        uint8_t out[64];
        char nonce[65];

        memset(nonce, 'n', sizeof(nonce));
        name_fill(&ak, TPM2_ALG_SHA256, 32, 1);
        name_fill(&ek, TPM2_ALG_SHA256, 32, 2);
        assert_error(tsm_report_binding((const uint8_t *)"", 0, &ak, &ek, out), -EINVAL, "nonce is 0 bytes");
        assert_error(tsm_report_binding((const uint8_t *)nonce, 65, &ak, &ek, out), -EINVAL, "nonce is 65 bytes");

        /* a Name cut short, one too long, one of no known hash, an empty one */
        name_fill(&bad, TPM2_ALG_SHA256, 31, 1);
        assert_error(tsm_report_binding((const uint8_t *)"x", 1, &bad, &ek, out), -EINVAL, "AK name is 33 bytes");
        name_fill(&bad, TPM2_ALG_SHA256, 33, 1);
        assert_error(tsm_report_binding((const uint8_t *)"x", 1, &ak, &bad, out), -EINVAL, "EK name is 35 bytes");
        name_fill(&bad, TPM2_ALG_SM3_256, 32, 1);
        assert_error(tsm_report_binding((const uint8_t *)"x", 1, &bad, &ek, out), -EINVAL, "0x0012");
        bad.size = 1;
        assert_error(tsm_report_binding((const uint8_t *)"x", 1, &ak, &bad, out), -EINVAL, "EK name is 1 bytes");
        bad.size = 0;
        assert_error(tsm_report_binding((const uint8_t *)"x", 1, &bad, &ek, out), -EINVAL, "AK name");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_answer),
                cmocka_unit_test(test_each_input_counts),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests_name("tsm_binding", tests, NULL, NULL);
}
