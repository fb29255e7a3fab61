/* lib/writer.c: appends little- and big-endian fields to a fixed buffer and never writes past it. */
#include "tests/unit/unit.h"

#include "lib/writer.h"

#define CANARY 0xa5

static void test_layout(void **state) {
        static const uint8_t expected[] = { 0x7f, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xde, 0xad, 0, 0, 0 };
        uint8_t buf[sizeof(expected)];
        struct writer w;

        memset(buf, CANARY, sizeof(buf));
        writer_init(&w, buf, sizeof(buf));
        assert_int_equal(writer_u8(&w, 0x7f), 0);
        assert_int_equal(writer_u16le(&w, 0x1234), 0);
        assert_int_equal(writer_u32le(&w, 0x12345678), 0);
        assert_int_equal(writer_bytes(&w, "\xde\xad", 2), 0);
        assert_int_equal(writer_zeros(&w, 3), 0);
        assert_int_equal(w.offset, sizeof(expected));
        assert_false(w.failed);
        assert_memory_equal(buf, expected, sizeof(expected));
}

/* The host binding's fields (lib/host_binding.c) are big-endian; a full buffer fails them too. */
static void test_big_endian(void **state) {
        static const uint8_t expected[] = { 0x12, 0x34, 0x56, 0x4d, 0x48, 0x42 };
        uint8_t buf[sizeof(expected) + 1];
        struct writer w;

        memset(buf, CANARY, sizeof(buf));
        writer_init(&w, buf, sizeof(expected));
        assert_int_equal(writer_u16be(&w, 0x1234), 0);
        assert_int_equal(writer_u32be(&w, 0x564d4842), 0);
        assert_memory_equal(buf, expected, sizeof(expected));
        assert_int_equal(writer_u16be(&w, 1), -ENOBUFS);
        assert_int_equal(writer_u32be(&w, 1), -ENOBUFS);
        assert_int_equal(buf[sizeof(expected)], CANARY);
}

static void test_high_values(void **state) {
        static const uint8_t expected[] = { 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff };
        uint8_t buf[6];
        struct writer w;

        writer_init(&w, buf, sizeof(buf));
        assert_int_equal(writer_u16le(&w, 0xffff), 0);
        assert_int_equal(writer_u32le(&w, 0xfffffffe), 0);
        assert_memory_equal(buf, expected, sizeof(expected));
}

static void test_zero_length(void **state) {
        uint8_t buf[1];
        struct writer w;

        writer_init(&w, buf, 0);
        assert_int_equal(writer_bytes(&w, NULL, 0), 0);
        assert_int_equal(writer_zeros(&w, 0), 0);
        assert_int_equal(w.offset, 0);
        assert_false(w.failed);
}

/* Each write that does not fit fails with -ENOBUFS, writes nothing past the capacity (the
 * canary byte after it) and leaves the writer failed. */
static void test_overflow_each_function(void **state) {
        enum { U8, U16, U32, BYTES, ZEROS, N_FUNCS };
        static const size_t size[N_FUNCS] = { 1, 2, 4, 3, 3 };

        for (unsigned func = 0; func < N_FUNCS; func++) {
                uint8_t buf[16];
                struct writer w;
                int ret = 0;

                memset(buf, CANARY, sizeof(buf));
                /* capacity: 5 bytes written plus one byte fewer than the call needs */
                writer_init(&w, buf, 5 + size[func] - 1);
                assert_int_equal(writer_zeros(&w, 5), 0);
                vm_error_clear();
                switch (func) {
                case U8:
                        ret = writer_u8(&w, 0x11);
                        break;
                case U16:
                        ret = writer_u16le(&w, 0x1111);
                        break;
                case U32:
                        ret = writer_u32le(&w, 0x11111111);
                        break;
                case BYTES:
                        ret = writer_bytes(&w, "\x11\x11\x11", 3);
                        break;
                case ZEROS:
                        ret = writer_zeros(&w, 3);
                        break;
                }
                assert_int_equal(ret, -ENOBUFS);
                assert_detail_contains(ret, "too small");
                assert_true(w.failed);
                assert_int_equal(w.offset, 5);
                for (size_t i = 5; i < sizeof(buf); i++)
                        assert_int_equal(buf[i], CANARY);
        }
}

static void test_exact_fit(void **state) {
        uint8_t buf[7];
        struct writer w;

        writer_init(&w, buf, sizeof(buf));
        assert_int_equal(writer_u32le(&w, 1), 0);
        assert_int_equal(writer_u16le(&w, 2), 0);
        assert_int_equal(writer_u8(&w, 3), 0);
        assert_int_equal(w.offset, sizeof(buf));
        assert_int_equal(writer_zeros(&w, 0), 0);
        assert_int_equal(writer_u8(&w, 4), -ENOBUFS);
}

static void test_failure_is_sticky(void **state) {
        uint8_t buf[8];
        struct writer w;

        writer_init(&w, buf, sizeof(buf));
        assert_int_equal(writer_zeros(&w, 9), -ENOBUFS);
        /* these would fit, but the output is already incomplete */
        assert_int_equal(writer_u8(&w, 1), -ENOBUFS);
        assert_int_equal(writer_bytes(&w, "x", 0), -ENOBUFS);
        assert_int_equal(w.offset, 0);
}

static void test_huge_length(void **state) {
        uint8_t buf[8];
        struct writer w;

        writer_init(&w, buf, sizeof(buf));
        assert_int_equal(writer_u8(&w, 1), 0);
        assert_int_equal(writer_zeros(&w, SIZE_MAX), -ENOBUFS);
        assert_int_equal(w.offset, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_big_endian),
                cmocka_unit_test(test_high_values),
                cmocka_unit_test(test_zero_length),
                cmocka_unit_test(test_overflow_each_function),
                cmocka_unit_test(test_exact_fit),
                cmocka_unit_test(test_failure_is_sticky),
                cmocka_unit_test(test_huge_length),
        };

        return cmocka_run_group_tests_name("writer", tests, NULL, NULL);
}
