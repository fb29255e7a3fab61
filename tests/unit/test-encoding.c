/* lib/encoding.c: base64 (RFC 4648, standard alphabet, padded) and hex, strict both ways. */
#include "tests/unit/unit.h"

#include "lib/encoding.h"

/* RFC 4648 section 10 */
static const struct {
        const char *plain, *base64, *hex;
} rfc4648[] = {
        { "", "", "" },
        { "f", "Zg==", "66" },
        { "fo", "Zm8=", "666f" },
        { "foo", "Zm9v", "666f6f" },
        { "foob", "Zm9vYg==", "666f6f62" },
        { "fooba", "Zm9vYmE=", "666f6f6261" },
        { "foobar", "Zm9vYmFy", "666f6f626172" },
};

static void test_base64_encode_rfc4648(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(rfc4648); i++) {
                _cleanup_(freep) char *text = base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));

                assert_non_null(text);
                assert_string_equal(text, rfc4648[i].base64);
        }
}

static void test_base64_decode_rfc4648(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(rfc4648); i++) {
                _cleanup_(freep) uint8_t *data = NULL;
                size_t size = 99;

                assert_int_equal(base64_decode(rfc4648[i].base64, strlen(rfc4648[i].base64), &data, &size), 0);
                assert_int_equal(size, strlen(rfc4648[i].plain));
                assert_memory_equal(data, rfc4648[i].plain, size);
                assert_int_equal(data[size], '\0'); /* terminated for convenience */
        }
}

/* Every byte value, at every length 0-300 (all three padding cases, several quads). */
static void test_base64_round_trip_binary(void **state) {
        uint8_t bytes[300];

        for (size_t i = 0; i < sizeof(bytes); i++)
                bytes[i] = (uint8_t)(i * 7 + 3);
        for (size_t len = 0; len <= sizeof(bytes); len++) {
                _cleanup_(freep) char *text = base64_encode(bytes, len);
                _cleanup_(freep) uint8_t *data = NULL;
                size_t size;

                assert_non_null(text);
                assert_int_equal(strlen(text), 4 * ((len + 2) / 3));
                assert_int_equal(base64_decode(text, strlen(text), &data, &size), 0);
                assert_int_equal(size, len);
                if (len)
                        assert_memory_equal(data, bytes, len);
        }
}

/* Decodes exactly `text_len` bytes: a ':' right after the text (as in a quote string) is not
 * part of it. */
static void test_base64_decode_uses_length_not_nul(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        size_t size;

        assert_int_equal(base64_decode("Zm9v:Zm9v", 4, &data, &size), 0);
        assert_int_equal(size, 3);
        assert_memory_equal(data, "foo", 3);
}

/* text and the offset its first bad byte is at, length a multiple of 4 so that it is the
 * alphabet check that has to reject it */
static const struct {
        const char *text;
        size_t len;
        const char *detail;
} base64_invalid[] = {
        { " Zm9", 4, "invalid byte 0x20 at offset 0" },    /* blank */
        { "Zm9 ", 4, "invalid byte 0x20 at offset 3" },
        { "Zm\n9", 4, "invalid byte 0x0a at offset 2" },  /* line break (PEM style) */
        { "Zm9v\r\nAA", 8, "invalid byte 0x0d at offset 4" },
        { "Zm\t9", 4, "invalid byte 0x09 at offset 2" },
        { "-_8A", 4, "invalid byte 0x2d at offset 0" },   /* URL-safe alphabet */
        { "Zm9_", 4, "invalid byte 0x5f at offset 3" },
        { "Zm\0v", 4, "invalid byte 0x00 at offset 2" },  /* NUL inside the length */
        { "Zm\xffv", 4, "invalid byte 0xff at offset 2" },
        { "Zm.v", 4, "invalid byte 0x2e at offset 2" },
        /* misplaced or excess '=' */
        { "a===", 4, "invalid byte 0x3d at offset 1" },
        { "====", 4, "invalid byte 0x3d at offset 0" },
        { "Z=9v", 4, "invalid byte 0x3d at offset 1" },
        { "Zg=a", 4, "invalid byte 0x3d at offset 2" },
        { "Zg==Zg==", 8, "invalid byte 0x3d at offset 2" }, /* pad in the middle */
        { "=Zm9", 4, "invalid byte 0x3d at offset 0" },
};

static void test_base64_rejects_bad_bytes(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(base64_invalid); i++) {
                uint8_t *data = NULL;
                size_t size;

                assert_error(base64_decode(base64_invalid[i].text, base64_invalid[i].len, &data, &size), -EBADMSG,
                             base64_invalid[i].detail);
                assert_null(data); /* nothing allocated on failure */
        }
}

static void test_base64_rejects_bad_length(void **state) {
        static const char *const texts[] = { "Z", "Zm", "Zm9", "Zg=", "Zm9vY", "Zm9v=", "Zg===" };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                uint8_t *data = NULL;
                size_t size;

                assert_error(base64_decode(texts[i], strlen(texts[i]), &data, &size), -EBADMSG,
                             "not a multiple of 4");
                assert_null(data);
        }
}

