/* lib/pcrblob.c: tpm2-tools' serialized PCR file (docs/protocol.md §2), against what tpm2_quote -o
 * wrote (tests/unit/vectors/quote.pcrs: 12 PCRs in two TPML_DIGEST lists; quote3.pcrs: 3 PCRs), and
 * against hostile input. */
#include "tests/unit/unit.h"

#include "lib/pcrblob.h"

/* Offsets in the blob (docs/protocol.md §2): u32 count, 16 x 8-byte selections, u32 N, N x 532-byte
 * lists. */
#define OFF_SELECTION_COUNT 0
#define OFF_HASH 4
#define OFF_SIZEOF_SELECT 6
#define OFF_PCR_SELECT 7
#define OFF_SELECTION_PAD 11
#define OFF_SELECTION_SLOT(s) (4 + 8 * (s))
#define OFF_LIST_COUNT 132
#define OFF_LIST(l) (136 + PCRBLOB_DIGEST_LIST_SIZE * (l))
#define OFF_DIGEST(l, d) (OFF_LIST(l) + 4 + 66 * (d)) /* its u16 size; the 64-byte buffer follows */

#define QUOTE_MASK 0x000107ff  /* sha256:0-10,16, see make-vectors.sh */
#define QUOTE3_MASK 0x00010003 /* sha256:0,1,16 */

struct vector {
        uint8_t blob[PCRBLOB_MAX_SIZE];
        size_t size;
        struct pcr_values expected; /* as tpm2_pcrread printed them */
};

