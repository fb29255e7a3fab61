/* measurement_log: the agent's PCR 15 log, written and replayed, and refused when altered. */
#include "tests/unit/unit.h"

#include "lib/hashalg.h"
#include "lib/measurement_log.h"

/* Two records as the agent writes them, and PCR 15 after them, computed here independently. */
static void make_log(char *log, size_t cap, uint8_t pcr15[32]) {
        const char *events[] = { "root-identity", "key-released" }, *data[] = { "luks-uuid-1", "root" };
        uint8_t chain[64] = { 0 };

        log[0] = '\0';
        for (int i = 0; i < 2; i++) {
                uint8_t digest[32];
                char *line = NULL;

                assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, data[i], strlen(data[i]), digest), 0);
                assert_int_equal(measurement_record((uint64_t)i, TPM2_ALG_SHA256, digest, events[i], data[i], &line), 0);
                assert_true(strlen(log) + strlen(line) < cap);
                strcat(log, line);
                free(line);
                memcpy(chain + 32, digest, 32);
                assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, chain, 64, chain), 0);
        }
        memcpy(pcr15, chain, 32);
}

static void test_replays_to_pcr15(void **state) {
        char log[4096];
        uint8_t want[32];
        struct measurement_summary s;

        make_log(log, sizeof(log), want);
        assert_int_equal(measurement_log_replay(log, strlen(log), TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 2);
        assert_true(s.key_released);
        assert_memory_equal(s.pcr15, want, 32);
        assert_int_equal(measurement_log_replay("", 0, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 0);
        assert_false(s.key_released);
}

/* Every change of one character must be refused (or, if it keeps the JSON valid and the same
 * meaning, replay to the same value): the log cannot be edited without PCR 15 noticing. */
static void test_edits_are_caught(void **state) {
        char log[4096], edited[4096];
        uint8_t want[32];
        struct measurement_summary s;

        make_log(log, sizeof(log), want);
        for (size_t i = 0; i < strlen(log); i++) {
                if (log[i] == '\n')
                        continue;
                strcpy(edited, log);
                edited[i] = edited[i] == 'a' ? 'b' : 'a';
                if (measurement_log_replay(edited, strlen(edited), TPM2_ALG_SHA256, &s) == 0)
                        assert_memory_equal(s.pcr15, want, 32);
        }
}

static void test_hostile_logs(void **state) {
        struct measurement_summary s;
        char big[MEASUREMENT_LINE_MAX + 10];

        assert_error(measurement_log_replay("not json\n", 9, TPM2_ALG_SHA256, &s), -EBADMSG, "record 0");
        assert_error(measurement_log_replay("[]\n", 3, TPM2_ALG_SHA256, &s), -EBADMSG, "not a JSON object");
        assert_error(measurement_log_replay("{\"recnum\":1}\n", 13, TPM2_ALG_SHA256, &s), -EBADMSG, "recnum is not 0");
        assert_error(measurement_log_replay("{\"recnum\":0,\"pcr\":10}\n", 22, TPM2_ALG_SHA256, &s), -EBADMSG, "pcr is not 15");
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_error(measurement_log_replay(big, strlen(big), TPM2_ALG_SHA256, &s), -EBADMSG, "longer than");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replays_to_pcr15),
                cmocka_unit_test(test_edits_are_caught),
                cmocka_unit_test(test_hostile_logs),
        };
        return cmocka_run_group_tests_name("measurement_log", tests, NULL, NULL);
}
