/* The Authenticode digest of a PE image (policy/authenticode.c): small PE32+ and PE32 images built
 * here, whose digests osslsigncode (an independent implementation) computed when it signed the
 * same bytes ("Current message digest" of `osslsigncode verify`). The CheckSum, the Certificate
 * Table entry and the signatures appended at the end are not hashed; sections are hashed in the
 * order of their file offsets, not of the section table. Then images cut short or mutated:
 * -EBADMSG or a digest, nothing read out of bounds (ASan). */
#include "tests/unit/unit.h"

#include <errno.h>

#include "lib/hashalg.h"
#include "policy/authenticode.h"

#define PE_OFFSET 0x80
#define OPT (PE_OFFSET + 24) /* the optional header */
#define HEADERS_SIZE 0x200
#define IMAGE_SIZE 0x640 /* headers, two sections of 0x200, 0x40 bytes after them */
#define CERT_SIZE 0x40

/* osslsigncode 2.9: sign -h sha256 the image of build_pe(), then verify */
static const char pe32_plus_sha256[] = "58c588cc3f8502f103785745cde2bd4c9fcf1f543e94fc36d4d343bc7637ac3f";
static const char pe32_sha256[] = "1d5500f2199fcc98e7304288e32dd013d2bc424a7b42d91bdf8758a3137ff9d9";

struct layout {
        size_t opt_size, rva_count_at, security_at; /* PE32+: 240, 108, 112 + 32; PE32: 224, 92, 96 + 32 */
        uint16_t magic;
};

static const struct layout pe32_plus = { 240, OPT + 108, OPT + 112 + 32, 0x20b };
static const struct layout pe32 = { 224, OPT + 92, OPT + 96 + 32, 0x10b };

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* The image into `pe` (IMAGE_SIZE + CERT_SIZE bytes): every byte a pattern first, then the
 * headers' fields. The section table lists the later section first, and a third without raw
 * data. */
static void build_pe(uint8_t *pe, const struct layout *l) {
        size_t sections = OPT + l->opt_size;

        for (size_t i = 0; i < IMAGE_SIZE + CERT_SIZE; i++)
                pe[i] = (uint8_t)(i * 31 + 7);
        put16(pe, 0x5a4d);
        put32(pe + 0x3c, PE_OFFSET);
        memcpy(pe + PE_OFFSET, "PE\0\0", 4);
        put16(pe + PE_OFFSET + 4, l->magic == 0x20b ? 0x8664 : 0x14c); /* Machine */
        put16(pe + PE_OFFSET + 6, 3);                                   /* NumberOfSections */
        put16(pe + PE_OFFSET + 20, (uint16_t)l->opt_size);              /* SizeOfOptionalHeader */
        put16(pe + OPT, l->magic);
        put32(pe + OPT + 60, HEADERS_SIZE); /* SizeOfHeaders */
        put32(pe + OPT + 64, 0x12345678);   /* CheckSum */
        put32(pe + l->rva_count_at, 16);    /* NumberOfRvaAndSizes */
        put32(pe + l->security_at, 0);      /* no Certificate Table */
        put32(pe + l->security_at + 4, 0);
        put32(pe + sections + 16, 0x200), put32(pe + sections + 20, 0x400);
        put32(pe + sections + 40 + 16, 0x200), put32(pe + sections + 40 + 20, 0x200);
        put32(pe + sections + 80 + 16, 0), put32(pe + sections + 80 + 20, 0x1000);
}

static void hex(const uint8_t *d, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
}

static void assert_digest(const uint8_t *pe, size_t size, const char *expected) {
        uint8_t digest[32];
        char text[65];

        assert_int_equal(authenticode_digest(pe, size, TPM2_ALG_SHA256, digest), 0);
        hex(digest, 32, text);
        assert_string_equal(text, expected);
}

static void test_osslsigncode(void **state) {
        uint8_t pe[IMAGE_SIZE + CERT_SIZE];

        build_pe(pe, &pe32_plus);
        assert_digest(pe, IMAGE_SIZE, pe32_plus_sha256);
        build_pe(pe, &pe32);
        assert_digest(pe, IMAGE_SIZE, pe32_sha256);
}

