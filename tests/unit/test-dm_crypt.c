/* dm_crypt: whether a LUKS volume has an active mapping, read from a sysfs block directory laid
 * out as the kernel lays it out (dm-N/dm/uuid), with the uuids cryptsetup gives its mappings. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "agent/dm_crypt.h"

#define UUID "1392d9b2-7ec0-4aaf-beb9-8ea119a5d4da"
#define HEX "1392d9b27ec04aafbeb98ea119a5d4da"

static char root[64];

/* dm-N with `uuid` (NULL: a block device that is no mapping, without dm/). */
static void block(const char *name, const char *uuid) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, name);
        assert_int_equal(mkdir(path, 0755), 0);
        if (!uuid)
                return;
        snprintf(path, sizeof(path), "%s/%s/dm", root, name);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%s/dm/uuid", root, name);
        assert_non_null(f = fopen(path, "w"));
        fprintf(f, "%s\n", uuid);
        fclose(f);
}

static int setup(void **state) {
        (void)state;
        snprintf(root, sizeof(root), "/tmp/test-dm_crypt.XXXXXX");
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        return system(cmd);
}

static bool open_of(const char *volume) {
        bool open = true;

        assert_int_equal(dm_crypt_volume_open(root, volume, &open), 0);
        return open;
}

static void test_open_volume_found(void **state) {
        (void)state;
        block("vda", NULL);
        block("dm-0", "CRYPT-PLAIN-" HEX "-plain");                 /* not LUKS */
        block("dm-1", "CRYPT-LUKS2-" HEX "0-longer");               /* a longer uuid */
        block("dm-2", "LVM-" HEX);
        assert_false(open_of(UUID));
        block("dm-3", "CRYPT-LUKS2-" HEX "-root");
        assert_true(open_of(UUID));
        assert_true(open_of("/dev/disk/by-uuid/" UUID));
        assert_true(open_of("1392D9B2-7EC0-4AAF-BEB9-8EA119A5D4DA"));
        assert_false(open_of("/dev/disk/by-uuid/00000000-7ec0-4aaf-beb9-8ea119a5d4da"));
}

static void test_luks1_and_no_sysfs(void **state) {
        bool open = true;

        (void)state;
        block("dm-7", "CRYPT-LUKS1-" HEX "-data");
        assert_true(open_of(UUID));
        assert_int_equal(dm_crypt_volume_open("/nonexistent-sysfs", UUID, &open), 0);
        assert_false(open);
}

static void test_not_a_uuid(void **state) {
        bool open = true;

        (void)state;
        assert_int_equal(dm_crypt_volume_open(root, "/dev/vdb", &open), -EINVAL);
        assert_detail_contains(-EINVAL, "names no LUKS UUID");
        assert_false(open);
        assert_int_equal(dm_crypt_volume_open(root, "1392d9b2-7ec0-4aaf-beb9-8ea119a5d4dx", &open), -EINVAL);
        assert_int_equal(dm_crypt_volume_open(root, "1392d9b2-7ec0-4aaf-beb9-8ea119a5d4da-", &open), -EINVAL);
        assert_int_equal(dm_crypt_volume_open(root, "", &open), -EINVAL);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_open_volume_found),
                T(test_luks1_and_no_sysfs),
                T(test_not_a_uuid),
        };
#undef T
        return cmocka_run_group_tests_name("dm_crypt", tests, NULL, NULL);
}
