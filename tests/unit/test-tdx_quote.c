/* verifier/tdx_quote.c on the real TDX quote v4 from a Sapphire Rapids host
 * (tests/fixtures/platforms/tdx, manifest.json): every fact its manifest lists, then hostile
 * variants: cut at every length, random flips, lengths larger and smaller than what follows,
 * and each value that selects the layout set to one the parser does not read. */
#include "tests/unit/unit.h"

#include "lib/encoding.h"
#include "verifier/tdx_quote.h"

#define QUOTE_FILE "tests/fixtures/platforms/tdx/tdx_prod_quote_SPR_E4.dat"

/* Offsets in the real quote (manifest.json's layout note, and the sizes it lists). */
#define SIGNATURE_DATA_LENGTH 0x278
#define SIGNATURE_DATA 0x27c
#define CERT_TYPE (SIGNATURE_DATA + 128)
#define CERT_SIZE (CERT_TYPE + 2)
#define QE_REPORT (CERT_SIZE + 4)
#define QE_AUTH_SIZE (QE_REPORT + 384 + 64)
#define QE_AUTH_DATA (QE_AUTH_SIZE + 2)
#define PCK_TYPE (QE_AUTH_DATA + 32)
#define PCK_SIZE (PCK_TYPE + 2)
#define PCK_PEM (PCK_SIZE + 4)
#define QUOTE_END (SIGNATURE_DATA + 4299) /* then 39 bytes the upstream test appended */

static uint8_t *load(size_t *size) {
        uint8_t *data = read_vector(QUOTE_FILE, size);

        assert_int_equal(*size, 4974);
        return data;
}

