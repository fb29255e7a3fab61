/* lib/pcr_values.c: PCR masks (parse, format, TPML_PCR_SELECTION) and the quote's pcrDigest. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "lib/pcr_values.h"

static void test_mask_parse_valid(void **state) {
        static const struct {
                const char *list;
                uint32_t mask;
        } valid[] = {
                { "0,1,16", 0x00010003 },
                { "0-7,16", 0x000100ff },
                { "all", 0x00ffffff }, /* PCRs 0-23 of a PC Client TPM */
                { "16", 0x00010000 },
                { "23", 0x00800000 },
                { "0-23", 0x00ffffff },
                { "3-3", 0x00000008 },
                { "16-23", 0x00ff0000 },
                { "16,0,16", 0x00010001 }, /* order and repeats do not matter */
                { "0-2,1-3", 0x0000000f },
        };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                uint32_t mask = 0xdeadbeef;

                assert_int_equal(pcr_mask_parse(valid[i].list, &mask), 0);
                assert_int_equal(mask, valid[i].mask);
        }
}

static void test_mask_parse_invalid(void **state) {
        static const struct {
                const char *list, *detail;
        } invalid[] = {
                { "", "empty" },
                /* PCRs 24-31 exist only in the pcrblob format, not on PC Client TPMs */
                { "24", "expected a PCR number 0-23" },
                { "31", "expected a PCR number 0-23" },
                { "32", "expected a PCR number 0-23" },
                { "99999999999999999999999", "expected a PCR number" },
                { "7-3", "bad range" },
                { "0-24", "bad range" },
                { "23-24", "bad range" },
                { "3-", "bad range" },
                { "1,,2", "expected a PCR number 0-23 at \",2\"" },
                { "1,", "expected a PCR number" },
                { ",1", "expected a PCR number" },
                { "a", "expected a PCR number" },
                { "1a", "unexpected \"a\"" },
                { "1;2", "unexpected \";\"" },
                { "1-2-3", "unexpected \"-\"" },
                { "0x10", "unexpected \"x\"" },
                { "-1", "expected a PCR number" },
                { "ALL", "expected a PCR number" },
        };

        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                uint32_t mask = 0x12345678;

                assert_error(pcr_mask_parse(invalid[i].list, &mask), -EINVAL, invalid[i].detail);
                assert_int_equal(mask, 0x12345678); /* untouched on failure */
        }
}

static void test_mask_format(void **state) {
        char out[128];

        pcr_mask_format(0x00010003, out, sizeof(out));
        assert_string_equal(out, "0,1,16");
        pcr_mask_format(0, out, sizeof(out));
        assert_string_equal(out, "");
        pcr_mask_format(0x80000000, out, sizeof(out));
        assert_string_equal(out, "31");
        pcr_mask_format(0xffffffff, out, sizeof(out));
        assert_string_equal(out, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,"
                                 "30,31");
}

/* A buffer too small for the list is cut short but stays terminated and is not overrun. */
static void test_mask_format_small_buffer(void **state) {
        char out[8];

        memset(out, 'Z', sizeof(out));
        pcr_mask_format(0x00010003, out, 4);
        assert_string_equal(out, "0,1");
        assert_int_equal(out[4], 'Z');
        memset(out, 'Z', sizeof(out));
        pcr_mask_format(0xffffffff, out, 1);
        assert_string_equal(out, "");
        assert_int_equal(out[1], 'Z');
}

static void test_mask_format_parse_round_trip(void **state) {
        static const uint32_t masks[] = { 1, 0x00010003, 0x000107ff, 0x00ffffff, 0x00aaaaaa, 0x00800001 };

        for (size_t i = 0; i < ELEMENTSOF(masks); i++) {
                char text[128];
                uint32_t mask;

                pcr_mask_format(masks[i], text, sizeof(text));
                assert_int_equal(pcr_mask_parse(text, &mask), 0);
                assert_int_equal(mask, masks[i]);
        }
}

static void test_mask_count(void **state) {
        assert_int_equal(pcr_mask_count(0), 0);
        assert_int_equal(pcr_mask_count(0x00010003), 3);
        assert_int_equal(pcr_mask_count(0x000107ff), 12);
        assert_int_equal(pcr_mask_count(0xffffffff), 32);
}

static void test_selection_three_select_bytes(void **state) {
        TPML_PCR_SELECTION sel;

        memset(&sel, 0xff, sizeof(sel));
        pcr_selection_from_mask(TPM2_ALG_SHA256, 0x00810003, &sel);
        assert_int_equal(sel.count, 1);
        assert_int_equal(sel.pcrSelections[0].hash, TPM2_ALG_SHA256);
        assert_int_equal(sel.pcrSelections[0].sizeofSelect, 3);
        assert_memory_equal(sel.pcrSelections[0].pcrSelect, "\x03\x00\x81\x00", 4);
        /* the unused selections are cleared, not left as they were */
        assert_int_equal(sel.pcrSelections[1].hash, 0);
        assert_int_equal(sel.pcrSelections[1].sizeofSelect, 0);
}

