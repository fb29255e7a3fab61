/* lib/reader.c: the bounded reader every parser of untrusted bytes goes through. */
#include "tests/unit/unit.h"

#include "lib/reader.h"

static const uint8_t sample[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };

static void test_integers_both_byte_orders(void **state) {
        struct reader r;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;

        reader_init(&r, sample, sizeof(sample), "sample");
        assert_int_equal(reader_u8(&r, &u8, "a"), 0);
        assert_int_equal(u8, 0x01);
        assert_int_equal(reader_u16le(&r, &u16, "b"), 0);
        assert_int_equal(u16, 0x0302);
        assert_int_equal(reader_u16be(&r, &u16, "c"), 0);
        assert_int_equal(u16, 0x0405);
        assert_int_equal(reader_u32le(&r, &u32, "d"), 0);
        assert_int_equal(u32, 0x09080706);
        assert_int_equal(r.offset, 9);
        assert_int_equal(reader_left(&r), 1);

        reader_init(&r, sample, sizeof(sample), "sample");
        assert_int_equal(reader_u32be(&r, &u32, "e"), 0);
        assert_int_equal(u32, 0x01020304);
}

static void test_high_bytes_do_not_sign_extend(void **state) {
        static const uint8_t high[] = { 0xff, 0xfe, 0xfd, 0xfc };
        struct reader r;
        uint16_t u16;
        uint32_t u32;

        reader_init(&r, high, sizeof(high), "high");
        assert_int_equal(reader_u32le(&r, &u32, "x"), 0);
        assert_int_equal(u32, 0xfcfdfeff);
        reader_init(&r, high, sizeof(high), "high");
        assert_int_equal(reader_u32be(&r, &u32, "x"), 0);
        assert_int_equal(u32, 0xfffefdfc);
        reader_init(&r, high, sizeof(high), "high");
        assert_int_equal(reader_u16be(&r, &u16, "x"), 0);
        assert_int_equal(u16, 0xfffe);
}

static void test_bytes_copy_skip(void **state) {
        struct reader r;
        const uint8_t *p;
        uint8_t copy[3];

        reader_init(&r, sample, sizeof(sample), "sample");
        assert_int_equal(reader_bytes(&r, 2, &p, "head"), 0);
        assert_ptr_equal(p, sample); /* points into the buffer, no copy */
        assert_int_equal(reader_skip(&r, 3, "gap"), 0);
        assert_int_equal(reader_copy(&r, copy, sizeof(copy), "body"), 0);
        assert_memory_equal(copy, sample + 5, 3);
        assert_int_equal(reader_bytes(&r, 2, &p, "tail"), 0);
        assert_ptr_equal(p, sample + 8);
        assert_int_equal(reader_left(&r), 0);
        /* zero-length reads at the very end succeed */
        assert_int_equal(reader_bytes(&r, 0, &p, "empty"), 0);
        assert_int_equal(reader_skip(&r, 0, "empty"), 0);
        assert_int_equal(reader_expect_end(&r), 0);
}

/* Every reader function, called with one byte fewer than it needs, fails without moving and
 * names the structure, the field and the offset. */
static void test_each_function_at_end_of_buffer(void **state) {
        enum { U8, U16LE, U32LE, U16BE, U32BE, BYTES, COPY, SKIP, N_FUNCS };
        static const size_t need[N_FUNCS] = { 1, 2, 4, 2, 4, 5, 5, 5 };

        for (unsigned func = 0; func < N_FUNCS; func++) {
                struct reader r;
                const uint8_t *p = sample;
                uint8_t u8, buf[8];
                uint16_t u16;
                uint32_t u32;
                int ret = 0;

                /* 3 bytes consumed, need[func] - 1 left */
                reader_init(&r, sample, 3 + need[func] - 1, "thing");
                assert_int_equal(reader_skip(&r, 3, "prefix"), 0);
                vm_error_clear();
                switch (func) {
                case U8:
                        ret = reader_u8(&r, &u8, "the_field");
                        break;
                case U16LE:
                        ret = reader_u16le(&r, &u16, "the_field");
                        break;
                case U32LE:
                        ret = reader_u32le(&r, &u32, "the_field");
                        break;
                case U16BE:
                        ret = reader_u16be(&r, &u16, "the_field");
                        break;
                case U32BE:
                        ret = reader_u32be(&r, &u32, "the_field");
                        break;
                case BYTES:
                        ret = reader_bytes(&r, 5, &p, "the_field");
                        assert_null(p);
                        break;
                case COPY:
                        ret = reader_copy(&r, buf, 5, "the_field");
                        break;
                case SKIP:
                        ret = reader_skip(&r, 5, "the_field");
                        break;
                }
                assert_int_equal(ret, -EBADMSG);
                assert_true(r.failed);
                assert_int_equal(r.offset, 3);
                assert_detail_contains(ret, "thing");
                assert_detail_contains(ret, "truncated");
                assert_detail_contains(ret, "the_field");
                assert_detail_contains(ret, "offset 3");
        }
}

