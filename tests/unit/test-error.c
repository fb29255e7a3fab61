/* lib/error.c: one detail line per thread, recorded where the failure is understood. */
#include "tests/unit/unit.h"

#include <pthread.h>

static void test_records_detail_and_returns_code(void **state) {
        vm_error_clear();
        assert_int_equal(vm_error(-EBADMSG, "pcrblob: %s at offset %d", "truncated", 7), -EBADMSG);
        assert_string_equal(vm_error_detail(-EBADMSG), "pcrblob: truncated at offset 7");
        /* the detail belongs to its code: another failure (a bare -EIO returned later) is not
         * described by it */
        assert_string_equal(vm_error_detail(-EIO), strerror(EIO));
        assert_string_equal(vm_error_detail(EBADMSG), "pcrblob: truncated at offset 7");
}

static void test_later_error_replaces_earlier(void **state) {
        vm_error(-EINVAL, "first");
        vm_error(-EIO, "second");
        assert_string_equal(vm_error_detail(-EIO), "second");
}

static void test_without_detail_falls_back_to_strerror(void **state) {
        vm_error(-EINVAL, "stale");
        vm_error_clear();
        assert_string_equal(vm_error_detail(-ENOENT), strerror(ENOENT));
        /* a positive code is accepted too */
        assert_string_equal(vm_error_detail(ENOMEM), strerror(ENOMEM));
}

static void test_long_detail_is_truncated_safely(void **state) {
        char long_text[2000];

        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        vm_error(-EINVAL, "%s", long_text);
        /* 512-byte buffer: 511 characters and the terminator */
        assert_int_equal(strlen(vm_error_detail(-EINVAL)), 511);
}

/* A detail quotes what peers sent (the poller's "HTTP %ld: %.150s" of an agent's error body, a
 * registration member, an IMA path): it is stored, logged and printed, so it holds no control
 * byte, and a detail wrapping one keeps it as it was escaped. */
static void test_peer_text_escaped(void **state) {
        static const char body[] = "{\"status\": \"\x1b]0;owned\x07\x1b[2J\"}\r\nverifier: agent x is fine";

        vm_error(-EIO, "HTTP %ld: %.150s", 500L, body);
        assert_string_equal(vm_error_detail(-EIO), "HTTP 500: {\"status\": \"\\x1b]0;owned\\x07\\x1b[2J\"}"
                                                   "\\x0d\\x0averifier: agent x is fine");
        vm_error(-EIO, "agent a: %s", vm_error_detail(-EIO));
        assert_string_equal(vm_error_detail(-EIO), "agent a: HTTP 500: {\"status\": \"\\x1b]0;owned\\x07"
                                                   "\\x1b[2J\"}\\x0d\\x0averifier: agent x is fine");
        vm_error(-EBADMSG, "ip \"%.64s\" is not an address", "\xc2\x9b" "31m");
        assert_string_equal(vm_error_detail(-EBADMSG), "ip \"\\xc2\\x9b31m\" is not an address");
}

static void *record_in_thread(void *arg) {
        vm_error(-EIO, "from another thread");
        return NULL;
}

static void test_detail_is_per_thread(void **state) {
        pthread_t thread;

        vm_error(-EINVAL, "main thread");
        assert_int_equal(pthread_create(&thread, NULL, record_in_thread, NULL), 0);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_string_equal(vm_error_detail(-EINVAL), "main thread");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_records_detail_and_returns_code),
                cmocka_unit_test(test_later_error_replaces_earlier),
                cmocka_unit_test(test_without_detail_falls_back_to_strerror),
                cmocka_unit_test(test_long_detail_is_truncated_safely),
                cmocka_unit_test(test_detail_is_per_thread),
                cmocka_unit_test(test_peer_text_escaped),
        };

        return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