/* base64url: the URL alphabet, unpadded out; in, padding optional but only where the length
 * needs it, and nothing of the standard alphabet's own */
static void test_base64url(void **state) {
        static const uint8_t bytes[] = { 0xfb, 0xff, 0xbf, 0x61 };
        static const char *const refused[] = { "-_-/YQ", "+_-_YQ", "-_-_Y", "-_-_YQ=", "-_-_Y=Q=", "-_-_YQ===" };
        _cleanup_(freep) char *text = base64url_encode(bytes, sizeof(bytes));
        uint8_t *out = NULL;
        size_t size = 0;

        (void)state;
        assert_string_equal(text, "-_-_YQ");
        assert_int_equal(base64url_decode("-_-_YQ", 6, &out, &size), 0);
        assert_int_equal(size, sizeof(bytes));
        assert_memory_equal(out, bytes, sizeof(bytes));
        free(out);
        assert_int_equal(base64url_decode("-_-_YQ==", 8, &out, &size), 0);
        assert_memory_equal(out, bytes, sizeof(bytes));
        free(out);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                out = NULL;
                if (base64url_decode(refused[i], strlen(refused[i]), &out, &size) != -EBADMSG)
                        fail_msg("\"%s\" was taken as base64url", refused[i]);
                assert_null(out);
        }
}

static void test_hex_encode(void **state) {
        static const uint8_t bytes[] = { 0x00, 0xff, 0x10, 0xab, 0x9c };

        for (size_t i = 0; i < ELEMENTSOF(rfc4648); i++) {
                _cleanup_(freep) char *text = hex_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));

                assert_string_equal(text, rfc4648[i].hex);
        }
        _cleanup_(freep) char *text = hex_encode(bytes, sizeof(bytes));
        assert_string_equal(text, "00ff10ab9c"); /* lower case */
}

static void test_hex_decode(void **state) {
        uint8_t out[8];
        size_t size = 99;

        assert_int_equal(hex_decode("00fF10aB9c", 10, out, sizeof(out), &size), 0);
        assert_int_equal(size, 5);
        assert_memory_equal(out, "\x00\xff\x10\xab\x9c", 5);
        assert_int_equal(hex_decode("", 0, out, 0, &size), 0);
        assert_int_equal(size, 0);
}

static void test_hex_round_trip(void **state) {
        uint8_t bytes[256], out[256];
        size_t size;

        for (size_t i = 0; i < sizeof(bytes); i++)
                bytes[i] = (uint8_t)i;
        _cleanup_(freep) char *text = hex_encode(bytes, sizeof(bytes));
        assert_int_equal(strlen(text), 512);
        assert_int_equal(hex_decode(text, strlen(text), out, sizeof(out), &size), 0);
        assert_int_equal(size, sizeof(bytes));
        assert_memory_equal(out, bytes, sizeof(bytes));
}

static void test_hex_rejects(void **state) {
        uint8_t out[4];
        size_t size;

        assert_error(hex_decode("abc", 3, out, sizeof(out), &size), -EBADMSG, "odd length 3");
        assert_error(hex_decode("0g", 2, out, sizeof(out), &size), -EBADMSG, "invalid digit at offset 1");
        assert_error(hex_decode("g0", 2, out, sizeof(out), &size), -EBADMSG, "invalid digit at offset 0");
        assert_error(hex_decode("00 1", 4, out, sizeof(out), &size), -EBADMSG, "invalid digit at offset 2");
        assert_error(hex_decode("0x10", 4, out, sizeof(out), &size), -EBADMSG, "invalid digit at offset 1");
        assert_error(hex_decode("-1", 2, out, sizeof(out), &size), -EBADMSG, "invalid digit at offset 0");
}

/* A hex string one byte too long for `cap` fails before writing; the canary byte after the
 * capacity stays intact. */
static void test_hex_capacity(void **state) {
        uint8_t out[5];
        size_t size;

        memset(out, 0xa5, sizeof(out));
        assert_error(hex_decode("0011223344", 10, out, 4, &size), -EBADMSG, "5 bytes do not fit in 4");
        assert_int_equal(out[4], 0xa5);
        assert_int_equal(hex_decode("00112233", 8, out, 4, &size), 0);
        assert_int_equal(size, 4);
        assert_int_equal(out[4], 0xa5);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64_encode_rfc4648),
                cmocka_unit_test(test_base64_decode_rfc4648),
                cmocka_unit_test(test_base64_round_trip_binary),
                cmocka_unit_test(test_base64_decode_uses_length_not_nul),
                cmocka_unit_test(test_base64_rejects_bad_bytes),
                cmocka_unit_test(test_base64_rejects_bad_length),
                cmocka_unit_test(test_base64url),
                cmocka_unit_test(test_hex_encode),
                cmocka_unit_test(test_hex_decode),
                cmocka_unit_test(test_hex_round_trip),
                cmocka_unit_test(test_hex_rejects),
                cmocka_unit_test(test_hex_capacity),
        };

        return cmocka_run_group_tests_name("encoding", tests, NULL, NULL);
}