static void test_selection_four_select_bytes(void **state) {
        TPML_PCR_SELECTION sel;

        pcr_selection_from_mask(TPM2_ALG_SHA384, 0x01000001, &sel); /* PCR 24 */
        assert_int_equal(sel.pcrSelections[0].hash, TPM2_ALG_SHA384);
        assert_int_equal(sel.pcrSelections[0].sizeofSelect, 4);
        assert_memory_equal(sel.pcrSelections[0].pcrSelect, "\x01\x00\x00\x01", 4);
        pcr_selection_from_mask(TPM2_ALG_SHA256, 0x80000000, &sel); /* PCR 31 */
        assert_int_equal(sel.pcrSelections[0].sizeofSelect, 4);
        assert_memory_equal(sel.pcrSelections[0].pcrSelect, "\x00\x00\x00\x80", 4);
        pcr_selection_from_mask(TPM2_ALG_SHA256, 0x00ffffff, &sel); /* "all": still 3 */
        assert_int_equal(sel.pcrSelections[0].sizeofSelect, 3);
}

/* Sets each selected PCR of `pcrs` to a distinct value. */
static void fill_values(struct pcr_values *pcrs, TPM2_ALG_ID bank, size_t size, uint32_t mask) {
        memset(pcrs, 0, sizeof(*pcrs));
        pcrs->bank = bank;
        pcrs->mask = mask;
        for (unsigned i = 0; i < PCR_MAX; i++) {
                pcrs->value[i].size = (UINT16)size;
                memset(pcrs->value[i].buffer, 0x10 + i, size);
        }
}

/* The digest is H(value[i] for each selected i, ascending), computed here independently. */
static void expected_digest(const struct pcr_values *pcrs, const EVP_MD *md, uint8_t *out) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
        for (unsigned i = 0; i < PCR_MAX; i++)
                if (pcrs->mask & (1u << i))
                        assert_int_equal(EVP_DigestUpdate(ctx, pcrs->value[i].buffer, pcrs->value[i].size), 1);
        assert_int_equal(EVP_DigestFinal_ex(ctx, out, NULL), 1);
        EVP_MD_CTX_free(ctx);
}

static void test_digest_each_bank(void **state) {
        static const struct {
                TPM2_ALG_ID bank;
                size_t size;
        } banks[] = { { TPM2_ALG_SHA1, 20 }, { TPM2_ALG_SHA256, 32 }, { TPM2_ALG_SHA384, 48 }, { TPM2_ALG_SHA512, 64 } };

        for (size_t b = 0; b < ELEMENTSOF(banks); b++) {
                struct pcr_values pcrs;
                uint8_t got[64], want[64];

                fill_values(&pcrs, banks[b].bank, banks[b].size, 0x80010003);
                assert_int_equal(pcr_values_digest(&pcrs, got), 0);
                expected_digest(&pcrs, EVP_get_digestbynid(b == 0   ? NID_sha1
                                                           : b == 1 ? NID_sha256
                                                           : b == 2 ? NID_sha384
                                                                    : NID_sha512),
                                want);
                assert_memory_equal(got, want, banks[b].size);
        }
}

/* Only selected PCRs count, in ascending order. */
static void test_digest_selection_and_order(void **state) {
        struct pcr_values pcrs, swapped;
        uint8_t a[32], b[32], c[32];

        fill_values(&pcrs, TPM2_ALG_SHA256, 32, 0x00010003);
        assert_int_equal(pcr_values_digest(&pcrs, a), 0);
        /* changing an unselected PCR does not change the digest */
        memset(pcrs.value[5].buffer, 0xee, 32);
        assert_int_equal(pcr_values_digest(&pcrs, b), 0);
        assert_memory_equal(a, b, 32);
        /* swapping two selected values does */
        swapped = pcrs;
        swapped.value[1] = pcrs.value[16];
        swapped.value[16] = pcrs.value[1];
        assert_int_equal(pcr_values_digest(&swapped, c), 0);
        assert_memory_not_equal(a, c, 32);
}

static void test_digest_empty_selection(void **state) {
        /* SHA-256 of nothing */
        static const uint8_t empty_sha256[32] = {
                0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
        };
        struct pcr_values pcrs;
        uint8_t out[32];

        fill_values(&pcrs, TPM2_ALG_SHA256, 32, 0);
        assert_int_equal(pcr_values_digest(&pcrs, out), 0);
        assert_memory_equal(out, empty_sha256, 32);
}

static void test_digest_unsupported_bank(void **state) {
        struct pcr_values pcrs;
        uint8_t out[64];

        fill_values(&pcrs, TPM2_ALG_SM3_256, 32, 1);
        assert_error(pcr_values_digest(&pcrs, out), -EINVAL, "unsupported PCR bank 0x0012");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mask_parse_valid),
                cmocka_unit_test(test_mask_parse_invalid),
                cmocka_unit_test(test_mask_format),
                cmocka_unit_test(test_mask_format_small_buffer),
                cmocka_unit_test(test_mask_format_parse_round_trip),
                cmocka_unit_test(test_mask_count),
                cmocka_unit_test(test_selection_three_select_bytes),
                cmocka_unit_test(test_selection_four_select_bytes),
                cmocka_unit_test(test_digest_each_bank),
                cmocka_unit_test(test_digest_selection_and_order),
                cmocka_unit_test(test_digest_empty_selection),
                cmocka_unit_test(test_digest_unsupported_bank),
        };

        return cmocka_run_group_tests_name("pcr_values", tests, NULL, NULL);
}
