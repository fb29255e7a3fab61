/* measurement_log: the agent's PCR 15 log, in the firmware event log's format, written and
 * replayed (alone, and after a real firmware log, as the agent serves it), and refused when
 * altered; what the verifier concludes from it (a release, leaving the initrd) cannot be
 * changed without changing PCR 15. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/measurement_log.h"

#define LOG_CAP 8192
static const TPM2_ALG_ID two_banks[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };

/* H(event || 0x00 || data), computed here without the library: the typed digest. */
static void typed_digest(const EVP_MD *md, const char *event, const char *data, uint8_t *out) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
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

static void append(uint8_t *log, size_t *size, const uint8_t *bytes, size_t n) {
        assert_true(*size + n <= LOG_CAP);
        memcpy(log + *size, bytes, n);
        *size += n;
}

/* The agent's file (Spec ID event, then one record an event) in `banks`, and PCR 15's SHA-256
 * value after it, computed here independently. */
static size_t make_log_in(const TPM2_ALG_ID *banks, size_t nbanks, const char *const *events, const char *const *data,
                          int n, uint8_t *log, uint8_t pcr15[32]) {
        uint8_t *bytes = NULL;
        size_t size = 0, n_bytes;

        memset(pcr15, 0, 32);
        assert_int_equal(measurement_log_header(banks, nbanks, &bytes, &n_bytes), 0);
        append(log, &size, bytes, n_bytes);
        free(bytes);
        for (int i = 0; i < n; i++) {
                uint8_t digest[32];

                typed_digest(EVP_sha256(), events[i], data[i], digest);
                assert_int_equal(measurement_record(banks, nbanks, events[i], data[i], &bytes, &n_bytes), 0);
                append(log, &size, bytes, n_bytes);
                free(bytes);
                extend(pcr15, digest);
        }
        return size;
}

static size_t make_log(const char *const *events, const char *const *data, int n, uint8_t *log, uint8_t pcr15[32]) {
        return make_log_in(two_banks, 2, events, data, n, log, pcr15);
}

static const char *const unlock_events[] = { "root-identity", "key-released" };
static const char *const unlock_data[] = { "luks-uuid-1", "agent-1" };