static void put_u16le(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put_u32le(uint8_t *p, uint32_t v) {
        put_u16le(p, (uint16_t)v);
        put_u16le(p + 2, (uint16_t)(v >> 16));
}

static void load(struct vector *v, const char *path, uint32_t mask) {
        struct pcr_values all;

        v->size = load_vector(path, v->blob, sizeof(v->blob));
        read_pcrread_text(VECTOR("pcrs.txt"), &all);
        pcr_values_subset(&all, mask, &v->expected);
}

/* Two vectors on the heap (each ~17 KiB), set up once per test. */
struct vectors {
        struct vector quote, quote3;
};

static int setup(void **state) {
        struct vectors *v = malloc(sizeof(*v));

        assert_non_null(v);
        load(&v->quote, VECTOR("quote.pcrs"), QUOTE_MASK);
        load(&v->quote3, VECTOR("quote3.pcrs"), QUOTE3_MASK);
        *state = v;
        return 0;
}

static int teardown(void **state) {
        free(*state);
        return 0;
}

/* pcrblob_decode must fail with -EBADMSG naming `word`. */
static void assert_decode_fails(const uint8_t *blob, size_t size, const char *word) {
        struct pcr_values pcrs;

        assert_error(pcrblob_decode(blob, size, &pcrs), -EBADMSG, word);
}

static void test_vectors_match_pcrread(void **state) {
        struct vectors *v = *state;

        /* the 12-PCR quote really has two lists, as the test of the list logic needs */
        assert_int_equal(v->quote.size, PCRBLOB_SELECTION_SIZE + 4 + 2 * PCRBLOB_DIGEST_LIST_SIZE);
        assert_int_equal(v->quote3.size, PCRBLOB_SELECTION_SIZE + 4 + PCRBLOB_DIGEST_LIST_SIZE);
        assert_int_equal(v->quote.expected.bank, TPM2_ALG_SHA256);
        assert_int_equal(v->quote.expected.mask, QUOTE_MASK);
}

static void test_decode_vector(void **state) {
        struct vectors *v = *state;
        struct pcr_values pcrs;

        assert_int_equal(pcrblob_decode(v->quote.blob, v->quote.size, &pcrs), 0);
        assert_pcr_values_equal(&pcrs, &v->quote.expected);
        assert_int_equal(pcrblob_decode(v->quote3.blob, v->quote3.size, &pcrs), 0);
        assert_pcr_values_equal(&pcrs, &v->quote3.expected);
}

/* From the values tpm2_pcrread printed, the encoder writes tpm2_quote's file byte for byte. */
static void test_encode_vector(void **state) {
        struct vectors *v = *state;
        const struct vector *each[] = { &v->quote, &v->quote3 };

        for (size_t i = 0; i < ELEMENTSOF(each); i++) {
                uint8_t out[PCRBLOB_MAX_SIZE];
                size_t size = 0;

                assert_int_equal(pcrblob_size(&each[i]->expected), each[i]->size);
                assert_int_equal(pcrblob_encode(&each[i]->expected, out, sizeof(out), &size), 0);
                assert_int_equal(size, each[i]->size);
                assert_memory_equal(out, each[i]->blob, size);
        }
}

static void fill_values(struct pcr_values *pcrs, TPM2_ALG_ID bank, size_t size, uint32_t mask) {
        memset(pcrs, 0, sizeof(*pcrs));
        pcrs->bank = bank;
        pcrs->mask = mask;
        for (unsigned i = 0; i < PCR_MAX; i++)
                if (mask & (1u << i)) {
                        pcrs->value[i].size = (UINT16)size;
                        for (size_t j = 0; j < size; j++)
                                pcrs->value[i].buffer[j] = (uint8_t)(i * 31 + j);
                }
}

/* Every bank, 0 to 32 PCRs (0 to 4 lists), PCRs above 23 (a 4th select byte). */
static void test_round_trip(void **state) {
        static const struct {
                TPM2_ALG_ID bank;
                size_t size;
        } banks[] = { { TPM2_ALG_SHA1, 20 }, { TPM2_ALG_SHA256, 32 }, { TPM2_ALG_SHA384, 48 }, { TPM2_ALG_SHA512, 64 } };
        static const uint32_t masks[] = { 0, 1, QUOTE3_MASK, 0xff, 0x1ff, QUOTE_MASK, 0x00ffffff, 0x80000000, 0xffffffff };
        _cleanup_(freep) uint8_t *out = malloc(PCRBLOB_MAX_SIZE);

        assert_non_null(out);
        for (size_t b = 0; b < ELEMENTSOF(banks); b++)
                for (size_t m = 0; m < ELEMENTSOF(masks); m++) {
                        struct pcr_values pcrs, decoded;
                        size_t size;

                        fill_values(&pcrs, banks[b].bank, banks[b].size, masks[m]);
                        assert_int_equal(pcrblob_encode(&pcrs, out, PCRBLOB_MAX_SIZE, &size), 0);
                        assert_int_equal(size, PCRBLOB_SELECTION_SIZE + 4 +
                                                       (pcr_mask_count(masks[m]) + 7) / 8 * PCRBLOB_DIGEST_LIST_SIZE);
                        assert_int_equal(size, pcrblob_size(&pcrs));
                        assert_int_equal(out[OFF_SIZEOF_SELECT], masks[m] >> 24 ? 4 : 3);
                        assert_int_equal(pcrblob_decode(out, size, &decoded), 0);
                        assert_pcr_values_equal(&decoded, &pcrs);
                }
}

static void test_encode_buffer_too_small(void **state) {
        struct vectors *v = *state;
        const size_t caps[] = { 0, 1, PCRBLOB_SELECTION_SIZE, v->quote.size - PCRBLOB_DIGEST_LIST_SIZE, v->quote.size - 1 };
        uint8_t out[PCRBLOB_MAX_SIZE + 1];
        size_t size;

        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                memset(out, 0xa5, sizeof(out));
                size = 12345;
                assert_error(pcrblob_encode(&v->quote.expected, out, caps[i], &size), -ENOBUFS, "do not fit");
                assert_int_equal(size, 12345);
                assert_int_equal(out[caps[i]], 0xa5); /* nothing past the capacity */
        }
        assert_int_equal(pcrblob_encode(&v->quote.expected, out, v->quote.size, &size), 0);
        assert_int_equal(size, v->quote.size);
}

static void test_encode_rejects_wrong_value_size(void **state) {
        struct vectors *v = *state;
        struct pcr_values pcrs = v->quote.expected;
        uint8_t out[PCRBLOB_MAX_SIZE];
        size_t size;

        pcrs.value[16].size = 20; /* a SHA-1 value in the SHA-256 bank */
        assert_error(pcrblob_encode(&pcrs, out, sizeof(out), &size), -EINVAL, "PCR 16 has 20 bytes");
        pcrs = v->quote.expected;
        pcrs.value[9].size = 0; /* a selected PCR without a value */
        assert_error(pcrblob_encode(&pcrs, out, sizeof(out), &size), -EINVAL, "PCR 9 has 0 bytes");
}

