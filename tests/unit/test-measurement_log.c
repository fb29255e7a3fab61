/* measurement_log: the agent's PCR 15 log, written and replayed, and refused when altered; what
 * the verifier concludes from it (a release, leaving the initrd) cannot be changed without
 * changing PCR 15. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "lib/hashalg.h"
#include "lib/measurement_log.h"

/* SHA-256(event || 0x00 || data), computed here without the library: the typed digest. */
static void typed_digest(const char *event, const char *data, uint8_t out[32]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, event, strlen(event) + 1), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, data, strlen(data)), 1);
        assert_int_equal(EVP_DigestFinal_ex(ctx, out, NULL), 1);
        EVP_MD_CTX_free(ctx);
}

static void extend(uint8_t pcr[32], const uint8_t digest[32]) {
        uint8_t chain[64];

        memcpy(chain, pcr, 32);
        memcpy(chain + 32, digest, 32);
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, chain, 64, pcr), 0);
}

/* The records as the agent writes them, and PCR 15 after them, computed here independently. */
static void make_log(const char *const *events, const char *const *data, int n, char *log, size_t cap, uint8_t pcr15[32]) {
        memset(pcr15, 0, 32);
        log[0] = '\0';
        for (int i = 0; i < n; i++) {
                uint8_t digest[32];
                char *line = NULL;

                typed_digest(events[i], data[i], digest);
                assert_int_equal(measurement_record((uint64_t)i, TPM2_ALG_SHA256, events[i], data[i], &line), 0);
                assert_true(strlen(log) + strlen(line) < cap);
                strcat(log, line);
                free(line);
                extend(pcr15, digest);
        }
}

static const char *const unlock_events[] = { "root-identity", "key-released" };
static const char *const unlock_data[] = { "luks-uuid-1", "agent-1" };

static void test_replays_to_pcr15(void **state) {
        char log[4096];
        uint8_t want[32];
        struct measurement_summary s;

        make_log(unlock_events, unlock_data, 2, log, sizeof(log), want);
        assert_int_equal(measurement_log_replay(log, strlen(log), TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 2);
        assert_int_equal(s.releases, 1);
        assert_int_equal(s.first_release, 1);
        assert_false(s.left_initrd);
        assert_memory_equal(s.pcr15, want, 32);
        assert_int_equal(measurement_log_replay("", 0, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 0);
        assert_int_equal(s.releases, 0);
}

/* What each event means to the verifier; an event it does not know counts as a release. */
static void test_classification(void **state) {
        static const char *const events[] = { "root-identity", "leave-initrd", "my-step" };
        static const char *const data[] = { "uuid", "switch-root", "anything" };
        char log[4096];
        uint8_t want[32];
        struct measurement_summary s;

        make_log(events, data, 2, log, sizeof(log), want);
        assert_int_equal(measurement_log_replay(log, strlen(log), TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.releases, 0);
        assert_true(s.left_initrd);
        assert_int_equal(s.leave_record, 1);
        make_log(events, data, 3, log, sizeof(log), want);
        assert_int_equal(measurement_log_replay(log, strlen(log), TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.releases, 1);
        assert_int_equal(s.first_release, 2);
}

/* Finding: the event's name was not extended, so "key-released" rewritten as "root-identity"
 * still replayed and the verifier released a second key in the same boot. The name is inside
 * the digest now: the renamed record does not replay. */
static void test_renamed_release_is_refused(void **state) {
        char log[4096], *at;
        uint8_t want[32];
        struct measurement_summary s;

        make_log(unlock_events, unlock_data, 2, log, sizeof(log), want);
        at = strstr(log, "\"key-released\"");
        assert_non_null(at);
        memmove(at + strlen("\"root-identity\""), at + strlen("\"key-released\""), strlen(at + strlen("\"key-released\"")) + 1);
        memcpy(at, "\"root-identity\"", strlen("\"root-identity\""));
        assert_error(measurement_log_replay(log, strlen(log), TPM2_ALG_SHA256, &s), -EBADMSG, "record 1");
}

/* Every change of one character must be refused or replay to the same value with the same
 * conclusions: the log cannot be edited without PCR 15 noticing. */
static void test_edits_are_caught(void **state) {
        static const char *const events[] = { "root-identity", "key-released", "leave-initrd" };
        static const char *const data[] = { "luks-uuid-1", "agent-1", "switch-root" };
        char log[4096], edited[4096];
        uint8_t want[32];
        struct measurement_summary s;

        make_log(events, data, 3, log, sizeof(log), want);
        for (size_t i = 0; i < strlen(log); i++) {
                if (log[i] == '\n')
                        continue;
                strcpy(edited, log);
                edited[i] = edited[i] == 'a' ? 'b' : 'a';
                if (measurement_log_replay(edited, strlen(edited), TPM2_ALG_SHA256, &s) == 0) {
                        assert_memory_equal(s.pcr15, want, 32);
                        assert_int_equal(s.releases, 1);
                        assert_true(s.left_initrd);
                }
        }
}

static void test_hostile_logs(void **state) {
        struct measurement_summary s;
        char big[MEASUREMENT_LINE_MAX + 10], line[512];
        uint8_t digest[32];
        char hex[65];

        assert_error(measurement_log_replay("not json\n", 9, TPM2_ALG_SHA256, &s), -EBADMSG, "record 0");
        assert_error(measurement_log_replay("[]\n", 3, TPM2_ALG_SHA256, &s), -EBADMSG, "not a JSON object");
        assert_error(measurement_log_replay("{\"recnum\":1}\n", 13, TPM2_ALG_SHA256, &s), -EBADMSG, "recnum is not 0");
        assert_error(measurement_log_replay("{\"recnum\":0,\"pcr\":10}\n", 22, TPM2_ALG_SHA256, &s), -EBADMSG, "pcr is not 15");
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_error(measurement_log_replay(big, strlen(big), TPM2_ALG_SHA256, &s), -EBADMSG, "longer than");
        /* a NUL inside the name would let "key-released\0x" hash as another split of the bytes */
        typed_digest("root-identity", "x", digest);
        for (int i = 0; i < 32; i++)
                sprintf(hex + 2 * i, "%02x", digest[i]);
        snprintf(line, sizeof(line),
                 "{\"recnum\":0,\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}],"
                 "\"content_type\":\"vmattest\",\"content\":{\"event\":\"root-identity\\u0000key-released\",\"data\":\"x\"}}\n",
                 hex);
        assert_error(measurement_log_replay(line, strlen(line), TPM2_ALG_SHA256, &s), -EBADMSG, "record 0");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replays_to_pcr15),
                cmocka_unit_test(test_classification),
                cmocka_unit_test(test_renamed_release_is_refused),
                cmocka_unit_test(test_edits_are_caught),
                cmocka_unit_test(test_hostile_logs),
        };
        return cmocka_run_group_tests_name("measurement_log", tests, NULL, NULL);
}
