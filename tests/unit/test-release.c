/* release: the key release's state machine, every transition, and the holes it closes: V only
 * for an integrity quote of the boot and restart that earned U (not another boot's), never
 * after the boot left the initrd or recorded a release, once per boot across a TPM restart
 * (S3) and across re-enrolment. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/auth_tag.h"
#include "verifier/release.h"

static char *pubkey_pem;

static int make_pubkey(void **state) {
        EVP_PKEY *key = EVP_RSA_gen(2048);
        BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        long size;

        if (!key || !bio || PEM_write_bio_PUBKEY(bio, key) != 1)
                return -1;
        size = BIO_get_mem_data(bio, &data);
        pubkey_pem = strndup(data, (size_t)size);
        BIO_free(bio);
        EVP_PKEY_free(key);
        return pubkey_pem ? 0 : -1;
}

static int free_pubkey(void **state) {
        free(pubkey_pem);
        return 0;
}

static struct quote_clock boot(uint32_t reset, uint32_t restart) {
        return (struct quote_clock){ .clock = 1000, .reset_count = reset, .restart_count = restart, .valid = true };
}

static const struct measurement_summary clean_log = { .records = 1 };
static const struct measurement_summary left_log = { .records = 2, .left_initrd = true, .leave_record = 1 };
static const struct measurement_summary released_log = { .records = 2, .releases = 1, .first_release = 1 };

static void keys_for(struct release *r) {
        struct release_keys *keys;

        assert_int_equal(release_keys_prepare(NULL, NULL, "agent-1", pubkey_pem, &keys), 0);
        release_keys_ready(r, keys);
        assert_int_equal(r->state, RELEASE_UKEY);
        assert_int_equal(release_next(r), RELEASE_POST_UKEY);
}

/* From IDLE to the state after U was delivered, on a good quote of `clock`. */
static void to_integrity(struct release *r, struct quote_clock clock) {
        assert_int_equal(release_next(r), RELEASE_ASK_INTEGRITY);
        assert_int_equal(release_integrity_quoted(r, &clock, &clean_log), RELEASE_PREPARE);
        keys_for(r);
        release_ukey_delivered(r);
        assert_int_equal(r->state, RELEASE_INTEGRITY);
        assert_int_equal(release_next(r), RELEASE_ASK_INTEGRITY);
}

static void proof(const struct release *r, char hmac[AUTH_TAG_HEX_SIZE]) {
        assert_int_equal(auth_tag_compute(r->keys->split->k, KEY_SPLIT_SIZE, r->keys->challenge, hmac), 0);
}