static void test_encode_rejects_unsupported_bank(void **state) {
        struct pcr_values pcrs;
        uint8_t out[PCRBLOB_MAX_SIZE];
        size_t size;

        fill_values(&pcrs, TPM2_ALG_SM3_256, 32, 1);
        assert_error(pcrblob_encode(&pcrs, out, sizeof(out), &size), -EINVAL, "unsupported bank 0x0012");
}

/* Every prefix of a valid blob is truncated somewhere: each must fail cleanly, none crash (the
 * sanitizer build reads no byte past the prefix because the prefix is a separate allocation). */
static void test_decode_truncated_every_length(void **state) {
        struct vectors *v = *state;
        const struct vector *each[] = { &v->quote, &v->quote3 };

        for (size_t i = 0; i < ELEMENTSOF(each); i++)
                for (size_t len = 0; len < each[i]->size; len++) {
                        _cleanup_(freep) uint8_t *prefix = malloc(len ? len : 1);

                        assert_non_null(prefix);
                        memcpy(prefix, each[i]->blob, len);
                        assert_decode_fails(prefix, len, "truncated");
                }
}

static void test_decode_trailing_byte(void **state) {
        struct vectors *v = *state;

        v->quote3.blob[v->quote3.size] = 0;
        assert_decode_fails(v->quote3.blob, v->quote3.size + 1, "1 unexpected trailing bytes");
}

static void test_decode_selection_count(void **state) {
        struct vectors *v = *state;

        put_u32le(v->quote3.blob + OFF_SELECTION_COUNT, 2);
        assert_decode_fails(v->quote3.blob, v->quote3.size, "2 PCR banks selected");
        put_u32le(v->quote3.blob + OFF_SELECTION_COUNT, 0);
        assert_decode_fails(v->quote3.blob, v->quote3.size, "0 PCR banks selected");
        put_u32le(v->quote3.blob + OFF_SELECTION_COUNT, 0xffffffff);
        assert_decode_fails(v->quote3.blob, v->quote3.size, "banks");
}

static void test_decode_sizeof_select(void **state) {
        struct vectors *v = *state;
        struct pcr_values pcrs;

        v->quote3.blob[OFF_SIZEOF_SELECT] = 0;
        assert_decode_fails(v->quote3.blob, v->quote3.size, "sizeofSelect 0 is not 1-4");
        v->quote3.blob[OFF_SIZEOF_SELECT] = 5;
        assert_decode_fails(v->quote3.blob, v->quote3.size, "sizeofSelect 5 is not 1-4");
        v->quote3.blob[OFF_SIZEOF_SELECT] = 255;
        assert_decode_fails(v->quote3.blob, v->quote3.size, "sizeofSelect 255");
        /* 4 select bytes with the 4th empty select the same PCRs */
        v->quote3.blob[OFF_SIZEOF_SELECT] = 4;
        assert_int_equal(pcrblob_decode(v->quote3.blob, v->quote3.size, &pcrs), 0);
        assert_pcr_values_equal(&pcrs, &v->quote3.expected);
        /* 2 select bytes drop PCR 16 (in byte 2), leaving one digest over */
        v->quote3.blob[OFF_SIZEOF_SELECT] = 2;
        assert_decode_fails(v->quote3.blob, v->quote3.size, "more digests than the 2 selected PCRs");
}

static void test_decode_unsupported_hash(void **state) {
        struct vectors *v = *state;
        static const uint16_t bad[] = { 0x0000, TPM2_ALG_SM3_256, TPM2_ALG_RSA, 0xffff };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char word[64];

                put_u16le(v->quote3.blob + OFF_HASH, bad[i]);
                snprintf(word, sizeof(word), "unsupported hash algorithm 0x%04x", bad[i]);
                assert_decode_fails(v->quote3.blob, v->quote3.size, word);
        }
}

