/* lib/quote_string.c: Keylime's "r<attest>:<signature>:<pcrblob>" (docs/protocol.md §2), built from
 * what tpm2_quote wrote and taken apart again, and hostile strings. */
#include "tests/unit/unit.h"

#include "lib/encoding.h"
#include "lib/quote_string.h"
#include "lib/tpm2b.h"

#define QUOTE_MASK 0x000107ff  /* sha256:0-10,16, see make-vectors.sh */
#define QUOTE3_MASK 0x00010003 /* sha256:0,1,16 */

/* Per test: the parts of one vector quote, and room for decoding and parsing. */
struct fixture {
        struct quote_parts parts, decoded;
        struct quote quote;
        struct pcr_values expected; /* tpm2_pcrread's values of the quoted PCRs */
};

static void load_parts(struct quote_parts *parts, const char *msg, const char *sig, const char *pcrs) {
        parts->attest_size = load_vector(msg, parts->attest, sizeof(parts->attest));
        parts->signature_size = load_vector(sig, parts->signature, sizeof(parts->signature));
        parts->pcrblob_size = load_vector(pcrs, parts->pcrblob, sizeof(parts->pcrblob));
}

static int setup_quote(void **state, const char *msg, const char *sig, const char *pcrs, uint32_t mask) {
        struct fixture *f = calloc(1, sizeof(*f));
        struct pcr_values all;

        assert_non_null(f);
        load_parts(&f->parts, msg, sig, pcrs);
        read_pcrread_text(VECTOR("pcrs.txt"), &all);
        pcr_values_subset(&all, mask, &f->expected);
        *state = f;
        return 0;
}

static int setup(void **state) {
        return setup_quote(state, VECTOR("quote.msg"), VECTOR("quote.sig"), VECTOR("quote.pcrs"), QUOTE_MASK);
}

static int setup3(void **state) {
        return setup_quote(state, VECTOR("quote3.msg"), VECTOR("quote3.sig"), VECTOR("quote3.pcrs"), QUOTE3_MASK);
}

static int teardown(void **state) {
        free(*state);
        return 0;
}

#define assert_parts_equal(a, b)                                                         \
        do {                                                                             \
                assert_int_equal((a)->attest_size, (b)->attest_size);                    \
                assert_memory_equal((a)->attest, (b)->attest, (a)->attest_size);         \
                assert_int_equal((a)->signature_size, (b)->signature_size);              \
                assert_memory_equal((a)->signature, (b)->signature, (a)->signature_size); \
                assert_int_equal((a)->pcrblob_size, (b)->pcrblob_size);                  \
                assert_memory_equal((a)->pcrblob, (b)->pcrblob, (a)->pcrblob_size);      \
        } while (0)

static void assert_decode_fails(const char *text, size_t len, const char *word) {
        _cleanup_(freep) struct quote_parts *parts = malloc(sizeof(*parts));

        assert_non_null(parts);
        assert_error(quote_string_decode(text, len, parts), -EBADMSG, word);
}

/* The string is "r" and the three files in base64, and decodes to the same bytes. */
static void test_encode_decode_vector(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        _cleanup_(freep) char *attest = base64_encode(f->parts.attest, f->parts.attest_size);
        _cleanup_(freep) char *signature = base64_encode(f->parts.signature, f->parts.signature_size);
        _cleanup_(freep) char *pcrblob = base64_encode(f->parts.pcrblob, f->parts.pcrblob_size);
        char *expected;

        assert_int_equal(quote_string_encode(&f->parts, &text), 0);
        assert_true(asprintf(&expected, "r%s:%s:%s", attest, signature, pcrblob) > 0);
        assert_string_equal(text, expected);
        free(expected);
        assert_true(strlen(text) <= QUOTE_STRING_MAX);

        assert_int_equal(quote_string_decode(text, strlen(text), &f->decoded), 0);
        assert_parts_equal(&f->decoded, &f->parts);
}

/* From the decoded string, quote_parse gives what the TPM said: a quote over "nonce", signed
 * RSASSA-SHA256, over the PCRs tpm2_pcrread printed, whose digest is the attest's pcrDigest. */