static void test_detail_gives_need_and_left(void **state) {
        struct reader r;
        uint32_t u32;

        reader_init(&r, sample, 3, "hdr");
        assert_error(reader_u32le(&r, &u32, "count"), -EBADMSG,
                     "hdr: truncated in count at offset 0 (need 4 bytes, 3 left)");
}

static void test_empty_buffer(void **state) {
        struct reader r;
        uint8_t u8;

        reader_init(&r, sample, 0, "empty");
        assert_int_equal(reader_left(&r), 0);
        assert_int_equal(reader_expect_end(&r), 0);
        reader_init(&r, sample, 0, "empty");
        assert_error(reader_u8(&r, &u8, "first"), -EBADMSG, "truncated in first at offset 0");
}

/* A huge length must not wrap the bounds check (offset + n overflowing size_t). */
static void test_huge_length(void **state) {
        struct reader r;
        const uint8_t *p;

        reader_init(&r, sample, sizeof(sample), "huge");
        assert_int_equal(reader_skip(&r, 4, "a"), 0);
        assert_error(reader_bytes(&r, SIZE_MAX, &p, "b"), -EBADMSG, "truncated in b");
        reader_init(&r, sample, sizeof(sample), "huge");
        assert_int_equal(reader_skip(&r, 4, "a"), 0);
        assert_error(reader_skip(&r, SIZE_MAX - 2, "b"), -EBADMSG, "truncated in b");
}

/* After one failure, reads that would fit fail too, so a parser may check once at the end. */
static void test_failure_is_sticky(void **state) {
        struct reader r;
        const uint8_t *p = sample;
        uint8_t u8 = 0x55;
        uint16_t u16;
        uint32_t u32;

        reader_init(&r, sample, sizeof(sample), "sticky");
        assert_int_equal(reader_skip(&r, 8, "a"), 0);
        assert_int_equal(reader_u32le(&r, &u32, "b"), -EBADMSG); /* 2 left */
        assert_int_equal(reader_left(&r), 0);
        assert_int_equal(reader_u8(&r, &u8, "c"), -EBADMSG);
        assert_int_equal(u8, 0x55); /* untouched */
        assert_int_equal(reader_u16le(&r, &u16, "c"), -EBADMSG);
        assert_int_equal(reader_u16be(&r, &u16, "c"), -EBADMSG);
        assert_int_equal(reader_u32be(&r, &u32, "c"), -EBADMSG);
        assert_int_equal(reader_bytes(&r, 0, &p, "c"), -EBADMSG);
        assert_null(p);
        assert_int_equal(reader_copy(&r, &u8, 1, "c"), -EBADMSG);
        assert_int_equal(reader_skip(&r, 0, "c"), -EBADMSG);
        assert_int_equal(reader_expect_end(&r), -EBADMSG);
        assert_int_equal(r.offset, 8);
}

static void test_expect_end(void **state) {
        struct reader r;

        reader_init(&r, sample, sizeof(sample), "blob");
        assert_int_equal(reader_skip(&r, 7, "body"), 0);
        assert_error(reader_expect_end(&r), -EBADMSG, "blob: 3 unexpected trailing bytes at offset 7");
        assert_true(r.failed);
        assert_int_equal(reader_skip(&r, 3, "rest"), -EBADMSG);

        reader_init(&r, sample, sizeof(sample), "blob");
        assert_int_equal(reader_skip(&r, sizeof(sample), "all"), 0);
        assert_int_equal(reader_expect_end(&r), 0);
        assert_false(r.failed);
}

static void test_invalid(void **state) {
        struct reader r;
        uint8_t u8;

        reader_init(&r, sample, sizeof(sample), "pcrblob");
        assert_int_equal(reader_skip(&r, 5, "a"), 0);
        assert_error(reader_invalid(&r, "sizeofSelect %u is not 1-4", 9), -EBADMSG,
                     "pcrblob: sizeofSelect 9 is not 1-4 (at offset 5)");
        assert_true(r.failed);
        assert_int_equal(reader_u8(&r, &u8, "b"), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_integers_both_byte_orders),
                cmocka_unit_test(test_high_bytes_do_not_sign_extend),
                cmocka_unit_test(test_bytes_copy_skip),
                cmocka_unit_test(test_each_function_at_end_of_buffer),
                cmocka_unit_test(test_detail_gives_need_and_left),
                cmocka_unit_test(test_empty_buffer),
                cmocka_unit_test(test_huge_length),
                cmocka_unit_test(test_failure_is_sticky),
                cmocka_unit_test(test_expect_end),
                cmocka_unit_test(test_invalid),
        };

        return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