static void test_who_gets_a_release(void **state) {
        struct quote_clock b3 = boot(3, 0), b3_resumed = boot(3, 1), b4 = boot(4, 0);
        struct release r;

        release_init(&r, false, -1, -1);
        assert_int_equal(release_next(&r), RELEASE_ASK_INTEGRITY);
        assert_int_equal(release_integrity_quoted(&r, &b3, &clean_log), RELEASE_GO_ON); /* no payload */
        release_init(&r, true, 3, 0);
        assert_int_equal(release_integrity_quoted(&r, &b3, &clean_log), RELEASE_GO_ON);
        /* a resume from S3 raises restartCount and keeps PCRs 0-15: the same boot */
        assert_int_equal(release_integrity_quoted(&r, &b3_resumed, &clean_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_int_equal(release_integrity_quoted(&r, &b4, &clean_log), RELEASE_PREPARE);
        release_done(&r);
}

/* docs/protocol.md §5.6: a group that pins PCR 9 by the first boot holds the release until
 * the pin was made */
static void test_held_until_the_pcr9_pin(void **state) {
        struct quote_clock b4 = boot(4, 0);
        struct release r;

        release_init(&r, true, 3, 0);
        r.pcr9_pin_missing = true;
        assert_int_equal(release_integrity_quoted(&r, &b4, &clean_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_non_null(strstr(r.held, "pins PCR 9 by the agent's first boot"));
        r.pcr9_pin_missing = false;
        assert_int_equal(release_integrity_quoted(&r, &b4, &clean_log), RELEASE_PREPARE);
        assert_string_equal(r.held, "");
        release_done(&r);
}

static void test_release_once_per_boot(void **state) {
        struct quote_clock b5 = boot(5, 0), b5_resumed = boot(5, 1), b6 = boot(6, 0);
        char hmac[AUTH_TAG_HEX_SIZE];
        struct release r;

        release_init(&r, true, -1, -1);
        to_integrity(&r, b5);
        assert_int_equal(release_integrity_quoted(&r, &b5, &clean_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_VKEY);
        assert_int_equal(release_next(&r), RELEASE_POST_VKEY);
        release_vkey_delivered(&r);
        assert_int_equal(release_next(&r), RELEASE_ASK_VERIFY);
        proof(&r, hmac);
        assert_int_equal(release_verified(&r, hmac), RELEASE_RECORDED);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_null(r.keys);
        assert_int_equal(r.released_reset, 5);
        /* the same boot after S3, even with the agent's key-released record: nothing more */
        assert_int_equal(release_integrity_quoted(&r, &b5_resumed, &released_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE);
        /* a new boot wants its key */
        assert_int_equal(release_integrity_quoted(&r, &b6, &clean_log), RELEASE_PREPARE);
        release_done(&r);
}

/* Re-enrolled (add) in a boot that had its key: the kept record says so. */
static void test_reenrolled_in_a_released_boot(void **state) {
        struct quote_clock b7 = boot(7, 2);
        struct release r;

        release_init(&r, true, 7, 0); /* add clears the clock, not the release record */
        assert_int_equal(release_integrity_quoted(&r, &b7, &released_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_int_equal(release_next(&r), RELEASE_ASK_INTEGRITY);
}

/* Finding: V followed any good integrity quote once U was sent, even one of another boot or
 * restart. Now that attempt is void and the quote is judged afresh. */
static void test_v_only_for_the_boot_that_earned_u(void **state) {
        struct quote_clock b8 = boot(8, 0), b8_restarted = boot(8, 1), b9 = boot(9, 0);
        struct release r;

        release_init(&r, true, -1, -1);
        to_integrity(&r, b8);
        assert_int_equal(release_integrity_quoted(&r, &b9, &clean_log), RELEASE_PREPARE);
        assert_null(r.keys);
        assert_int_equal(r.boot.reset_count, 9);
        keys_for(&r);
        release_ukey_delivered(&r);
        assert_int_equal(release_integrity_quoted(&r, &b8_restarted, &clean_log), RELEASE_PREPARE);
        assert_int_not_equal(r.state, RELEASE_VKEY);
        release_done(&r);
}

/* Finding: nothing limited the release to the initrd. */
static void test_no_release_after_the_initrd(void **state) {
        struct quote_clock b10 = boot(10, 0);
        struct release r;

        release_init(&r, true, -1, -1);
        assert_int_equal(release_integrity_quoted(&r, &b10, &left_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_non_null(strstr(r.held, "left the initrd"));
        assert_int_equal(release_integrity_quoted(&r, &b10, NULL), RELEASE_GO_ON);
        assert_non_null(strstr(r.held, "no PCR 15 log"));
        /* U delivered, then the boot left the initrd (the initrd gave up waiting): no V */
        to_integrity(&r, b10);
        assert_string_equal(r.held, "");
        assert_int_equal(release_integrity_quoted(&r, &b10, &left_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_null(r.keys);
        release_done(&r);
}

static void test_refusals(void **state) {
        struct quote_clock b11 = boot(11, 0);
        char hmac[AUTH_TAG_HEX_SIZE];
        struct release r;

        release_init(&r, true, -1, -1);
        /* a release this verifier did not make: a second one in this boot */
        assert_error(release_integrity_quoted(&r, &b11, &released_log), -EPERM, "already holds a key release");
        to_integrity(&r, b11);
        assert_error(release_integrity_quoted(&r, &b11, &released_log), -EPERM, "(record 1)");
        assert_null(r.keys);
        to_integrity(&r, b11);
        assert_int_equal(release_integrity_quoted(&r, &b11, &clean_log), RELEASE_GO_ON);
        release_vkey_delivered(&r);
        proof(&r, hmac);
        hmac[0] = hmac[0] == '0' ? '1' : '0';
        assert_error(release_verified(&r, hmac), -EPERM, "does not prove");
        assert_int_equal(r.released_reset, -1);
        assert_int_equal(r.state, RELEASE_IDLE);
        release_done(&r);
}

static void test_interrupted_release(void **state) {
        struct quote_clock b12 = boot(12, 0), b13 = boot(13, 0);
        struct release r;

        release_init(&r, true, -1, -1);
        /* U refused (serve without runtime_release) or lost: the next integrity poll decides */
        assert_int_equal(release_integrity_quoted(&r, &b12, &clean_log), RELEASE_PREPARE);
        keys_for(&r);
        release_request_failed(&r);
        assert_int_equal(r.state, RELEASE_IDLE);
        assert_null(r.keys);
        assert_int_equal(release_next(&r), RELEASE_ASK_INTEGRITY);
        to_integrity(&r, b12);
        release_request_failed(&r); /* an integrity poll unanswered: asked again */
        assert_int_equal(r.state, RELEASE_INTEGRITY);
        /* V sent, no answer: V may be there; the PCR 15 log of the same boot settles it */
        assert_int_equal(release_integrity_quoted(&r, &b12, &clean_log), RELEASE_GO_ON);
        release_request_failed(&r);
        assert_int_equal(r.state, RELEASE_SETTLE);
        assert_int_equal(release_integrity_quoted(&r, &b12, &released_log), RELEASE_RECORDED);
        assert_int_equal(r.released_reset, 12);
        assert_int_equal(r.state, RELEASE_IDLE);
        /* ... without a release in the log it starts over; of another boot too */
        to_integrity(&r, b13);
        assert_int_equal(release_integrity_quoted(&r, &b13, &clean_log), RELEASE_GO_ON);
        release_vkey_delivered(&r);
        release_request_failed(&r); /* /keys/verify unanswered */
        assert_int_equal(r.state, RELEASE_SETTLE);
        assert_int_equal(release_integrity_quoted(&r, &b13, &clean_log), RELEASE_PREPARE);
        keys_for(&r);
        release_ukey_delivered(&r);
        assert_int_equal(release_integrity_quoted(&r, &b13, &clean_log), RELEASE_GO_ON);
        release_request_failed(&r);
        assert_int_equal(release_integrity_quoted(&r, &b12, &released_log), RELEASE_GO_ON);
        assert_int_equal(r.state, RELEASE_IDLE); /* b12 had its release */
        release_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_who_gets_a_release),
                cmocka_unit_test(test_held_until_the_pcr9_pin),
                cmocka_unit_test(test_release_once_per_boot),
                cmocka_unit_test(test_reenrolled_in_a_released_boot),
                cmocka_unit_test(test_v_only_for_the_boot_that_earned_u),
                cmocka_unit_test(test_no_release_after_the_initrd),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_interrupted_release),
        };
        return cmocka_run_group_tests_name("release", tests, make_pubkey, free_pubkey);
}
