/* quote_check on quotes vmattest took from a swtpm (vectors/quote-check/make-vectors.sh):
 * each check must be able to fail on its own. ecdsa-quote.txt is signed by an ECC AK
 * (tpm_signing_alg = ecdsa), the others by an RSA one. */
#include "tests/unit/unit.h"

#include "lib/encoding.h"
#include "lib/tpm2b.h"
#include "verifier/quote_check.h"

#define V(name) "tests/unit/vectors/quote-check/" name

struct vectors {
        TPM2B_PUBLIC ak, other_ak;
        char *quote1, *quote2, *payload, *other_payload;
};

static char *text_vector(const char *path) {
        size_t size;
        char *text = (char *)read_vector(path, &size);

        while (size && (text[size - 1] == '\n'))
                text[--size] = '\0'; /* quote files end in a newline; PEM keeps its own */
        return text;
}

static void load_public(const char *path, TPM2B_PUBLIC *pub) {
        _cleanup_(freep) uint8_t *bytes = NULL;
        size_t size;

        bytes = read_vector(path, &size);
        assert_int_equal(tpm2b_public_unmarshal(bytes, size, pub), 0);
}

static int setup(void **state) {
        struct vectors *v = calloc(1, sizeof(*v));
        size_t size;

        load_public(V("ak.pub"), &v->ak);
        load_public(V("other-ak.pub"), &v->other_ak);
        v->quote1 = text_vector(V("quote1.txt"));
        v->quote2 = text_vector(V("quote2.txt"));
        /* the PEM exactly as the agent serves it, final newline included */
        v->payload = (char *)read_vector(V("payload.pem"), &size);
        v->other_payload = (char *)read_vector(V("other-payload.pem"), &size);
        *state = v;
        return 0;
}

static int teardown(void **state) {
        struct vectors *v = *state;

        free(v->quote1), free(v->quote2), free(v->payload), free(v->other_payload);
        free(v);
        return 0;
}

static struct quote_expect expect_for(struct vectors *v, const char *nonce) {
        return (struct quote_expect){ .ak = &v->ak, .nonce = nonce, .hash_alg = TPM2_ALG_SHA256, .mask = 1u,
                                      .pubkey_pem = v->payload };
}

static void test_good_quote(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        struct quote quote;
        struct quote_clock clock;

        assert_int_equal(quote_check(v->quote1, &e, &quote, &clock), 0);
        assert_true(clock.valid);
        assert_int_equal(quote.pcrs.mask, 1u | 1u << 16);
}

static void test_stale_nonce(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceB");
        struct quote quote;
        struct quote_clock clock;

        assert_error(quote_check(v->quote1, &e, &quote, &clock), -EPERM, "nonce");
}

static void test_other_agents_ak(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        struct quote quote;
        struct quote_clock clock;

        e.ak = &v->other_ak;
        assert_error(quote_check(v->quote1, &e, &quote, &clock), -EPERM, "does not verify under the registered AK");
}

static void test_pcr16_bound_to_another_key(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        struct quote quote;
        struct quote_clock clock;

        e.pubkey_pem = v->other_payload;
        assert_error(quote_check(v->quote1, &e, &quote, &clock), -EPERM, "PCR 16 is not bound");
}

static void test_replayed_older_quote(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceB");
        struct quote quote;
        struct quote_clock later, older;

        assert_int_equal(quote_check(v->quote2, &e, &quote, &later), 0);
        e = expect_for(v, "nonceA");
        assert_int_equal(quote_check(v->quote1, &e, &quote, &older), 0);
        assert_true(older.clock < later.clock);
        e.last = later; /* quote1 came back after quote2 was accepted */
        assert_error(quote_check(v->quote1, &e, &quote, &older), -EPERM, "is not after the last accepted");
        /* same counts: no reboot, which is why it was refused; a reset count up makes a lower
         * clock legitimate */
        assert_false(quote_clock_rebooted(&later, &older));
        older.reset_count = later.reset_count + 1;
        assert_true(quote_clock_rebooted(&later, &older));
        assert_true(quote_clock_new_boot(&later, &older));
        /* a restart (S3 resume) alone: a lower clock is legitimate, but it is the same boot */
        older.reset_count = later.reset_count;
        older.restart_count = later.restart_count + 1;
        assert_true(quote_clock_rebooted(&later, &older));
        assert_false(quote_clock_new_boot(&later, &older));
}