/* What Authenticode leaves out changes nothing; what it covers changes the digest. */
static void test_what_is_hashed(void **state) {
        uint8_t pe[IMAGE_SIZE + CERT_SIZE], digest[32], other[32];

        /* (the section table of build_pe() lists the later section first: osslsigncode's digest
         * above holds only when they are hashed in file order) */
        build_pe(pe, &pe32_plus);
        put32(pe + OPT + 64, 0xcafef00d); /* another CheckSum */
        assert_digest(pe, IMAGE_SIZE, pe32_plus_sha256);
        /* signed: the Certificate Table's entry and the table at the end */
        put32(pe + pe32_plus.security_at, IMAGE_SIZE);
        put32(pe + pe32_plus.security_at + 4, CERT_SIZE);
        assert_digest(pe, IMAGE_SIZE + CERT_SIZE, pe32_plus_sha256);
        /* a byte of a section, of the headers, of what follows the sections */
        for (size_t at = 0x300; at < IMAGE_SIZE; at += 0x2a0) {
                build_pe(pe, &pe32_plus);
                assert_int_equal(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), 0);
                pe[at] ^= 1;
                assert_int_equal(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, other), 0);
                assert_memory_not_equal(digest, other, 32);
        }
        /* a directory of 4 entries has no Certificate Table entry: the bytes where it would be
         * are headers like any other, hashed */
        build_pe(pe, &pe32_plus);
        put32(pe + pe32_plus.rva_count_at, 4);
        assert_int_equal(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), 0);
        pe[pe32_plus.security_at] ^= 1;
        assert_int_equal(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, other), 0);
        assert_memory_not_equal(digest, other, 32);
        /* other banks */
        build_pe(pe, &pe32_plus);
        assert_int_equal(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA384, digest), 0);
        assert_int_equal(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA512, digest), 0);
}

static void test_not_pe(void **state) {
        uint8_t pe[IMAGE_SIZE + CERT_SIZE], digest[32];
        size_t sections = OPT + pe32_plus.opt_size;

        build_pe(pe, &pe32_plus);
        pe[0] = 'X';
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "no \"MZ\"");
        build_pe(pe, &pe32_plus);
        pe[PE_OFFSET] = 'X';
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "no \"PE\" signature");
        build_pe(pe, &pe32_plus);
        put16(pe + OPT, 0x107);
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "neither PE32 nor PE32+");
        build_pe(pe, &pe32_plus);
        put32(pe + 0x3c, 0xfffffff0);
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "PE signature");
        build_pe(pe, &pe32_plus);
        put32(pe + sections + 20, 0xfffffe00); /* a section past the end */
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "a section's raw data");
        build_pe(pe, &pe32_plus);
        put32(pe + pe32_plus.security_at + 4, 0x1000); /* signatures longer than what follows */
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "Certificate Table");
        build_pe(pe, &pe32_plus);
        put16(pe + PE_OFFSET + 6, 97);
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "97 sections");
        build_pe(pe, &pe32_plus);
        put16(pe + PE_OFFSET + 20, 100); /* the directory entry outside the optional header */
        assert_error(authenticode_digest(pe, IMAGE_SIZE, TPM2_ALG_SHA256, digest), -EBADMSG, "outside the optional header");
        /* every cut of the image: short of the sections' end it is no image; the data after
         * them may be any length */
        build_pe(pe, &pe32_plus);
        for (size_t size = 0; size < IMAGE_SIZE; size++) {
                uint8_t *copy = malloc(size ? size : 1);

                memcpy(copy, pe, size);
                assert_int_equal(authenticode_digest(copy, size, TPM2_ALG_SHA256, digest), size < 0x600 ? -EBADMSG : 0);
                free(copy);
        }
}

static void test_mutated(void **state) {
        uint64_t seed = FUZZ_SEED;
        uint8_t pe[IMAGE_SIZE + CERT_SIZE], digest[64];

        for (int i = 0; i < FUZZ_ITERATIONS; i++) {
                int ret;

                build_pe(pe, i % 2 ? &pe32 : &pe32_plus);
                prng_mutate(&seed, pe, sizeof(pe));
                ret = authenticode_digest(pe, sizeof(pe), TPM2_ALG_SHA512, digest);
                assert_true(ret == 0 || ret == -EBADMSG);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_osslsigncode),
                cmocka_unit_test(test_what_is_hashed),
                cmocka_unit_test(test_not_pe),
                cmocka_unit_test(test_mutated),
        };

        return cmocka_run_group_tests_name("authenticode", tests, NULL, NULL);
}
