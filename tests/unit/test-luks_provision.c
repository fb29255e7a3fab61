/* luks_provision: the keyslot plan of the first boot's disk work, on LUKS2 image files (no
 * device-mapper needed: keyslots, formats and an offline reencryption all work on a plain file;
 * the online reencryption of a mounted root is tests/vm/test-provision.sh's). */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/luks_provision.h"
#include "lib/secret.h"

#define MIB (1024 * 1024)
#define IMAGE_SIZE (20 * MIB) /* LUKS2's 16 MiB header room and 4 MiB of data */

static const struct crypt_pbkdf_type test_pbkdf = {
        .type = CRYPT_KDF_PBKDF2, .hash = "sha256", .iterations = 1000, .flags = CRYPT_PBKDF_NO_BENCHMARK,
};
static char dir[64];

static struct secret *text(const char *s) {
        return secret_new_copy(s, strlen(s));
}

static void image_path(char *out, size_t size, const char *name) {
        snprintf(out, size, "%s/%s", dir, name);
}

static void blank_image(const char *path, off_t size) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, size), 0);
        close(fd);
}

/* an image builder's LUKS2 volume: `passphrase` in a keyslot, subsystem `subsystem` (or none) */
static void luks_image(const char *path, const char *passphrase, const char *subsystem) {
        struct crypt_params_luks2 params = { .pbkdf = &test_pbkdf, .subsystem = subsystem };
        struct crypt_device *cd;

        blank_image(path, IMAGE_SIZE);
        assert_int_equal(crypt_init(&cd, path), 0);
        assert_int_equal(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params), 0);
        assert_true(crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, passphrase, strlen(passphrase)) >= 0);
        crypt_free(cd);
}

static struct crypt_device *load(const char *path) {
        struct crypt_device *cd;

        assert_int_equal(crypt_init(&cd, path), 0);
        assert_int_equal(crypt_load(cd, CRYPT_LUKS2, NULL), 0);
        return cd;
}

/* the keyslot `passphrase` opens on `path`, or a negative errno (-EINVAL: no LUKS2 header) */
static int opens(const char *path, const char *passphrase) {
        struct crypt_device *cd;
        int ret;

        assert_int_equal(crypt_init(&cd, path), 0);
        ret = crypt_load(cd, CRYPT_LUKS2, NULL);
        if (ret == 0)
                ret = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, passphrase, strlen(passphrase), 0);

        crypt_free(cd);
        return ret;
}

static int active_keyslots(const char *path) {
        struct crypt_device *cd = load(path);
        int n = 0;

        for (int slot = 0; slot < crypt_keyslot_max(CRYPT_LUKS2); slot++) {
                crypt_keyslot_info info = crypt_keyslot_status(cd, slot);

                n += info != CRYPT_SLOT_INACTIVE && info != CRYPT_SLOT_INVALID;
        }
        crypt_free(cd);
        return n;
}

static void volume_key(const char *path, const char *passphrase, char *vk, size_t *vk_size) {
        struct crypt_device *cd = load(path);

        *vk_size = 64;
        assert_true(crypt_volume_key_get(cd, CRYPT_ANY_SLOT, vk, vk_size, passphrase, strlen(passphrase)) >= 0);
        crypt_free(cd);
}

