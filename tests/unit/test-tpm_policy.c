/* tpm_policy: Keylime's {"<pcr>": [hex, ...]} PCR policy, loaded and checked. */
#include "tests/unit/unit.h"

#include "verifier/tpm_policy.h"

#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"
#define ONES "1111111111111111111111111111111111111111111111111111111111111111"

static int load(const char *text, struct tpm_policy *p) {
        return tpm_policy_load(text, strlen(text), TPM2_ALG_SHA256, p);
}

static void quoted_pcr(struct pcr_values *q, unsigned pcr, uint8_t fill) {
        q->bank = TPM2_ALG_SHA256;
        q->mask |= 1u << pcr;
        q->value[pcr].size = 32;
        memset(q->value[pcr].buffer, fill, 32);
}

static void test_allows_listed_values(void **state) {
        struct tpm_policy p;
        struct pcr_values q = { 0 };

        assert_int_equal(load("{\"15\": [\"" ZERO "\", \"" ONES "\"], \"mask\": \"0x8000\"}", &p), 0);
        assert_int_equal(p.mask, 1u << 15);
        quoted_pcr(&q, 15, 0x11);
        assert_int_equal(tpm_policy_check(&p, &q), 0);
        quoted_pcr(&q, 15, 0x00);
        assert_int_equal(tpm_policy_check(&p, &q), 0);
        quoted_pcr(&q, 15, 0x22);
        assert_error(tpm_policy_check(&p, &q), -EPERM, "PCR 15: quoted value 2222");
        tpm_policy_done(&p);
}

static void test_constrained_pcr_must_be_quoted(void **state) {
        struct tpm_policy p;
        struct pcr_values q = { 0 };

        assert_int_equal(load("{\"7\": [\"" ZERO "\"]}", &p), 0);
        quoted_pcr(&q, 0, 0);
        assert_error(tpm_policy_check(&p, &q), -EPERM, "PCR 7: not in the quote");
        tpm_policy_done(&p);
}

static void test_empty_policy_allows_anything(void **state) {
        struct tpm_policy p;
        struct pcr_values q = { 0 };

        assert_int_equal(load("{}", &p), 0);
        quoted_pcr(&q, 3, 0x5a);
        assert_int_equal(tpm_policy_check(&p, &q), 0);
        tpm_policy_done(&p);
}

static void test_bad_policies(void **state) {
        struct tpm_policy p;

        assert_error(load("[]", &p), -EINVAL, "not one JSON object");
        assert_error(load("{\"15\": [\"" ZERO "\"]} x", &p), -EINVAL, "not one JSON object");
        assert_error(load("{\"24\": [\"" ZERO "\"]}", &p), -EINVAL, "\"24\" is not a PCR number");
        assert_error(load("{\"abc\": [\"" ZERO "\"]}", &p), -EINVAL, "is not a PCR number");
        assert_error(load("{\"16\": [\"" ZERO "\"]}", &p), -EINVAL, "PCR 16 holds the agent's payload-key binding");
        assert_error(load("{\"1\": []}", &p), -EINVAL, "needs a list");
        assert_error(load("{\"1\": \"" ZERO "\"}", &p), -EINVAL, "needs a list");
        assert_error(load("{\"1\": [\"00\"]}", &p), -EINVAL, "32-byte hex digest");
        assert_error(load("{\"1\": [\"zz" ZERO "\"]}", &p), -EINVAL, "32-byte hex digest");
        assert_error(load("{\"1\": [42]}", &p), -EINVAL, "32-byte hex digest");
}

/* One spelling per PCR: strtoul would read " 5", "+5", "05", "5 " as 5, and a policy holding
 * both "5" and "05" would then have its second list silently replace the first. */
static void test_pcr_keys_are_strict_decimal(void **state) {
        static const char *const bad[] = { " 5", "+5", "05", "5 ", "0x5", "-0", "00", "5\\n", "" };
        struct tpm_policy p;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char text[256], word[32];

                snprintf(text, sizeof(text), "{\"5\": [\"" ZERO "\"], \"%s\": [\"" ONES "\"]}", bad[i]);
                snprintf(word, sizeof(word), "\"%s\" is not a PCR number", bad[i]);
                /* the detail shows a newline escaped */
                if (strcmp(bad[i], "5\\n") == 0)
                        snprintf(word, sizeof(word), "\"5\\x0a\" is not a PCR number");
                assert_error(load(text, &p), -EINVAL, word);
        }
        assert_int_equal(load("{\"0\": [\"" ZERO "\"], \"9\": [\"" ZERO "\"], \"23\": [\"" ZERO "\"]}", &p), 0);
        assert_int_equal(p.mask, 1u << 0 | 1u << 9 | 1u << 23);
        tpm_policy_done(&p);
}

/* the first boot's pin (docs/protocol.md §5.6): PCR 9 replaced, and left out for its own boot */
static void test_pin_and_except(void **state) {
        struct tpm_policy p;
        struct pcr_values q = { 0 };
        char *text = NULL;

        assert_int_equal(tpm_policy_text_with_pcr("{\"0\": [\"" ZERO "\"], \"9\": [\"" ZERO "\"], \"mask\": \"0x201\"}",
                                                  9, ONES, &text),
                         0);
        assert_string_equal(text, "{\"0\":[\"" ZERO "\"],\"9\":[\"" ONES "\"]}");
        assert_int_equal(load(text, &p), 0);
        free(text);
        quoted_pcr(&q, 0, 0x00);
        quoted_pcr(&q, 9, 0x00);
        assert_error(tpm_policy_check(&p, &q), -EPERM, "PCR 9: quoted value 0000");
        assert_int_equal(tpm_policy_check_except(&p, &q, 1u << 9), 0);
        quoted_pcr(&q, 0, 0x22);
        assert_error(tpm_policy_check_except(&p, &q, 1u << 9), -EPERM, "PCR 0: quoted value 2222");
        tpm_policy_done(&p);
        assert_int_equal(tpm_policy_text_with_pcr("{}", 9, ONES, &text), 0);
        assert_string_equal(text, "{\"9\":[\"" ONES "\"]}");
        free(text);
        assert_error(tpm_policy_text_with_pcr("[]", 9, ONES, &text), -EINVAL, "not one JSON object");
        assert_null(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_allows_listed_values),
                cmocka_unit_test(test_constrained_pcr_must_be_quoted),
                cmocka_unit_test(test_empty_policy_allows_anything),
                cmocka_unit_test(test_bad_policies),
                cmocka_unit_test(test_pcr_keys_are_strict_decimal),
                cmocka_unit_test(test_pin_and_except),
        };
        return cmocka_run_group_tests_name("tpm_policy", tests, NULL, NULL);
}