static void test_replays_to_pcr15(void **state) {
        uint8_t log[LOG_CAP], want[32];
        struct measurement_summary s;
        size_t size = make_log(unlock_events, unlock_data, 2, log, want);
        struct pcr_values replayed;

        assert_int_equal(measurement_log_replay(log, size, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 2);
        assert_int_equal(s.releases, 1);
        assert_int_equal(s.first_release, 1);
        assert_false(s.left_initrd);
        assert_memory_equal(s.pcr15, want, 32);
        /* the same log is a firmware-format log: the generic replay agrees, in both banks */
        assert_int_equal(eventlog_replay(log, size, TPM2_ALG_SHA256, &replayed), 0);
        assert_int_equal(replayed.mask, 1u << MEASUREMENT_PCR);
        assert_memory_equal(replayed.value[MEASUREMENT_PCR].buffer, want, 32);
        assert_int_equal(eventlog_replay(log, size, TPM2_ALG_SHA1, &replayed), 0);
        assert_int_equal(measurement_log_replay(log, size, TPM2_ALG_SHA1, &s), 0);
        assert_memory_equal(s.pcr15, replayed.value[MEASUREMENT_PCR].buffer, 20);
        /* no log at all: PCR 15 untouched */
        assert_int_equal(measurement_log_replay(NULL, 0, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 0);
        assert_int_equal(s.releases, 0);
}

/* What each event means to the verifier; an event it does not know counts as a release. */
static void test_classification(void **state) {
        static const char *const events[] = { "root-identity", "leave-initrd", "my-step" };
        static const char *const data[] = { "uuid", "switch-root", "anything" };
        uint8_t log[LOG_CAP], want[32];
        struct measurement_summary s;
        size_t size = make_log(events, data, 2, log, want);

        assert_int_equal(measurement_log_replay(log, size, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.releases, 0);
        assert_true(s.left_initrd);
        assert_int_equal(s.leave_record, 1);
        size = make_log(events, data, 3, log, want);
        assert_int_equal(measurement_log_replay(log, size, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.releases, 1);
        assert_int_equal(s.first_release, 2);
}

/* As the agent serves it: a real firmware log (an OVMF boot), then the agent's records without
 * their Spec ID event. PCR 15's records are found after the firmware's hundred events; the
 * firmware's PCRs replay as before. */
static void test_after_a_firmware_log(void **state) {
        size_t firmware_size, own_size, records, nbanks;
        _cleanup_(freep) uint8_t *firmware = read_vector("tests/fixtures/boot/binary_bios_measurements", &firmware_size);
        uint8_t own[LOG_CAP], want[32];
        TPM2_ALG_ID banks[EVENTLOG_MAX_ALGORITHMS];
        struct pcr_values before, after;
        struct eventlog_spec_id spec;
        struct measurement_summary s;
        _cleanup_(freep) uint8_t *joined = NULL;

        /* the agent extends the banks the TPM has active, which the firmware declares */
        assert_int_equal(eventlog_spec_id(firmware, firmware_size, &spec), 0);
        assert_int_equal(spec.algorithm_count, 1);
        assert_int_equal(spec.algorithms[0].alg, TPM2_ALG_SHA256);
        own_size = make_log_in(&spec.algorithms[0].alg, 1, unlock_events, unlock_data, 2, own, want);
        assert_int_equal(measurement_log_banks(own, own_size, banks, EVENTLOG_MAX_ALGORITHMS, &nbanks, &records), 0);
        assert_int_equal(nbanks, 1);
        assert_int_equal(banks[0], TPM2_ALG_SHA256);
        assert_true(records > 0 && records < own_size);
        joined = malloc(firmware_size + own_size - records);
        assert_non_null(joined);
        memcpy(joined, firmware, firmware_size);
        memcpy(joined + firmware_size, own + records, own_size - records);
        assert_int_equal(measurement_log_replay(joined, firmware_size + own_size - records, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 2);
        assert_int_equal(s.releases, 1);
        assert_memory_equal(s.pcr15, want, 32);
        assert_int_equal(eventlog_replay(firmware, firmware_size, TPM2_ALG_SHA256, &before), 0);
        assert_int_equal(eventlog_replay(joined, firmware_size + own_size - records, TPM2_ALG_SHA256, &after), 0);
        assert_int_equal(after.mask, before.mask | 1u << MEASUREMENT_PCR);
        for (unsigned pcr = 0; pcr < 10; pcr++)
                if (before.mask & (1u << pcr))
                        assert_memory_equal(after.value[pcr].buffer, before.value[pcr].buffer, 32);
}

/* Finding: the event's name was not extended, so "key-released" rewritten as "root-identity"
 * still replayed and the verifier released a second key in the same boot. The name is inside
 * the digest: the renamed record does not replay. */
static void test_renamed_release_is_refused(void **state) {
        uint8_t log[LOG_CAP], want[32], *at;
        struct measurement_summary s;
        size_t size = make_log(unlock_events, unlock_data, 2, log, want);

        at = memmem(log, size, "key-released", strlen("key-released"));
        assert_non_null(at);
        memcpy(at, "root-identit", strlen("root-identit")); /* same length: still a well-formed record */
        assert_error(measurement_log_replay(log, size, TPM2_ALG_SHA256, &s), -EBADMSG, "record 1");
        assert_detail_contains(-EBADMSG, "digest is not H(event data)");
}

/* Every change of one byte must be refused, or replay to another PCR 15 (which the quote then
 * refuses), or leave the same conclusions: the log cannot be edited without PCR 15 noticing. */
static void test_edits_are_caught(void **state) {
        static const char *const events[] = { "root-identity", "key-released", "leave-initrd" };
        static const char *const data[] = { "luks-uuid-1", "agent-1", "switch-root" };
        uint8_t log[LOG_CAP], edited[LOG_CAP], want[32];
        struct measurement_summary s;
        size_t size = make_log(events, data, 3, log, want);

        for (size_t i = 0; i < size; i++)
                for (unsigned bit = 0; bit < 8; bit++) {
                        memcpy(edited, log, size);
                        edited[i] ^= (uint8_t)(1u << bit);
                        if (measurement_log_replay(edited, size, TPM2_ALG_SHA256, &s) == 0 &&
                            memcmp(s.pcr15, want, 32) == 0) {
                                assert_int_equal(s.releases, 1);
                                assert_true(s.left_initrd);
                        }
                }
}

/* A record in the firmware's format whose data is not ours: its digest is checked all the same,
 * and it counts as a release. */
static void test_foreign_pcr15_events(void **state) {
        uint8_t log[LOG_CAP], want[32], *record = NULL;
        struct measurement_summary s;
        size_t size = make_log(unlock_events, unlock_data, 1, log, want), n;

        assert_int_equal(measurement_record(two_banks, 2, "root-identity", "x", &record, &n), 0);
        /* the data without its NUL, digests made to match: someone else's PCR 15 event */
        record[n - strlen("x") - 1] = '-';
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA1, record + n - strlen("root-identity-x"), strlen("root-identity-x"),
                                        record + 12 + 2), 0);
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, record + n - strlen("root-identity-x"), strlen("root-identity-x"),
                                        record + 12 + 2 + 20 + 2), 0);
        append(log, &size, record, n);
        free(record);
        assert_int_equal(measurement_log_replay(log, size, TPM2_ALG_SHA256, &s), 0);
        assert_int_equal(s.records, 2);
        assert_int_equal(s.releases, 1);
        assert_int_equal(s.first_release, 1);
}

static void test_hostile_logs(void **state) {
        static const TPM2_ALG_ID sha1_only[] = { TPM2_ALG_SHA1 };
        static const TPM2_ALG_ID sm3[] = { TPM2_ALG_SM3_256 };
        uint8_t log[LOG_CAP], want[32], *bytes = NULL;
        _cleanup_(freep) uint8_t *big = NULL;
        struct measurement_summary s;
        size_t size = 0, n, one;

        /* records without the Spec ID event are not a log */
        assert_int_equal(measurement_record(two_banks, 2, "key-released", "a", &bytes, &n), 0);
        assert_error(measurement_log_replay(bytes, n, TPM2_ALG_SHA256, &s), -EBADMSG, "Spec ID");
        free(bytes);
        /* a SHA-1 log (the firmware's old format, which lib/eventlog reads) is not the agent's:
         * EV_NO_ACTION in PCR 0 without the Spec ID signature, 20-byte digest, no data */
        {
                uint8_t sha1_log[32] = { [4] = 3 };

                assert_error(measurement_log_replay(sha1_log, sizeof(sha1_log), TPM2_ALG_SHA1, &s), -EBADMSG,
                             "not the crypto-agile log the agent writes");
                assert_error(measurement_log_foreach(sha1_log, sizeof(sha1_log), NULL, NULL), -EBADMSG,
                             "(a SHA-1 log)");
        }
        /* a log that carries no digest of the quote's bank */
        assert_int_equal(measurement_log_header(sha1_only, 1, &bytes, &n), 0);
        append(log, &size, bytes, n);
        free(bytes);
        assert_int_equal(measurement_record(sha1_only, 1, "key-released", "a", &bytes, &n), 0);
        append(log, &size, bytes, n);
        free(bytes);
        assert_error(measurement_log_replay(log, size, TPM2_ALG_SHA256, &s), -EBADMSG, "no sha256 digest");
        /* cut short anywhere: refused, never a shorter log */
        size = make_log(unlock_events, unlock_data, 2, log, want);
        for (size_t cut = 1; cut < size; cut++)
                if (measurement_log_replay(log, cut, TPM2_ALG_SHA256, &s) == 0)
                        assert_true(s.records < 2);
        /* more records than the verifier reads */
        assert_int_equal(measurement_record(two_banks, 2, "root-identity", "u", &bytes, &one), 0);
        big = malloc(size + one * (MEASUREMENT_RECORDS_MAX + 1));
        assert_non_null(big);
        size = make_log(unlock_events, unlock_data, 0, big, want);
        for (int i = 0; i <= MEASUREMENT_RECORDS_MAX; i++, size += one)
                memcpy(big + size, bytes, one);
        free(bytes);
        assert_error(measurement_log_replay(big, size, TPM2_ALG_SHA256, &s), -EBADMSG, "more than 1024");
        /* what the agent refuses to write */
        assert_error(measurement_record(sm3, 1, "key-released", "a", &bytes, &n), -EINVAL, "hash");
        assert_error(measurement_record(two_banks, 2, "", "a", &bytes, &n), -EINVAL, "event name");
        assert_error(measurement_log_header(two_banks, 0, &bytes, &n), -EINVAL, "banks");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replays_to_pcr15),
                cmocka_unit_test(test_classification),
                cmocka_unit_test(test_after_a_firmware_log),
                cmocka_unit_test(test_renamed_release_is_refused),
                cmocka_unit_test(test_edits_are_caught),
                cmocka_unit_test(test_foreign_pcr15_events),
                cmocka_unit_test(test_hostile_logs),
        };
        return cmocka_run_group_tests_name("measurement_log", tests, NULL, NULL);
}