static int setup(void **state) {
        snprintf(dir, sizeof(dir), "/tmp/test-luks_provision.XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

static void test_passphrase(void **state) {
        _cleanup_(secret_freep) struct secret *a = luks_passphrase_new();
        _cleanup_(secret_freep) struct secret *b = luks_passphrase_new();

        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(a->size, LUKS_PASSPHRASE_SIZE);
        assert_int_equal(strspn((const char *)a->data, "0123456789abcdef"), LUKS_PASSPHRASE_SIZE);
        assert_int_equal(a->data[a->size], 0);
        assert_memory_not_equal(a->data, b->data, a->size);
}

/* The image's root: the provisioning passphrase and the image's volume key open it before, only
 * the instance passphrase after; a rerun has nothing left to do. */
static void test_root(void **state) {
        _cleanup_(secret_freep) struct secret *prov = text("image-builder-provisioning");
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = { .provisioning_passphrase = prov };
        struct luks_volume root = { .root = true };
        char path[96], vk_before[64], vk_after[64];
        size_t vk_size;
        bool work_left;

        image_path(path, sizeof(path), "root.img");
        root.device = path;
        luks_image(path, "image-builder-provisioning", NULL);
        volume_key(path, "image-builder-provisioning", vk_before, &vk_size);
        assert_int_equal(luks_provision_check(&root, 1, &opts, &work_left), 0);
        assert_true(work_left);
        /* the provisioning keyslot of a root not provisioned yet stays */
        assert_error(luks_root_drop_provisioning(path, prov), -EINVAL, "not provisioned");

        assert_int_equal(luks_provision(&root, 1, key, &opts), 0);
        /* committed: the provisioning keyslot stays until the caller drops it (the first boot's
         * rebuilt initrd in place), and a run cut here has nothing to redo: no second escrow,
         * no second reencryption */
        assert_true(opens(path, "image-builder-provisioning") >= 0);
        assert_true(opens(path, (const char *)key->data) >= 0);
        assert_int_equal(active_keyslots(path), 2);
        assert_int_equal(luks_provision_check(&root, 1, &opts, &work_left), 0);
        assert_false(work_left);
        volume_key(path, (const char *)key->data, vk_after, &vk_size);
        assert_memory_not_equal(vk_before, vk_after, vk_size);

        assert_int_equal(luks_root_drop_provisioning(path, prov), 0);
        assert_int_equal(opens(path, "image-builder-provisioning"), -EPERM);
        assert_true(opens(path, (const char *)key->data) >= 0);
        assert_int_equal(active_keyslots(path), 1);
        /* a rerun of the drop converges: the slot gone, or the key file gone too */
        assert_int_equal(luks_root_drop_provisioning(path, prov), 0);
        assert_int_equal(luks_root_drop_provisioning(path, NULL), 0);
        assert_int_equal(active_keyslots(path), 1);
        volume_key(path, (const char *)key->data, vk_after, &vk_size);
        assert_memory_not_equal(vk_before, vk_after, vk_size);
        {
                struct crypt_device *cd = load(path);

                /* the image's volume key is no key of this volume any more */
                assert_true(crypt_volume_key_verify(cd, vk_before, vk_size) < 0);
                assert_int_equal(crypt_reencrypt_status(cd, NULL), CRYPT_REENCRYPT_NONE);
                crypt_free(cd);
        }

        /* a rerun: nothing to do, and the caller must not escrow a passphrase nothing opens */
        assert_int_equal(luks_provision_check(&root, 1, &opts, &work_left), 0);
        assert_false(work_left);
        {
                _cleanup_(secret_freep) struct secret *other = luks_passphrase_new();

                assert_error(luks_provision(&root, 1, other, &opts), -EALREADY, "earlier run");
                assert_true(opens(path, (const char *)key->data) >= 0);
                assert_int_equal(opens(path, (const char *)other->data), -EPERM);
        }
}

/* An earlier run was stopped after it added its passphrase, and in the middle of its
 * reencryption: the rerun, with a new passphrase, resumes and the earlier one opens nothing. */
static int stop_after_first_step(uint64_t size, uint64_t offset, void *usrptr) {
        return offset > 0;
}

static void test_root_resume(void **state) {
        _cleanup_(secret_freep) struct secret *prov = text("provisioning");
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = { .provisioning_passphrase = prov };
        struct crypt_params_luks2 luks2 = { .sector_size = 512 };
        struct crypt_params_reencrypt params = {
                .mode = CRYPT_REENCRYPT_REENCRYPT, .direction = CRYPT_REENCRYPT_FORWARD, .resilience = "checksum",
                .hash = "sha256", .max_hotzone_size = 256 * 1024 / 512, .luks2 = &luks2,
        };
        struct luks_volume root = { .root = true };
        struct crypt_device *cd;
        char path[96];
        bool work_left;
        int slot_new;

        image_path(path, sizeof(path), "root-resume.img");
        root.device = path;
        luks_image(path, "provisioning", NULL);
        cd = load(path);
        assert_int_equal(crypt_set_pbkdf_type(cd, &test_pbkdf), 0);
        /* the earlier run's stale keyslot, then its reencryption, stopped after a step */
        assert_true(crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, "provisioning", 12, "earlier-run", 11) >= 0);
        slot_new = crypt_keyslot_add_by_key(cd, CRYPT_ANY_SLOT, NULL, 64, "provisioning", 12, CRYPT_VOLUME_KEY_NO_SEGMENT);
        assert_true(slot_new >= 0);
        assert_true(crypt_reencrypt_init_by_passphrase(cd, NULL, "provisioning", 12, 0, slot_new, "aes", "xts-plain64",
                                                       &params) >= 0);
        assert_int_equal(crypt_reencrypt_run(cd, stop_after_first_step, NULL), 0);
        crypt_free(cd);
        cd = load(path);
        assert_int_equal(crypt_reencrypt_status(cd, NULL), CRYPT_REENCRYPT_CLEAN);
        crypt_free(cd);

        assert_int_equal(luks_provision_check(&root, 1, &opts, &work_left), 0);
        assert_true(work_left);
        assert_int_equal(luks_provision(&root, 1, key, &opts), 0);
        assert_int_equal(luks_root_drop_provisioning(path, prov), 0);
        cd = load(path);
        assert_int_equal(crypt_reencrypt_status(cd, NULL), CRYPT_REENCRYPT_NONE);
        crypt_free(cd);
        assert_int_equal(opens(path, "provisioning"), -EPERM);
        assert_int_equal(opens(path, "earlier-run"), -EPERM);
        assert_true(opens(path, (const char *)key->data) >= 0);
        assert_int_equal(active_keyslots(path), 1);
}

/* A stale keyslot of an earlier run that stopped before its reencryption goes as well. */
static void test_root_stale_keyslot(void **state) {
        _cleanup_(secret_freep) struct secret *prov = text("provisioning");
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = { .provisioning_passphrase = prov };
        struct luks_volume root = { .root = true };
        struct crypt_device *cd;
        char path[96];

        image_path(path, sizeof(path), "root-stale.img");
        root.device = path;
        luks_image(path, "provisioning", NULL);
        cd = load(path);
        assert_int_equal(crypt_set_pbkdf_type(cd, &test_pbkdf), 0);
        assert_true(crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, "provisioning", 12, "earlier-run", 11) >= 0);
        crypt_free(cd);
        assert_int_equal(luks_provision(&root, 1, key, &opts), 0);
        assert_int_equal(opens(path, "earlier-run"), -EPERM);
        assert_true(opens(path, "provisioning") >= 0);
        assert_int_equal(luks_root_drop_provisioning(path, prov), 0);
        assert_int_equal(opens(path, "provisioning"), -EPERM);
        assert_true(opens(path, (const char *)key->data) >= 0);
        assert_int_equal(active_keyslots(path), 1);
}

