/* agent/first_boot_steps.c: /etc/crypttab after the first boot's provisioning. The image's
 * entry for the root keeps its name and options, loses its key file and its passphrase cache; a
 * data volume without an entry gets one; comments and other entries stay as they were; a second run changes nothing. */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#include "agent/first_boot_steps.h"

#define ROOT_UUID "3f1a0c52-7d3e-4b8e-9a51-0c1d2e3f4a5b"
#define DATA_UUID "8b2c4d6e-1f3a-4c5e-8d7f-9a0b1c2d3e4f"

static const struct provisioned_volume volumes[] = {
        { .root = true, .device = "/dev/vda", .name = "root", .uuid = ROOT_UUID },
        { .device = "/dev/vdb", .name = "vmattest-vdb", .uuid = DATA_UUID },
};

static const char image_crypttab[] =
        "# the image builder's provisioning key opens the root until vmattest's first boot replaces it\n"
        "root UUID=" ROOT_UUID " /etc/cryptsetup-keys.d/provisioning.key luks,discard\n"
        "swap /dev/vdc /dev/urandom swap,cipher=aes-xts-plain64\n";

static const char expected[] =
        "# the image builder's provisioning key opens the root until vmattest's first boot replaces it\n"
        "root UUID=" ROOT_UUID " none luks,discard,password-cache=no\n"
        "swap /dev/vdc /dev/urandom swap,cipher=aes-xts-plain64\n"
        "# vmattest first-boot: unlocked by vmattest unlock in the initrd\n"
        "vmattest-vdb UUID=" DATA_UUID " none luks,discard,password-cache=no\n";

static void test_image_entry_and_new_entry(void **state) {
        char *out = NULL, *again = NULL;

        (void)state;
        assert_int_equal(crypttab_update(image_crypttab, volumes, 2, &out), 0);
        assert_string_equal(out, expected);
        /* a rerun (cloud-init runs an unfinished first boot again) changes nothing */
        assert_int_equal(crypttab_update(out, volumes, 2, &again), 0);
        assert_string_equal(again, expected);
        free(out);
        free(again);
}

static void test_entry_by_device_path(void **state) {
        char *out = NULL;

        (void)state;
        /* the entry found by its /dev/disk/by-uuid path or device, under another name */
        assert_int_equal(crypttab_update("cryptroot /dev/disk/by-uuid/" ROOT_UUID " /key luks,password-cache=read-only\n"
                                         "data\t/dev/vdb\t/etc/data.key\n",
                                         volumes, 2, &out),
                         0);
        assert_string_equal(out, "cryptroot /dev/disk/by-uuid/" ROOT_UUID " none luks,password-cache=no\n"
                                 "data /dev/vdb none password-cache=no\n");
        free(out);
}

static void test_empty_and_long_line(void **state) {
        char *out = NULL, *line;

        (void)state;
        assert_int_equal(crypttab_update("", volumes, 1, &out), 0);
        assert_string_equal(out, "# vmattest first-boot: unlocked by vmattest unlock in the initrd\n"
                                 "root UUID=" ROOT_UUID " none luks,discard,password-cache=no\n");
        free(out);
        out = NULL;
        line = malloc(2000);
        assert_non_null(line);
        memset(line, 'x', 1999);
        line[1999] = '\0';
        vm_error_clear();
        assert_int_equal(crypttab_update(line, volumes, 2, &out), -EINVAL);
        assert_detail_contains(-EINVAL, "a line of more than");
        assert_null(out);
        free(line);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_image_entry_and_new_entry),
                cmocka_unit_test(test_entry_by_device_path),
                cmocka_unit_test(test_empty_and_long_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
