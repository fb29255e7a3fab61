/* quote_query: the agent's reading of GET /quotes/{identity,integrity}?... as libevent decodes
 * it; every malformed value is refused with the reason the agent answers (HTTP 400). */
#include "tests/unit/unit.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

#include "agent/quote_query.h"

/* As agent/api.c does it: libevent's decoding, then quote_query_parse. */
static int parse(const char *text, bool integrity, struct quote_query *out) {
        struct evkeyvalq query;
        int ret;

        TAILQ_INIT(&query);
        assert_int_equal(evhttp_parse_query_str(text, &query), 0);
        vm_error_clear();
        ret = quote_query_parse(&query, integrity, out);
        evhttp_clear_headers(&query);
        return ret;
}

static void test_integrity_query(void **state) {
        struct quote_query q;

        assert_int_equal(parse("nonce=abc123&mask=0x408400&ima_ml_entry=5&partial=1", true, &q), 0);
        assert_string_equal(q.nonce, "abc123");
        assert_int_equal(q.mask, 0x408400);
        assert_int_equal(q.ima_entry, 5);
        assert_false(q.with_pubkey);
        assert_int_equal(parse("partial=0&nonce=Z9&mask=ffffff", true, &q), 0);
        assert_int_equal(q.mask, 0xffffff);
        assert_int_equal(q.ima_entry, 0);
        assert_true(q.with_pubkey);
        /* no mask, no entry, no partial: nothing but the payload PCR, the key included */
        assert_int_equal(parse("nonce=n", true, &q), 0);
        assert_int_equal(q.mask, 0);
        assert_true(q.with_pubkey);
        /* a repeated name: the first counts */
        assert_int_equal(parse("nonce=first&nonce=second&mask=1&mask=2", true, &q), 0);
        assert_string_equal(q.nonce, "first");
        assert_int_equal(q.mask, 1);
}

static void test_identity_ignores_integrity_fields(void **state) {
        struct quote_query q;

        assert_int_equal(parse("nonce=abc&mask=zz&ima_ml_entry=-1&partial=1", false, &q), 0);
        assert_int_equal(q.mask, 0);
        assert_int_equal(q.ima_entry, 0);
        assert_true(q.with_pubkey); /* an identity quote always carries the payload key */
        assert_int_equal(parse("nonce=abc&mask=zz", true, &q), -EBADMSG);
        assert_error(parse("nonce=abc&partial=yes", false, &q), -EBADMSG, "partial must be 0 or 1");
}

static void test_nonce(void **state) {
        char text[128];
        struct quote_query q;

        assert_error(parse("mask=1", true, &q), -EBADMSG, "nonce must be 1-64 letters and digits");
        assert_error(parse("nonce=", true, &q), -EBADMSG, "nonce must be 1-64");
        assert_error(parse("nonce=ab-c", true, &q), -EBADMSG, "nonce must be 1-64");
        assert_error(parse("nonce=a%2Bb", false, &q), -EBADMSG, "nonce must be 1-64"); /* decoded '+' */
        snprintf(text, sizeof(text), "nonce=%064d", 7);
        assert_int_equal(parse(text, true, &q), 0);
        assert_int_equal(strlen(q.nonce), QUOTE_QUERY_NONCE_MAX);
        snprintf(text, sizeof(text), "nonce=%065d", 7);
        assert_error(parse(text, true, &q), -EBADMSG, "nonce must be 1-64");
}

static void test_mask_and_entry(void **state) {
        struct quote_query q;

        assert_error(parse("nonce=a&mask=1000000", true, &q), -EBADMSG, "mask must be hex with bits 0-23");
        assert_error(parse("nonce=a&mask=", true, &q), -EBADMSG, "mask must be hex");
        assert_error(parse("nonce=a&mask=1g", true, &q), -EBADMSG, "mask must be hex");
        assert_error(parse("nonce=a&mask=ffffffffffffffffffff", true, &q), -EBADMSG, "mask must be hex");
        assert_error(parse("nonce=a&ima_ml_entry=-1", true, &q), -EBADMSG, "ima_ml_entry must be an entry number");
        assert_error(parse("nonce=a&ima_ml_entry=", true, &q), -EBADMSG, "ima_ml_entry must be");
        assert_error(parse("nonce=a&ima_ml_entry=12x", true, &q), -EBADMSG, "ima_ml_entry must be");
        assert_int_equal(parse("nonce=a&ima_ml_entry=18446744073709551615", true, &q), 0);
        assert_int_equal(q.ima_entry, UINT64_MAX);
        /* digits only: no sign, no space, nothing past 2^64 - 1 clamped */
        assert_error(parse("nonce=a&ima_ml_entry=%20-5", true, &q), -EBADMSG, "ima_ml_entry must be");
        assert_error(parse("nonce=a&ima_ml_entry=+5", true, &q), -EBADMSG, "ima_ml_entry must be");
        assert_error(parse("nonce=a&ima_ml_entry=18446744073709551616", true, &q), -EBADMSG, "ima_ml_entry must be");
        assert_error(parse("nonce=a&partial=2", true, &q), -EBADMSG, "partial must be 0 or 1");
        assert_error(parse("nonce=a&partial=", true, &q), -EBADMSG, "partial must be 0 or 1");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_integrity_query),
                cmocka_unit_test(test_identity_ignores_integrity_fields),
                cmocka_unit_test(test_nonce),
                cmocka_unit_test(test_mask_and_entry),
        };

        return cmocka_run_group_tests_name("quote_query", tests, NULL, NULL);
}
