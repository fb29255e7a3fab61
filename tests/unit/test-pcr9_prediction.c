/* agent/pcr9_prediction.c: the next boot's PCR 9 from this boot's UEFI event log, the initrd
 * event's digest replaced. On the real log of tests/fixtures/boot (OVMF, the Debian kernel's EFI
 * stub: event 21 the command line "... quiet initrd=initrd", event 22 the initrd), whose PCR 9
 * replay is the PCR 9 read in that boot; the expected prediction was computed independently
 * (a Python replay of the same log). */
#include "tests/unit/unit.h"

#include <openssl/sha.h>

#include "agent/pcr9_prediction.h"
#include "lib/encoding.h"

#define LOG_PATH "tests/fixtures/boot/binary_bios_measurements"
/* tests/fixtures/boot/pcrs-sha256.txt */
#define PCR9_BOOTED "2b30e249622ef581f660faad961f6da4bd56fc25ce8453a575de4e77d18de089"
/* H(H(0 || event 21's digest) || SHA-256("a rebuilt initrd")) */
#define PCR9_PREDICTED "1e28c6e040ed474739c0bdb2c5e29e7221ffd1f43c348ded577d9bc5e55ef082"
/* where event 22's taggedEventID (0x8F3B22EC, little-endian) sits in the file */
#define INITRD_TAG_OFFSET(log, size) find_tag(log, size, 0xec)
#define CMDLINE_TAG_OFFSET(log, size) find_tag(log, size, 0xed)

static void assert_hex(const uint8_t *value, size_t size, const char *hex) {
        char *text = hex_encode(value, size);

        assert_string_equal(text, hex);
        free(text);
}

/* The offset of the tagged event id "?? 22 3b 8f" whose first byte is `first`. */
static size_t find_tag(const uint8_t *log, size_t size, uint8_t first) {
        for (size_t i = 0; i + 4 <= size; i++)
                if (log[i] == first && log[i + 1] == 0x22 && log[i + 2] == 0x3b && log[i + 3] == 0x8f)
                        return i;
        fail_msg("tagged event 0x8f3b22%02x not in the log", first);
        return 0;
}

static void test_prediction_of_a_real_boot(void **state) {
        uint8_t initrd[SHA256_DIGEST_LENGTH], same[SHA256_DIGEST_LENGTH];
        struct pcr9_prediction p;
        size_t size, same_size;
        uint8_t *log = read_vector(LOG_PATH, &size);

        SHA256((const uint8_t *)"a rebuilt initrd", 16, initrd);
        assert_int_equal(pcr9_predict(log, size, TPM2_ALG_SHA256, initrd, &p), 0);
        assert_int_equal(p.size, 32);
        assert_int_equal(p.events, 2);
        assert_int_equal(p.initrd_event, 22);
        assert_hex(p.current, p.size, PCR9_BOOTED);
        assert_hex(p.predicted, p.size, PCR9_PREDICTED);
        /* the same initrd again (event 22's digest): the next boot's PCR 9 is this boot's */
        assert_int_equal(hex_decode("681771e786f0543d27d5b411bcc1dbe5d84ff70d22ed469a6e65dd4fa048b5ad", 64, same,
                                    sizeof(same), &same_size),
                         0);
        assert_int_equal(pcr9_predict(log, size, TPM2_ALG_SHA256, same, &p), 0);
        assert_hex(p.predicted, p.size, PCR9_BOOTED);
        free(log);
}

/* the log has SHA-256 digests only: another bank is refused, naming it */
static void test_bank_not_in_the_log(void **state) {
        uint8_t initrd[SHA512_DIGEST_LENGTH] = { 0 };
        struct pcr9_prediction p;
        size_t size;
        uint8_t *log = read_vector(LOG_PATH, &size);

        assert_error(pcr9_predict(log, size, TPM2_ALG_SHA384, initrd, &p), -EBADMSG, "no sha384 digests");
        assert_error(pcr9_predict(log, size, TPM2_ALG_SHA1 + 0x100, initrd, &p), -EINVAL, "cannot be hashed");
        free(log);
}

/* which event is the initrd's: exactly one, by its tag (the command line's is kept as logged) */
static void test_initrd_event_found_by_its_tag(void **state) {
        uint8_t initrd[SHA256_DIGEST_LENGTH] = { 0 };
        struct pcr9_prediction p;
        size_t size;
        uint8_t *log = read_vector(LOG_PATH, &size);
        size_t cmdline_tag = CMDLINE_TAG_OFFSET(log, size), initrd_tag = INITRD_TAG_OFFSET(log, size);

        /* the command line's event relabelled as an initrd's: two candidates */
        log[cmdline_tag] = 0xec;
        assert_error(pcr9_predict(log, size, TPM2_ALG_SHA256, initrd, &p), -EBADMSG,
                     "events 21 and 22 are both the initrd's");
        /* no initrd event: a kernel booted without one, or not by its EFI stub */
        log[cmdline_tag] = 0xed;
        log[initrd_tag] = 0xee;
        assert_error(pcr9_predict(log, size, TPM2_ALG_SHA256, initrd, &p), -EBADMSG, "PCR 9 has no initrd event");
        /* a cut log */
        assert_error(pcr9_predict(log, size - 3, TPM2_ALG_SHA256, initrd, &p), -EBADMSG, "");
        free(log);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prediction_of_a_real_boot),
                cmocka_unit_test(test_bank_not_in_the_log),
                cmocka_unit_test(test_initrd_event_found_by_its_tag),
        };
        return cmocka_run_group_tests_name("pcr9_prediction", tests, NULL, NULL);
}