static void test_parse_vector(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        const TPMS_QUOTE_INFO *info = &f->quote.attest.attested.quote;
        TPML_PCR_SELECTION sel;
        uint8_t digest[32];

        assert_int_equal(quote_string_encode(&f->parts, &text), 0);
        assert_int_equal(quote_string_decode(text, strlen(text), &f->decoded), 0);
        assert_int_equal(quote_parse(&f->decoded, &f->quote), 0);

        assert_int_equal(f->quote.attest.magic, TPM2_GENERATED_VALUE);
        assert_int_equal(f->quote.attest.type, TPM2_ST_ATTEST_QUOTE);
        assert_int_equal(f->quote.attest.extraData.size, 5);
        assert_memory_equal(f->quote.attest.extraData.buffer, "nonce", 5);
        assert_int_equal(f->quote.signature.sigAlg, TPM2_ALG_RSASSA);
        assert_int_equal(f->quote.signature.signature.rsassa.hash, TPM2_ALG_SHA256);
        assert_pcr_values_equal(&f->quote.pcrs, &f->expected);

        /* the attest's selection is the pcrblob's */
        pcr_selection_from_mask(f->quote.pcrs.bank, f->quote.pcrs.mask, &sel);
        assert_int_equal(info->pcrSelect.count, 1);
        assert_int_equal(info->pcrSelect.pcrSelections[0].hash, sel.pcrSelections[0].hash);
        assert_int_equal(info->pcrSelect.pcrSelections[0].sizeofSelect, sel.pcrSelections[0].sizeofSelect);
        assert_memory_equal(info->pcrSelect.pcrSelections[0].pcrSelect, sel.pcrSelections[0].pcrSelect, 3);

        assert_int_equal(pcr_values_digest(&f->quote.pcrs, digest), 0);
        assert_int_equal(info->pcrDigest.size, sizeof(digest));
        assert_memory_equal(info->pcrDigest.buffer, digest, sizeof(digest));
}

/* The digest check above can fail: one PCR value changed, the digest no longer matches. */
static void test_pcr_digest_detects_changed_value(void **state) {
        struct fixture *f = *state;
        uint8_t digest[32];

        assert_int_equal(quote_parse(&f->parts, &f->quote), 0);
        f->quote.pcrs.value[16].buffer[0] ^= 1;
        assert_int_equal(pcr_values_digest(&f->quote.pcrs, digest), 0);
        assert_memory_not_equal(f->quote.attest.attested.quote.pcrDigest.buffer, digest, sizeof(digest));
}

/* Only text_len bytes are read: what follows (here a fourth part) is not looked at. */
static void test_decode_uses_length(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        _cleanup_(freep) char *longer = NULL;

        assert_int_equal(quote_string_encode(&f->parts, &text), 0);
        assert_true(asprintf(&longer, "%s:AAAA", text) > 0);
        assert_int_equal(quote_string_decode(longer, strlen(text), &f->decoded), 0);
        assert_parts_equal(&f->decoded, &f->parts);
}

#define S(literal) literal, sizeof(literal) - 1