static void assert_hex(const uint8_t *value, size_t size, const char *expected) {
        char *text = hex_encode(value, size);

        assert_non_null(text);
        assert_string_equal(text, expected);
        free(text);
}

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void test_real_quote_facts(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load(&size);
        struct tdx_quote q;
        const struct tdx_quote_body *b = &q.body;

        (void)state;
        assert_int_equal(tdx_quote_parse(data, size, &q), 0);
        assert_int_equal(q.version, 4);
        assert_int_equal(q.attestation_key_type, 2);
        assert_int_equal(q.tee_type, 0x81);
        assert_hex(q.qe_vendor_id, 16, "939a7233f79c4ca9940a0db3957f0607");
        assert_hex(q.user_data, 20, "739c3f292a15bace1f726351a70d4b7900000000");
        assert_hex(b->tee_tcb_svn, 16, "03000400000000000000000000000000");
        assert_hex(b->mrseam, 48,
                   "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656");
        assert_hex(b->mrsignerseam, 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(b->seam_attributes, 8, "0000000000000000");
        assert_hex(b->td_attributes, 8, "0000004000000000");
        assert_hex(b->xfam, 8, "e71a060000000000");
        assert_hex(b->mrtd, 48,
                   "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb");
        assert_hex(b->mrconfigid, 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(b->mrowner, 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(b->mrownerconfig, 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(b->rtmr[0], 48,
                   "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a");
        assert_hex(b->rtmr[1], 48,
                   "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61");
        assert_hex(b->rtmr[2], 48,
                   "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e");
        assert_hex(b->rtmr[3], 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(b->report_data, 64,
                   "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6"
                   "f0c87a6d766c66f6f29f8acb281f1113");
        assert_int_equal(q.signature_data_size, 4299);
        assert_int_equal(q.qe_auth_data_size, 32);
        assert_hex(q.qe_report.report_data, 64,
                   "cf1ae2cb769ff1f27ac520344e60905448a48bca6de8f1014c92e5a493d94101"
                   "0000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(q.qe_report.mrsigner, 32, "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
        assert_int_equal(q.qe_report.isv_prod_id, 2);
        assert_int_equal(q.qe_report.isv_svn, 4);
        assert_int_equal(q.trailing_size, 39);

        /* every pointer where the layout puts it */
        assert_ptr_equal(q.signed_region, data);
        assert_ptr_equal(q.quote_signature, data + SIGNATURE_DATA);
        assert_ptr_equal(q.attestation_key, data + SIGNATURE_DATA + 64);
        assert_ptr_equal(q.qe_report_raw, data + QE_REPORT);
        assert_ptr_equal(q.qe_report_signature, data + QE_REPORT + 384);
        assert_ptr_equal(q.qe_auth_data, data + QE_AUTH_DATA);
        assert_ptr_equal(q.pck_chain_pem, data + PCK_PEM);
        assert_int_equal(PCK_PEM + q.pck_chain_size, QUOTE_END);
        assert_memory_equal(q.pck_chain_pem, "-----BEGIN CERTIFICATE-----", 27);

        /* without the appended bytes: nothing trails */
        assert_int_equal(tdx_quote_parse(data, QUOTE_END, &q), 0);
        assert_int_equal(q.trailing_size, 0);
}

static void test_every_truncation(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load(&size);
        struct tdx_quote q;

        (void)state;
        for (size_t len = 0; len < QUOTE_END; len++) {
                /* a copy of exactly len bytes, so that ASan sees any read past it */
                uint8_t *cut = malloc(len ? len : 1);

                assert_non_null(cut);
                memcpy(cut, data, len);
                vm_error_clear();
                assert_int_equal(tdx_quote_parse(cut, len, &q), -EBADMSG);
                assert_detail_contains(-EBADMSG, "TDX quote");
                assert_detail_contains(-EBADMSG, "truncated");
                free(cut);
        }
        assert_error(tdx_quote_parse(data, 100, &q), -EBADMSG, "TDX quote: truncated in MRSEAM at offset 64 (need 48 bytes, 36 left)");
        assert_error(tdx_quote_parse(data, SIGNATURE_DATA + 10, &q), -EBADMSG,
                     "TDX quote: truncated in signature data at offset 636 (need 4299 bytes, 10 left)");
}

static void test_random_flips(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load(&size);
        _cleanup_(freep) uint8_t *mutated = malloc(size);
        uint64_t prng = FUZZ_SEED;
        struct tdx_quote q;

        (void)state;
        assert_non_null(mutated);
        for (int i = 0; i < FUZZ_ITERATIONS; i++) {
                int ret;

                memcpy(mutated, data, size);
                prng_mutate(&prng, mutated, size);
                ret = tdx_quote_parse(mutated, size, &q);
                assert_true(ret == 0 || ret == -EBADMSG);
                if (ret == 0) {
                        assert_true(q.pck_chain_pem >= mutated &&
                                    q.pck_chain_pem + q.pck_chain_size + q.trailing_size == mutated + size);
                        assert_true(q.qe_auth_data + q.qe_auth_data_size <= q.pck_chain_pem);
                }
        }
}

/* A copy of the real quote with the u32 at `offset` changed by `delta`. */
static int parse_with_u32(const uint8_t *data, size_t size, size_t offset, int64_t delta, struct tdx_quote *q) {
        _cleanup_(freep) uint8_t *copy = malloc(size);

        assert_non_null(copy);
        memcpy(copy, data, size);
        put_u32(copy + offset, (uint32_t)((int64_t)get_u32(copy + offset) + delta));
        return tdx_quote_parse(copy, size, q);
}

static void test_lengths(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load(&size);
        struct tdx_quote q;

        (void)state;
        /* the exact quote, so that a longer length has nothing to take */
        size = QUOTE_END;
        assert_error(parse_with_u32(data, size, SIGNATURE_DATA_LENGTH, 1, &q), -EBADMSG,
                     "TDX quote: truncated in signature data");
        assert_error(parse_with_u32(data, size, SIGNATURE_DATA_LENGTH, 0xffffffffll - 4299, &q), -EBADMSG,
                     "TDX quote: truncated in signature data");
        assert_error(parse_with_u32(data, size, SIGNATURE_DATA_LENGTH, -1, &q), -EBADMSG,
                     "TDX quote signature data: truncated in certification data");
        assert_error(parse_with_u32(data, size, CERT_SIZE, 1, &q), -EBADMSG,
                     "TDX quote signature data: truncated in certification data");
        assert_error(parse_with_u32(data, size, CERT_SIZE, -1, &q), -EBADMSG,
                     "TDX quote signature data: 1 unexpected trailing bytes");
        assert_error(parse_with_u32(data, size, PCK_SIZE, 1, &q), -EBADMSG,
                     "TDX QE report certification data: truncated in PCK certificate chain");
        assert_error(parse_with_u32(data, size, PCK_SIZE, -1, &q), -EBADMSG,
                     "TDX QE report certification data: 1 unexpected trailing bytes");
        assert_error(parse_with_u32(data, size, PCK_SIZE, 0x7fffffff, &q), -EBADMSG, "PCK certificate chain");
        /* the QE authentication data's u16 size, larger than what is left, then smaller */
        data[QE_AUTH_SIZE] = 0xff, data[QE_AUTH_SIZE + 1] = 0xff;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG,
                     "TDX QE report certification data: truncated in QE authentication data");
        data[QE_AUTH_SIZE] = 31, data[QE_AUTH_SIZE + 1] = 0;
        assert_int_equal(tdx_quote_parse(data, size, &q), -EBADMSG);
        data[QE_AUTH_SIZE] = 32;
        assert_int_equal(tdx_quote_parse(data, size, &q), 0);
        assert_error(tdx_quote_parse(data, TDX_QUOTE_MAX + 1, &q), -EBADMSG, "more than 65536");
}

static void test_layout_selectors(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *data = load(&size);
        struct tdx_quote q;

        (void)state;
        data[0] = 5;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG, "TDX quote: version 5, only version 4 is read");
        data[0] = 3;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG, "version 3");
        data[0] = 4;
        data[2] = 3;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG, "attestation key type 3, only 2 (ECDSA P-256)");
        data[2] = 2;
        data[4] = 0;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG, "TEE type 0x0 is not TDX");
        data[4] = 0x81;
        data[CERT_TYPE] = 5;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG,
                     "TDX quote signature data: certification data type 5, only 6");
        data[CERT_TYPE] = 6;
        data[PCK_TYPE] = 4;
        assert_error(tdx_quote_parse(data, size, &q), -EBADMSG, "PCK certification data type 4, only 5");
        data[PCK_TYPE] = 5;
        assert_int_equal(tdx_quote_parse(data, size, &q), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_quote_facts),
                cmocka_unit_test(test_every_truncation),
                cmocka_unit_test(test_random_flips),
                cmocka_unit_test(test_lengths),
                cmocka_unit_test(test_layout_selectors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