static void test_pcr_not_asked_for(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        struct quote quote;
        struct quote_clock clock;

        e.mask = 1u | 1u << 7; /* PCR 7 was not quoted */
        assert_error(quote_check(v->quote1, &e, &quote, &clock), -EPERM, "lacks PCRs 0x80");
}

/* A PCR value changed in the pcrblob after the TPM signed: the digest no longer matches. */
static void test_altered_pcr_value(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        struct quote_parts parts;
        struct quote quote;
        struct quote_clock clock;
        _cleanup_(freep) char *altered = NULL;

        assert_int_equal(quote_string_decode(v->quote1, strlen(v->quote1), &parts), 0);
        parts.pcrblob[PCRBLOB_SELECTION_SIZE + 4 + 4 + 2] ^= 0x01; /* first byte of PCR 0's value */
        assert_int_equal(quote_string_encode(&parts, &altered), 0);
        assert_error(quote_check(altered, &e, &quote, &clock), -EPERM, "do not hash to the quote's pcrDigest");
}

/* An ECC AK's quote: ECDSA-SHA256, r and s as the TPM marshals them */
static void test_ecdsa_quote(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        _cleanup_(freep) char *quote = text_vector(V("ecdsa-quote.txt"));
        _cleanup_(freep) uint8_t *sig = NULL;
        _cleanup_(freep) char *sig_b64 = NULL, *forged = NULL;
        char *sig_start = strchr(quote, ':') + 1, *sig_end = strchr(sig_start, ':');
        TPM2B_PUBLIC ecc_ak;
        struct quote quote_out;
        struct quote_clock clock;
        size_t sig_size;

        load_public(V("ecc-ak.pub"), &ecc_ak);
        assert_int_equal(ecc_ak.publicArea.type, TPM2_ALG_ECC);
        e.ak = &ecc_ak;
        assert_int_equal(quote_check(quote, &e, &quote_out, &clock), 0);
        assert_int_equal(quote_out.signature.sigAlg, TPM2_ALG_ECDSA);
        /* not under the RSA AK, and an RSA AK's quote not under the ECC AK */
        e.ak = &v->ak;
        assert_error(quote_check(quote, &e, &quote_out, &clock), -EPERM, "does not verify under the registered AK");
        e.ak = &ecc_ak;
        assert_error(quote_check(v->quote1, &e, &quote_out, &clock), -EPERM, "does not verify under the registered AK");
        /* one bit of r changed (after sigAlg, hash, r's size) */
        assert_int_equal(base64_decode(sig_start, (size_t)(sig_end - sig_start), &sig, &sig_size), 0);
        sig[8] ^= 0x01;
        sig_b64 = base64_encode(sig, sig_size);
        assert_int_equal(asprintf(&forged, "%.*s%s%s", (int)(sig_start - quote), quote, sig_b64, sig_end) > 0, 1);
        assert_error(quote_check(forged, &e, &quote_out, &clock), -EPERM, "does not verify under the registered AK");
}

static void test_garbage(void **state) {
        struct vectors *v = *state;
        struct quote_expect e = expect_for(v, "nonceA");
        struct quote quote;
        struct quote_clock clock;

        assert_error(quote_check("r!!!:??:..", &e, &quote, &clock), -EBADMSG, "base64");
        assert_error(quote_check("", &e, &quote, &clock), -EBADMSG, "quote");
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_good_quote),       T(test_stale_nonce),       T(test_other_agents_ak),
                T(test_pcr16_bound_to_another_key), T(test_replayed_older_quote), T(test_pcr_not_asked_for),
                T(test_altered_pcr_value), T(test_garbage),          T(test_ecdsa_quote),
        };
#undef T
        return cmocka_run_group_tests_name("quote_check", tests, NULL, NULL);
}