static void test_data(void **state) {
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = {};
        struct luks_volume data = {};
        struct crypt_device *cd;
        char path[96];
        bool work_left;

        image_path(path, sizeof(path), "data.img");
        data.device = path;
        blank_image(path, IMAGE_SIZE);
        assert_int_equal(luks_provision(&data, 1, key, &opts), 0);
        assert_true(opens(path, (const char *)key->data) >= 0);
        assert_int_equal(active_keyslots(path), 1);
        cd = load(path);
        assert_string_equal(crypt_get_subsystem(cd), LUKS_SUBSYSTEM_DONE);
        crypt_free(cd);
        assert_int_equal(luks_provision_check(&data, 1, &opts, &work_left), 0);
        assert_false(work_left);
}

/* A data volume holding anything but zeros, or someone else's LUKS2: refused, left as it was. */
static void test_data_refused(void **state) {
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = {};
        struct luks_volume data = {};
        char path[96];
        bool work_left;
        int fd;

        image_path(path, sizeof(path), "data-fs.img");
        data.device = path;
        blank_image(path, IMAGE_SIZE);
        fd = open(path, O_WRONLY);
        assert_int_equal(pwrite(fd, "\x53\xef", 2, 1024 + 56), 2); /* ext4's magic, at its offset */
        close(fd);
        assert_error(luks_provision_check(&data, 1, &opts, &work_left), -EEXIST, "not blank");
        assert_error(luks_provision(&data, 1, key, &opts), -EEXIST, "data-fs.img: not blank");
        assert_int_equal(opens(path, (const char *)key->data), -EINVAL); /* still no LUKS header */

        /* the same at the end of the volume (a GPT's backup header) */
        blank_image(path, IMAGE_SIZE);
        fd = open(path, O_WRONLY);
        assert_int_equal(pwrite(fd, "EFI PART", 8, IMAGE_SIZE - 512), 8);
        close(fd);
        assert_error(luks_provision(&data, 1, key, &opts), -EEXIST, "not blank");

        image_path(path, sizeof(path), "data-foreign.img");
        luks_image(path, "someone-else", NULL);
        assert_error(luks_provision(&data, 1, key, &opts), -EEXIST, "did not make");
        assert_true(opens(path, "someone-else") >= 0);
}