static void test_decode_rejects_shape(void **state) {
        static const struct {
                const char *text;
                size_t len;
                const char *word;
        } bad[] = {
                { S(""), "does not start with 'r'" },
                { S("AAAA:AAAA:AAAA"), "does not start with 'r'" },
                { S("RAAAA:AAAA:AAAA"), "does not start with 'r'" },
                { S(" rAAAA:AAAA:AAAA"), "does not start with 'r'" },
                { S("r"), "expected three ':'-separated parts" },
                { S("rAAAA"), "expected three" },
                { S("rAAAA:AAAA"), "expected three" },
                { S("rAAAA:AAAA:AAAA:AAAA"), "expected three" },
                { S("rAAAA:AAAA:AAAA:"), "expected three" },
                { S(":AAAA:AAAA"), "does not start with 'r'" },
                { S("r:AAAA:AAAA"), "TPMS_ATTEST part is empty" },
                { S("r::"), "TPMS_ATTEST part is empty" },
                { S("rAAAA::AAAA"), "TPMT_SIGNATURE part is empty" },
                { S("rAAAA:AAAA:"), "pcrblob part is empty" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_decode_fails(bad[i].text, bad[i].len, bad[i].word);
}

/* Bad base64 in each part: the detail names the part, then what base64 found and where. */
static void test_decode_rejects_base64(void **state) {
        static const struct {
                const char *text;
                size_t len;
                const char *word;
        } bad[] = {
                { S("rAA*A:AAAA:AAAA"), "quote: TPMS_ATTEST part: base64: invalid byte 0x2a at offset 2" },
                { S("rAAAA:AA A:AAAA"), "quote: TPMT_SIGNATURE part: base64: invalid byte 0x20 at offset 2" },
                { S("rAAAA:AAAA:a==="), "quote: pcrblob part: base64: invalid byte 0x3d at offset 1" },
                { S("rAAAA:AAAA:AA-_"), "pcrblob part: base64: invalid byte 0x2d at offset 2" },
                { S("rAAAA:AAAA:AAA\0"), "pcrblob part: base64: invalid byte 0x00 at offset 3" },
                { S("rAAA:AAAA:AAAA"), "TPMS_ATTEST part: base64: length 3 is not a multiple of 4" },
                { S("rAAAA:AAAAA:AAAA"), "TPMT_SIGNATURE part: base64: length 5 is not a multiple of 4" },
                { S("rAAAA:AAAA:AAAA\n"), "pcrblob part: base64: length 5 is not a multiple of 4" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_decode_fails(bad[i].text, bad[i].len, bad[i].word);
}

/* A string whose three parts are `attest`, `signature` and `pcrblob` bytes of zeros. */
static char *string_of_sizes(size_t attest, size_t signature, size_t pcrblob) {
        _cleanup_(freep) uint8_t *zeros = calloc(1, pcrblob + attest + signature + 1);
        _cleanup_(freep) char *a = NULL;
        _cleanup_(freep) char *s = NULL;
        _cleanup_(freep) char *p = NULL;
        char *text;

        assert_non_null(zeros);
        a = base64_encode(zeros, attest);
        s = base64_encode(zeros, signature);
        p = base64_encode(zeros, pcrblob);
        assert_true(a && s && p);
        assert_true(asprintf(&text, "r%s:%s:%s", a, s, p) > 0);
        return text;
}

/* Each part at its cap decodes; one byte more is refused with its size, before any copy. */
static void test_decode_part_caps(void **state) {
        struct fixture *f = *state;
        const size_t attest_cap = sizeof(f->decoded.attest), signature_cap = sizeof(f->decoded.signature),
                     pcrblob_cap = sizeof(f->decoded.pcrblob);
        char *text;

        assert_int_equal(attest_cap, sizeof(TPMS_ATTEST));
        assert_int_equal(pcrblob_cap, PCRBLOB_MAX_SIZE);

        text = string_of_sizes(attest_cap, signature_cap, pcrblob_cap);
        assert_true(strlen(text) <= QUOTE_STRING_MAX); /* the maximum really is the maximum */
        assert_int_equal(quote_string_decode(text, strlen(text), &f->decoded), 0);
        assert_int_equal(f->decoded.attest_size, attest_cap);
        assert_int_equal(f->decoded.signature_size, signature_cap);
        assert_int_equal(f->decoded.pcrblob_size, pcrblob_cap);
        free(text);

        text = string_of_sizes(attest_cap + 1, 4, 4);
        assert_decode_fails(text, strlen(text), "TPMS_ATTEST part of 2305 bytes exceeds 2304");
        free(text);
        text = string_of_sizes(4, signature_cap + 1, 4);
        assert_decode_fails(text, strlen(text), "TPMT_SIGNATURE part of");
        assert_decode_fails(text, strlen(text), "exceeds");
        free(text);
        text = string_of_sizes(4, 4, pcrblob_cap + 1);
        assert_decode_fails(text, strlen(text), "pcrblob part of 17161 bytes exceeds 17160");
        free(text);
}

static void test_decode_rejects_over_long(void **state) {
        const size_t len = QUOTE_STRING_MAX + 1;
        _cleanup_(freep) char *text = malloc(len + 1);

        assert_non_null(text);
        memset(text, 'A', len);
        text[0] = 'r';
        text[len] = '\0';
        assert_decode_fails(text, len, "exceed the maximum");
        /* the length is checked first: a valid-looking string of that length fails the same */
        memcpy(text + 1, "AAAA:AAAA:", 10);
        assert_decode_fails(text, len, "exceed the maximum");
}

static void test_parse_wrong_magic(void **state) {
        struct fixture *f = *state;

        f->parts.attest[0] = 0x00; /* TPM_GENERATED_VALUE is 0xff544347 */
        assert_error(quote_parse(&f->parts, &f->quote), -EBADMSG, "magic 0x00544347 is not TPM_GENERATED_VALUE");
}

/* A well-formed TPMS_ATTEST of another type (what TPM2_Certify or TPM2_GetTime sign) is not a
 * quote, even with a good signature. */
static void test_parse_wrong_type(void **state) {
        struct fixture *f = *state;
        static const TPM2_ST types[] = { TPM2_ST_ATTEST_CERTIFY, TPM2_ST_ATTEST_TIME, TPM2_ST_ATTEST_NV };

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                TPMS_ATTEST attest;
                char word[64];

                assert_int_equal(tpms_attest_unmarshal(f->parts.attest, f->parts.attest_size, &attest), 0);
                memset(&attest.attested, 0, sizeof(attest.attested));
                attest.type = types[i];
                assert_int_equal(tpms_attest_marshal(&attest, f->decoded.attest, sizeof(f->decoded.attest),
                                                     &f->decoded.attest_size),
                                 0);
                memcpy(f->decoded.signature, f->parts.signature, f->parts.signature_size);
                f->decoded.signature_size = f->parts.signature_size;
                memcpy(f->decoded.pcrblob, f->parts.pcrblob, f->parts.pcrblob_size);
                f->decoded.pcrblob_size = f->parts.pcrblob_size;
                snprintf(word, sizeof(word), "type 0x%04x is not a quote", types[i]);
                assert_error(quote_parse(&f->decoded, &f->quote), -EBADMSG, word);
        }
}

/* Each part is checked in full: a cut or extended part fails and is named. */
static void test_parse_bad_parts(void **state) {
        struct fixture *f = *state;
        struct quote_parts *p = &f->parts;

        p->attest_size++;
        assert_error(quote_parse(p, &f->quote), -EBADMSG, "TPMS_ATTEST: 1 unexpected trailing bytes");
        p->attest_size -= 2;
        assert_error(quote_parse(p, &f->quote), -EBADMSG, "TPMS_ATTEST: malformed");
        p->attest_size++;
        p->signature_size--;
        assert_error(quote_parse(p, &f->quote), -EBADMSG, "TPMT_SIGNATURE: malformed");
        p->signature_size += 2;
        assert_error(quote_parse(p, &f->quote), -EBADMSG, "TPMT_SIGNATURE: 1 unexpected trailing bytes");
        p->signature_size--;
        p->pcrblob_size--;
        assert_error(quote_parse(p, &f->quote), -EBADMSG, "pcrblob: truncated");
        p->pcrblob_size++;
        assert_int_equal(quote_parse(p, &f->quote), 0);
}

static void test_parse_truncated_attest_every_length(void **state) {
        struct fixture *f = *state;
        const size_t size = f->parts.attest_size;

        for (size_t len = 0; len < size; len++) {
                f->parts.attest_size = len;
                assert_error(quote_parse(&f->parts, &f->quote), -EBADMSG, "TPMS_ATTEST");
        }
}

/* Decodes and parses `text`: each step either succeeds or fails with -EBADMSG. */
static void decode_and_parse(struct fixture *f, const char *text, size_t len) {
        int ret = quote_string_decode(text, len, &f->decoded);

        assert_true(ret == 0 || ret == -EBADMSG);
        if (ret < 0)
                return;
        assert_true(f->decoded.attest_size <= sizeof(f->decoded.attest));
        assert_true(f->decoded.signature_size <= sizeof(f->decoded.signature));
        assert_true(f->decoded.pcrblob_size <= sizeof(f->decoded.pcrblob));
        ret = quote_parse(&f->decoded, &f->quote);
        assert_true(ret == 0 || ret == -EBADMSG);
}

/* Strings of random length drawn mostly from the quote string's own alphabet (so that some get
 * as far as base64 and the parsers), some of arbitrary bytes. */
static void test_random_strings(void **state) {
        static const char alphabet[] = "r:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
        struct fixture *f = *state;
        uint64_t prng = FUZZ_SEED;
        char text[1200];

        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t len = prng_next(&prng) % sizeof(text);

                prng_fill(&prng, text, len);
                if (i % 4 != 0)
                        for (size_t j = 0; j < len; j++)
                                text[j] = alphabet[(uint8_t)text[j] % (sizeof(alphabet) - 1)];
                if (len && i % 2 == 0)
                        text[0] = 'r';
                decode_and_parse(f, text, len);
        }
}

/* The vector's string with a few characters changed or the string cut short. */
static void test_mutated_strings(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        _cleanup_(freep) char *copy = NULL;
        uint64_t prng = FUZZ_SEED + 3;
        size_t len;

        assert_int_equal(quote_string_encode(&f->parts, &text), 0);
        len = strlen(text);
        copy = malloc(len);
        assert_non_null(copy);
        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t cut = i % 8 == 0 ? prng_next(&prng) % len : len;

                memcpy(copy, text, len);
                prng_mutate(&prng, (uint8_t *)copy, cut);
                decode_and_parse(f, copy, cut);
        }
}

int main(void) {
        /* tss2-mu logs each malformed input to stderr; the hostile-input tests make thousands */
        setenv("TSS2_LOG", "all+none", 0);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T3(f) { #f "_3pcrs", f, setup3, teardown, NULL } /* the same test on quote3.* */
        const struct CMUnitTest tests[] = {
                T(test_encode_decode_vector),
                T3(test_encode_decode_vector),
                T(test_parse_vector),
                T3(test_parse_vector),
                T(test_pcr_digest_detects_changed_value),
                T(test_decode_uses_length),
                cmocka_unit_test(test_decode_rejects_shape),
                cmocka_unit_test(test_decode_rejects_base64),
                T(test_decode_part_caps),
                cmocka_unit_test(test_decode_rejects_over_long),
                T(test_parse_wrong_magic),
                T(test_parse_wrong_type),
                T(test_parse_bad_parts),
                T(test_parse_truncated_attest_every_length),
                T(test_random_strings),
                T(test_mutated_strings),
        };
#undef T
#undef T3

        return cmocka_run_group_tests_name("quote_string", tests, NULL, NULL);
}
