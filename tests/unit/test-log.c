/* lib/log.c: one line per message on stderr, whatever the message quotes from a peer. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* What the log calls in `fn` wrote to stderr. */
static char *capture_stderr(void (*fn)(void)) {
        FILE *tmp = tmpfile();
        int saved = dup(STDERR_FILENO);

        assert_non_null(tmp);
        assert_true(saved >= 0);
        fflush(stderr);
        assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
        fn();
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        return read_back(tmp);
}

static void log_hostile(void) {
        log_setup("vmattest-verifier", LOG_LEVEL_INFO);
        /* an agent's HTTP error body, as the poller logs it */
        log_warning("verifier: agent %s: %s", "a1", "HTTP 500: \x1b[2J\x1b]0;owned\x07\nvmattest-verifier: agent a1 is trusted");
        log_info("path \"%s\"", "/tmp/\xe2\x80\xae" "fdp.exe");
}

static void test_peer_bytes_escaped(void **state) {
        _cleanup_(freep) char *text = capture_stderr(log_hostile);

        assert_string_equal(text, "vmattest-verifier: warning: verifier: agent a1: HTTP 500: \\x1b[2J\\x1b]0;owned\\x07"
                                  "\\x0avmattest-verifier: agent a1 is trusted\n"
                                  "vmattest-verifier: path \"/tmp/\\xe2\\x80\\xaefdp.exe\"\n");
}

static void log_plain(void) {
        log_setup("vmattest", LOG_LEVEL_INFO);
        log_error("cannot open %s: %s", "/etc/vmattest/agent.conf", "No such file or directory");
        log_debug("not shown at level info");
}

static void test_plain_lines_unchanged(void **state) {
        _cleanup_(freep) char *text = capture_stderr(log_plain);

        assert_string_equal(text, "vmattest: error: cannot open /etc/vmattest/agent.conf: No such file or directory\n");
}

/* Under systemd with stderr the journal's stream: each line leads with its syslog priority
 * (sd-daemon(3)), so that `journalctl -p err` finds the errors. */
static void log_journal(void) {
        struct stat st;
        char stream[64];

        assert_int_equal(fstat(STDERR_FILENO, &st), 0);
        snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", stream, 1);
        log_setup("vmattest", LOG_LEVEL_DEBUG);
        log_error("registrar http://127.0.0.1:8890: giving up after 3 attempts");
        log_warning("no EK certificate");
        log_info("agent a1 serving");
        log_debug("poll 1");
}

/* JOURNAL_STREAM of another stream (stderr redirected since systemd set it): plain lines. */
static void log_journal_elsewhere(void) {
        setenv("JOURNAL_STREAM", "8:12345", 1);
        log_setup("vmattest", LOG_LEVEL_INFO);
        log_error("cannot open %s", "/etc/vmattest/agent.conf");
}

static void test_journal_priorities(void **state) {
        _cleanup_(freep) char *journal = capture_stderr(log_journal);
        _cleanup_(freep) char *elsewhere = capture_stderr(log_journal_elsewhere);

        unsetenv("JOURNAL_STREAM");
        assert_string_equal(journal, "<3>vmattest: error: registrar http://127.0.0.1:8890: giving up after 3 attempts\n"
                                     "<4>vmattest: warning: no EK certificate\n"
                                     "<6>vmattest: agent a1 serving\n"
                                     "<7>vmattest: debug: poll 1\n");
        assert_string_equal(elsewhere, "vmattest: error: cannot open /etc/vmattest/agent.conf\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_peer_bytes_escaped),
                cmocka_unit_test(test_plain_lines_unchanged),
                cmocka_unit_test(test_journal_priorities),
        };

        return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