/* A blob of another bank (here SHA-1 selection with SHA-256 sized digests) fails on the size. */
static void test_decode_bank_digest_mismatch(void **state) {
        struct vectors *v = *state;

        put_u16le(v->quote3.blob + OFF_HASH, TPM2_ALG_SHA1);
        assert_decode_fails(v->quote3.blob, v->quote3.size, "digest 0 is 32 bytes, the sha1 bank needs 20");
}

static void test_decode_list_count(void **state) {
        struct vectors *v = *state;

        put_u32le(v->quote.blob + OFF_LIST_COUNT, 33);
        assert_decode_fails(v->quote.blob, v->quote.size, "33 digest lists, at most 32");
        put_u32le(v->quote.blob + OFF_LIST_COUNT, 0xffffffff);
        assert_decode_fails(v->quote.blob, v->quote.size, "digest lists");
        /* one list more than the blob holds */
        put_u32le(v->quote.blob + OFF_LIST_COUNT, 3);
        assert_decode_fails(v->quote.blob, v->quote.size, "truncated in TPML_DIGEST count");
        /* one list fewer: its 8 digests do not cover the 12 PCRs */
        put_u32le(v->quote.blob + OFF_LIST_COUNT, 1);
        assert_decode_fails(v->quote.blob, v->quote.size, "8 digests for 12 selected PCRs");
        put_u32le(v->quote.blob + OFF_LIST_COUNT, 0);
        assert_decode_fails(v->quote.blob, v->quote.size, "0 digests for 12 selected PCRs");
}

static void test_decode_tpml_digest_count(void **state) {
        struct vectors *v = *state;

        put_u32le(v->quote.blob + OFF_LIST(0), 9);
        assert_decode_fails(v->quote.blob, v->quote.size, "TPML_DIGEST 0 holds 9 digests, at most 8");
        put_u32le(v->quote.blob + OFF_LIST(0), 8);
        put_u32le(v->quote.blob + OFF_LIST(1), 0x80000000);
        assert_decode_fails(v->quote.blob, v->quote.size, "TPML_DIGEST 1 holds 2147483648 digests");
}

static void test_decode_digest_size(void **state) {
        struct vectors *v = *state;
        static const struct {
                unsigned list, slot;
                uint16_t size;
                const char *word;
        } bad[] = {
                { 0, 0, 65, "digest 0 is 65 bytes, the sha256 bank needs 32" },
                { 0, 0, 31, "digest 0 is 31 bytes" },
                { 0, 0, 0, "digest 0 is 0 bytes" },
                { 0, 7, 33, "digest 7 is 33 bytes" },
                { 1, 3, 64, "digest 11 is 64 bytes" }, /* PCR 16, in the second list */
                { 1, 0, 0xffff, "digest 8 is 65535 bytes" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint8_t *field = v->quote.blob + OFF_DIGEST(bad[i].list, bad[i].slot);

                put_u16le(field, bad[i].size);
                assert_decode_fails(v->quote.blob, v->quote.size, bad[i].word);
                put_u16le(field, 32);
        }
}

static void test_decode_more_digests_than_selected(void **state) {
        struct vectors *v = *state;

        v->quote3.blob[OFF_PCR_SELECT] = 0x01; /* PCRs 0 and 16 selected, 3 digests */
        assert_decode_fails(v->quote3.blob, v->quote3.size, "more digests than the 2 selected PCRs");
        v->quote3.blob[OFF_PCR_SELECT] = 0;
        v->quote3.blob[OFF_PCR_SELECT + 2] = 0; /* nothing selected */
        assert_decode_fails(v->quote3.blob, v->quote3.size, "more digests than the 0 selected PCRs");
}

static void test_decode_fewer_digests_than_selected(void **state) {
        struct vectors *v = *state;

        v->quote3.blob[OFF_PCR_SELECT] = 0x07; /* PCRs 0, 1, 2 and 16 selected, 3 digests */
        assert_decode_fails(v->quote3.blob, v->quote3.size, "3 digests for 4 selected PCRs");
        v->quote3.blob[OFF_PCR_SELECT] = 0x03;
        put_u32le(v->quote3.blob + OFF_LIST(0), 2);
        assert_decode_fails(v->quote3.blob, v->quote3.size, "2 digests for 3 selected PCRs");
}

/* tpm2-tools writes its structures from memory: the unused selection slots, the padding byte
 * and the unused digest slots hold whatever was there, so the decoder must ignore them. */
static void test_decode_ignores_unused_slots(void **state) {
        struct vectors *v = *state;
        struct pcr_values pcrs;

        memset(v->quote3.blob + OFF_SELECTION_SLOT(1), 0xee, 15 * 8);
        v->quote3.blob[OFF_SELECTION_PAD] = 0xee;
        memset(v->quote3.blob + OFF_DIGEST(0, 3), 0xee, 5 * 66);
        assert_int_equal(pcrblob_decode(v->quote3.blob, v->quote3.size, &pcrs), 0);
        assert_pcr_values_equal(&pcrs, &v->quote3.expected);
}

/* Random bytes, random lengths: never a crash, only 0 or -EBADMSG. */
static void test_decode_random_bytes(void **state) {
        _cleanup_(freep) uint8_t *buf = malloc(PCRBLOB_MAX_SIZE + 64);
        uint64_t prng = FUZZ_SEED;

        assert_non_null(buf);
        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t size = prng_next(&prng) % (PCRBLOB_MAX_SIZE + 64);
                struct pcr_values pcrs;
                int ret;

                prng_fill(&prng, buf, size);
                /* make a third of them get past the first field */
                if (size >= 4 && i % 3 == 0)
                        put_u32le(buf, 1);
                ret = pcrblob_decode(buf, size, &pcrs);
                assert_true(ret == 0 || ret == -EBADMSG);
        }
}

