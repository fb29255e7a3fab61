/* What the measured-boot generator says each event means (policy/boot_events.c), on the real
 * logs of tests/fixtures: the OVMF boot of the Debian kernel's EFI stub and Keylime's shim + GRUB
 * Secure Boot boot. Then every event of mutated logs: any data reads as text, never out of
 * bounds (ASan), cut to the buffer. */
#include "tests/unit/unit.h"

#include "lib/eventlog.h"
#include "policy/boot_events.h"

#define OVMF_LOG "tests/fixtures/boot/binary_bios_measurements"
#define SHIM_LOG "tests/fixtures/keylime-shim-grub/binary_bios_measurements"

struct wanted {
        uint32_t index;
        char text[1024];
};

static int describe_one(const struct eventlog_event *ev, void *user) {
        struct wanted *w = user;

        if (ev->index == w->index)
                boot_event_describe(ev, w->text, sizeof(w->text));
        return 0;
}

static void assert_described(const uint8_t *log, size_t size, uint32_t index, const char *expected) {
        struct wanted w = { .index = index };

        assert_int_equal(eventlog_foreach(log, size, describe_one, &w), 0);
        if (!strstr(w.text, expected))
                fail_msg("event %u: \"%s\" does not say \"%s\"", index, w.text, expected);
}

static void test_ovmf_boot(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        size_t size;

        log = read_vector(OVMF_LOG, &size);
        assert_described(log, size, 4, "EV_EFI_VARIABLE_DRIVER_CONFIG: the Secure Boot configuration variable SecureBoot = 0 (Secure Boot off)");
        assert_described(log, size, 5, "variable PK (empty)");
        assert_described(log, size, 9, "EV_SEPARATOR: the end of the firmware's measurements into this PCR");
        assert_described(log, size, 10, "EV_EFI_BOOT_SERVICES_APPLICATION: a UEFI application the firmware started");
        assert_described(log, size, 10, "Authenticode hash), 8247232 bytes, file kernel");
        assert_described(log, size, 11, "EV_EFI_VARIABLE_BOOT: the boot variable BootOrder (2 bytes)");
        assert_described(log, size, 13, "EV_EFI_ACTION: \"Calling EFI Application from Boot Option\"");
        assert_described(log, size, 21, "EV_EVENT_TAG: the kernel command line the EFI stub was given");
        assert_described(log, size, 22, "EV_EVENT_TAG: the initrd the kernel's EFI stub loaded");
        assert_described(log, size, 1, "EV_S_CRTM_VERSION: the platform firmware itself");
}

static void test_shim_grub_boot(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        size_t size;

        log = read_vector(SHIM_LOG, &size);
        assert_described(log, size, 4, "SecureBoot = 1 (Secure Boot on)");
        assert_described(log, size, 27, "EV_EFI_VARIABLE_AUTHORITY: the certificate that allowed an image to load, from db");
        assert_described(log, size, 29, "959848 bytes, file \\EFI\\redhat\\shimx64.efi");
        assert_described(log, size, 35, "file \\EFI\\redhat\\grubx64.efi");
        assert_described(log, size, 36, "EV_IPL: the boot loader's record (GRUB: a command, the command line, a file it read) \"(hd0,gpt1)/EFI/redhat/grub.cfg\"");
        assert_described(log, size, 69, "\"grub_cmd: set kernelopts=root=/dev/mapper/rhel_rhel--9-root ro");
        assert_described(log, size, 69, "...\"");
}

static int describe_all(const struct eventlog_event *ev, void *user) {
        char text[200], tiny[2];

        (void)user;
        boot_event_describe(ev, text, sizeof(text));
        assert_true(strlen(text) < sizeof(text));
        boot_event_describe(ev, tiny, sizeof(tiny));
        assert_true(strlen(tiny) < sizeof(tiny));
        boot_event_describe(ev, NULL, 0);
        return 0;
}

static void test_mutated(void **state) {
        const char *logs[] = { OVMF_LOG, SHIM_LOG };
        uint64_t seed = FUZZ_SEED;

        for (size_t l = 0; l < ELEMENTSOF(logs); l++) {
                _cleanup_(freep) uint8_t *log = NULL, *copy = NULL;
                size_t size;

                log = read_vector(logs[l], &size);
                copy = malloc(size);
                assert_non_null(copy);
                for (int i = 0; i < FUZZ_ITERATIONS / 4; i++) {
                        memcpy(copy, log, size);
                        prng_mutate(&seed, copy, size);
                        (void)eventlog_foreach(copy, size, describe_all, NULL);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ovmf_boot),
                cmocka_unit_test(test_shim_grub_boot),
                cmocka_unit_test(test_mutated),
        };

        return cmocka_run_group_tests_name("boot_events", tests, NULL, NULL);
}