/* An earlier run formatted a data volume and stopped before it committed: the rerun's new
 * passphrase gets the volume (it holds nothing yet). */
static void test_data_rerun(void **state) {
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = {};
        struct luks_volume data = {};
        char path[96];

        image_path(path, sizeof(path), "data-pending.img");
        data.device = path;
        luks_image(path, "earlier-run", LUKS_SUBSYSTEM_PENDING);
        assert_int_equal(luks_provision(&data, 1, key, &opts), 0);
        assert_int_equal(opens(path, "earlier-run"), -EPERM);
        assert_true(opens(path, (const char *)key->data) >= 0);
}

/* The root finished by an earlier run and a data volume that is not: the root's passphrase is
 * escrowed and gone, a new one could not be added to it. Refused before anything changes. */
static void test_mixed_refused(void **state) {
        _cleanup_(secret_freep) struct secret *prov = text("provisioning");
        _cleanup_(secret_freep) struct secret *key = luks_passphrase_new();
        struct luks_provision_options opts = { .provisioning_passphrase = prov };
        struct luks_volume volumes[2] = { { .root = true }, {} };
        char root[96], data[96];
        bool work_left;

        image_path(root, sizeof(root), "root-done.img");
        image_path(data, sizeof(data), "data-new.img");
        volumes[0].device = root;
        volumes[1].device = data;
        luks_image(root, "provisioning", NULL);
        assert_int_equal(luks_provision(volumes, 1, key, &opts), 0);
        blank_image(data, IMAGE_SIZE);
        assert_error(luks_provision_check(volumes, 2, &opts, &work_left), -EEXIST, "provisioned by an earlier run");
        assert_error(luks_provision(volumes, 2, key, &opts), -EEXIST, "cannot add");
        assert_int_equal(opens(data, (const char *)key->data), -EINVAL);

        /* no provisioning passphrase for a root: refused, named */
        opts.provisioning_passphrase = NULL;
        assert_error(luks_provision_check(volumes, 1, &opts, &work_left), -EINVAL, "no provisioning passphrase");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_passphrase),     cmocka_unit_test(test_root),
                cmocka_unit_test(test_root_resume),    cmocka_unit_test(test_root_stale_keyslot),
                cmocka_unit_test(test_data),           cmocka_unit_test(test_data_refused),
                cmocka_unit_test(test_data_rerun),     cmocka_unit_test(test_mixed_refused),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