/* A valid blob with a few bytes changed: each result is a failure or a blob that re-encodes to
 * a blob that decodes to the same values. */
static void test_decode_mutated_vectors(void **state) {
        struct vectors *v = *state;
        uint64_t prng = FUZZ_SEED + 1;
        unsigned accepted = 0;

        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                const struct vector *base = i % 2 ? &v->quote : &v->quote3;
                uint8_t buf[2 * (PCRBLOB_SELECTION_SIZE + 4 + 2 * PCRBLOB_DIGEST_LIST_SIZE)];
                uint8_t again[PCRBLOB_MAX_SIZE];
                struct pcr_values pcrs, pcrs_again;
                size_t size = base->size, again_size;
                int ret;

                memcpy(buf, base->blob, size);
                prng_mutate(&prng, buf, size);
                ret = pcrblob_decode(buf, size, &pcrs);
                assert_true(ret == 0 || ret == -EBADMSG);
                if (ret < 0)
                        continue;
                accepted++;
                assert_int_equal(pcrblob_encode(&pcrs, again, sizeof(again), &again_size), 0);
                assert_int_equal(pcrblob_decode(again, again_size, &pcrs_again), 0);
                assert_pcr_values_equal(&pcrs_again, &pcrs);
        }
        /* flips in PCR values and unused slots are accepted: the loop did reach success */
        assert_true(accepted > 0);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_vectors_match_pcrread),
                T(test_decode_vector),
                T(test_encode_vector),
                cmocka_unit_test(test_round_trip),
                T(test_encode_buffer_too_small),
                T(test_encode_rejects_wrong_value_size),
                cmocka_unit_test(test_encode_rejects_unsupported_bank),
                T(test_decode_truncated_every_length),
                T(test_decode_trailing_byte),
                T(test_decode_selection_count),
                T(test_decode_sizeof_select),
                T(test_decode_unsupported_hash),
                T(test_decode_bank_digest_mismatch),
                T(test_decode_list_count),
                T(test_decode_tpml_digest_count),
                T(test_decode_digest_size),
                T(test_decode_more_digests_than_selected),
                T(test_decode_fewer_digests_than_selected),
                T(test_decode_ignores_unused_slots),
                cmocka_unit_test(test_decode_random_bytes),
                T(test_decode_mutated_vectors),
        };
#undef T

        return cmocka_run_group_tests_name("pcrblob", tests, NULL, NULL);
}
