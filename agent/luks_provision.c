/* Security-sensitive: the instance passphrase and the provisioning passphrase pass through
 * here (secure heap only, handed to libcryptsetup, which keeps its own copies in its own
 * locked memory); neither is ever logged. The order of the steps and why: luks_provision.h. */
#include "agent/luks_provision.h"

#include <fcntl.h>
#include <libcryptsetup.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"

#define PROGRESS_EVERY_S 5
#define DATA_CIPHER "aes"
#define DATA_CIPHER_MODE "xts-plain64"
#define DATA_KEY_BYTES 64 /* AES-256 in XTS: two 256-bit keys */

/* The instance passphrase is 256 random bits: a slow PBKDF adds nothing against guessing it
 * (systemd-cryptenroll makes the same choice for its random keys), and a first boot under
 * emulation must not spend seconds per keyslot. The provisioning passphrase is every clone's
 * shared secret: its transient keyslot on the fresh volume key gets the same. */
static const struct crypt_pbkdf_type fast_pbkdf = {
        .type = CRYPT_KDF_PBKDF2,
        .hash = "sha256",
        .iterations = 1000,
        .flags = CRYPT_PBKDF_NO_BENCHMARK,
};

DEFINE_POINTER_CLEANUP(struct crypt_device, crypt_free)

enum volume_state {
        VOLUME_PENDING, /* work left on it */
        VOLUME_DONE, /* an earlier run finished it */
};

struct secret *luks_passphrase_new(void) {
        _cleanup_(secret_freep) struct secret *raw = secret_new(LUKS_PASSPHRASE_BYTES);
        _cleanup_(secret_freep) struct secret *text = secret_new(LUKS_PASSPHRASE_SIZE);

        if (!raw || !text || RAND_priv_bytes(raw->data, (int)raw->size) != 1)
                return NULL;
        /* hex without a table lookup indexed by the secret: 0-9 -> '0'.., 10-15 -> 'a'.. */
        for (size_t i = 0; i < raw->size; i++)
                for (int half = 0; half < 2; half++) {
                        unsigned nibble = (raw->data[i] >> (half ? 0 : 4)) & 0xf;
                        unsigned above9 = (9u - nibble) >> 8 & 1u; /* 1 when nibble > 9 */

                        text->data[2 * i + (size_t)half] = (uint8_t)('0' + nibble + above9 * ('a' - '0' - 10));
                }
        return TAKE_PTR(text);
}

static void cryptsetup_log(int level, const char *msg, void *usrptr) {
        size_t len = strlen(msg);

        /* its own errors add detail to ours (a lock held, a device too small); the rest is debug */
        while (len && msg[len - 1] == '\n')
                len--;
        if (level == CRYPT_LOG_ERROR)
                log_warning("libcryptsetup: %.*s", (int)len, msg);
        else if (level == CRYPT_LOG_DEBUG || level == CRYPT_LOG_VERBOSE)
                log_debug("libcryptsetup: %.*s", (int)len, msg);
}

static int open_device(const char *what, const char *device, struct crypt_device **cd) {
        int ret;

        crypt_set_log_callback(NULL, cryptsetup_log, NULL);
        ret = crypt_init(cd, device);
        if (ret < 0)
                return vm_error(ret, "%s %s: cannot open it: %s", what, device, strerror(-ret));
        return 0;
}

/* 1 when `device` holds a LUKS2 header (loaded into cd), 0 when no LUKS header at all */
static int load_luks2(const char *what, const char *device, struct crypt_device *cd) {
        int ret = crypt_load(cd, CRYPT_LUKS, NULL);

        if (ret == -EINVAL)
                return 0;
        if (ret < 0)
                return vm_error(ret, "%s %s: cannot read its LUKS header: %s", what, device, strerror(-ret));
        if (strcmp(crypt_get_type(cd), CRYPT_LUKS2) != 0)
                return vm_error(-EINVAL, "%s %s: a %s volume, not LUKS2 (online reencryption needs LUKS2)", what, device,
                                crypt_get_type(cd));
        return 1;
}

/* The keyslot `passphrase` opens, -EPERM when it opens none. */
static int keyslot_of(struct crypt_device *cd, const struct secret *passphrase) {
        int ret = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, (const char *)passphrase->data,
                                               passphrase->size, 0);

        return ret == -ENOENT ? -EPERM : ret;
}

/* a one-line sysfs attribute, its newline dropped */
static int sysfs_line(const char *path, char *out, size_t size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");

        if (!f || !fgets(out, (int)size, f))
                return -ENOENT;
        out[strcspn(out, "\n")] = '\0';
        return 0;
}

int luks_volume_of_mount(const char *mountpoint, char **device, char **active_name) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        char path[128], name[128], uuid[160] = "";
        struct stat st;
        int ret;

        if (stat(mountpoint, &st) < 0)
                return vm_error(-errno, "%s: cannot stat: %m", mountpoint);
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm/name", major(st.st_dev), minor(st.st_dev));
        if (sysfs_line(path, name, sizeof(name)) < 0)
                return vm_error(-ENODEV, "%s is on block device %u:%u, not a device-mapper device (LUKS2 root expected)",
                                mountpoint, major(st.st_dev), minor(st.st_dev));
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm/uuid", major(st.st_dev), minor(st.st_dev));
        /* systemd-cryptsetup and cryptsetup name a LUKS2 mapping's uuid CRYPT-LUKS2-<uuid>-<name> */
        if (sysfs_line(path, uuid, sizeof(uuid)) < 0 || strncmp(uuid, "CRYPT-LUKS2-", 12) != 0)
                return vm_error(-ENODEV, "%s is on device-mapper device %s, which is not a LUKS2 mapping (dm uuid \"%s\")",
                                mountpoint, name, uuid);
        crypt_set_log_callback(NULL, cryptsetup_log, NULL);
        ret = crypt_init_by_name(&cd, name);
        if (ret < 0)
                return vm_error(ret, "%s: the LUKS2 mapping %s: %s", mountpoint, name, strerror(-ret));
        *device = strdup(crypt_get_device_name(cd));
        *active_name = strdup(name);
        if (!*device || !*active_name) {
                free(*device);
                free(*active_name);
                return -ENOMEM;
        }
        return 0;
}

static int data_is_blank(const char *device) {
        _cleanup_(closep) int fd = open(device, O_RDONLY | O_CLOEXEC);
        _cleanup_(freep) uint8_t *buf = malloc(LUKS_BLANK_CHECK_SIZE);
        off_t size, offsets[2];

        if (fd < 0)
                return vm_error(-errno, "data volume %s: cannot open it: %m", device);
        if (!buf)
                return -ENOMEM;
        size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return vm_error(-errno, "data volume %s: cannot tell its size: %m", device);
        offsets[0] = 0;
        offsets[1] = size > LUKS_BLANK_CHECK_SIZE ? size - LUKS_BLANK_CHECK_SIZE : 0;
        for (size_t i = 0; i < ELEMENTSOF(offsets); i++) {
                size_t want = size - offsets[i] < LUKS_BLANK_CHECK_SIZE ? (size_t)(size - offsets[i])
                                                                         : LUKS_BLANK_CHECK_SIZE;
                ssize_t n = pread(fd, buf, want, offsets[i]);

                if (n < 0 || (size_t)n != want)
                        return vm_error(n < 0 ? -errno : -EIO, "data volume %s: cannot read it", device);
                for (size_t j = 0; j < want; j++)
                        if (buf[j])
                                return 0;
        }
        return 1;
}

static int check_data(const struct luks_volume *v, enum volume_state *state) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        const char *subsystem;
        int ret;

        if ((ret = open_device("data volume", v->device, &cd)) < 0)
                return ret;
        ret = load_luks2("data volume", v->device, cd);
        if (ret < 0)
                return ret;
        if (ret == 0) {
                ret = data_is_blank(v->device);
                if (ret == 0)
                        return vm_error(-EEXIST, "data volume %s: not blank (its first or last MiB holds data: a file "
                                                 "system, a partition table?); refusing to format it", v->device);
                *state = VOLUME_PENDING;
                return ret < 0 ? ret : 0;
        }
        subsystem = crypt_get_subsystem(cd);
        if (subsystem && strcmp(subsystem, LUKS_SUBSYSTEM_DONE) == 0)
                *state = VOLUME_DONE;
        else if (subsystem && strcmp(subsystem, LUKS_SUBSYSTEM_PENDING) == 0)
                *state = VOLUME_PENDING;
        else
                return vm_error(-EEXIST, "data volume %s: holds a LUKS2 volume vmattest provision did not make "
                                         "(subsystem \"%s\"); refusing to format it", v->device, subsystem ? subsystem : "");
        return 0;
}

static int check_root(const struct luks_volume *v, const struct luks_provision_options *options,
                      enum volume_state *state) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        const struct secret *provisioning = options->provisioning_passphrase;
        int ret;

        if (!provisioning && !options->provisioning_key_gone)
                return vm_error(-EINVAL, "root %s: no provisioning passphrase to re-encrypt it with", v->device);
        if ((ret = open_device("root", v->device, &cd)) < 0)
                return ret;
        ret = load_luks2("root", v->device, cd);
        if (ret == 0)
                return vm_error(-EINVAL, "root %s: no LUKS header", v->device);
        if (ret < 0)
                return ret;
        if (crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE) {
                if (!provisioning)
                        return vm_error(-EINVAL, "root %s: a reencryption is pending but the provisioning key file is "
                                                 "gone: nothing can resume it", v->device);
                *state = VOLUME_PENDING; /* an earlier run's reencryption, to resume */
                return 0;
        }
        /* committed by an earlier run (its passphrase escrowed, its keyslot in place): only the
         * provisioning keyslot's removal may be left, and that is luks_root_drop_provisioning's */
        if (crypt_get_subsystem(cd) && strcmp(crypt_get_subsystem(cd), LUKS_SUBSYSTEM_DONE) == 0) {
                *state = VOLUME_DONE;
                return 0;
        }
        if (!provisioning) {
                *state = VOLUME_DONE;
                return 0;
        }
        ret = keyslot_of(cd, provisioning);
        if (ret == -EPERM) {
                *state = VOLUME_DONE;
                return 0;
        }
        if (ret < 0)
                return vm_error(ret, "root %s: trying the provisioning passphrase: %s", v->device, strerror(-ret));
        *state = VOLUME_PENDING;
        return 0;
}

int luks_volume_uuid(const char *device, char *uuid, size_t size) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        const char *text;
        int ret;

        if ((ret = open_device("volume", device, &cd)) < 0)
                return ret;
        ret = load_luks2("volume", device, cd);
        if (ret == 0)
                return vm_error(-EINVAL, "volume %s: no LUKS header", device);
        if (ret < 0)
                return ret;
        text = crypt_get_uuid(cd);
        if (!text || strlen(text) >= size)
                return vm_error(-EINVAL, "volume %s: its LUKS header has no UUID", device);
        snprintf(uuid, size, "%s", text);
        return 0;
}

int luks_provision_check(const struct luks_volume *volumes, size_t count, const struct luks_provision_options *options,
                         bool *work_left) {
        const struct luks_volume *done_root = NULL, *pending = NULL;
        int ret;

        for (size_t i = 0; i < count; i++) {
                enum volume_state state;

                ret = volumes[i].root ? check_root(&volumes[i], options, &state)
                                      : check_data(&volumes[i], &state);
                if (ret < 0)
                        return ret;
                if (state == VOLUME_DONE && volumes[i].root)
                        done_root = &volumes[i];
                if (state == VOLUME_PENDING && !pending)
                        pending = &volumes[i];
        }
        if (done_root && pending)
                return vm_error(-EEXIST, "root %s was provisioned by an earlier run (its provisioning keyslot is gone and "
                                         "its passphrase escrowed) but %s is not: a rerun cannot add a new passphrase to "
                                         "the root", done_root->device, pending->device);
        *work_left = pending != NULL;
        return 0;
}

struct progress {
        const char *device;
        unsigned every;
        struct timespec last;
};

static int reencrypt_progress(uint64_t size, uint64_t offset, void *usrptr) {
        struct progress *p = usrptr;
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - p->last.tv_sec >= (time_t)p->every || (size && offset == size)) {
                p->last = now;
                log_info("provision: root %s: re-encrypting under a fresh volume key: %u%% (%llu of %llu MiB)", p->device,
                         size ? (unsigned)(offset * 100 / size) : 100, (unsigned long long)(offset >> 20),
                         (unsigned long long)(size >> 20));
        }
        return 0;
}

/* Every active keyslot but `keep` and `keep2` (-1: none) goes. */
static int kill_keyslots_but(const char *device, struct crypt_device *cd, int keep, int keep2) {
        int max = crypt_keyslot_max(CRYPT_LUKS2), ret;

        for (int slot = 0; slot < max; slot++) {
                crypt_keyslot_info info = crypt_keyslot_status(cd, slot);

                if (slot == keep || slot == keep2 || info == CRYPT_SLOT_INACTIVE || info == CRYPT_SLOT_INVALID)
                        continue;
                ret = crypt_keyslot_destroy(cd, slot);
                if (ret < 0)
                        return vm_error(ret, "root %s: killing keyslot %d: %s", device, slot, strerror(-ret));
                log_info("provision: root %s: keyslot %d killed", device, slot);
        }
        return 0;
}

/* A run killed in the middle of an online reencryption step leaves libcryptsetup's helper
 * mappings (NAME-overlay, NAME-hotzone-*) behind, some of them perhaps suspended, with I/O to
 * the root queued on them; libcryptsetup cannot resume from there in the same boot. A reboot
 * can: the initrd's activation recovers the interrupted step from the header's journal and maps
 * the volume's old and new parts, and the next run resumes online. */
static int leftover_stack(const struct luks_volume *v) {
        static const char *const suffixes[] = { "-overlay", "-hotzone-forward", "-hotzone-backward" };
        char helper[256];

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                snprintf(helper, sizeof(helper), "%s%s", v->active_name, suffixes[i]);
                if (crypt_status(NULL, helper) != CRYPT_INACTIVE)
                        return vm_error(-EBUSY, "root %s: an earlier run was stopped in the middle of an online "
                                                "reencryption step and left the mapping %s behind: reboot (the "
                                                "provisioning passphrase still opens the root, and its activation "
                                                "recovers the step), then run provision again", v->device, helper);
        }
        return 0;
}

/* Step 1: the root under a fresh volume key, still opened by the provisioning passphrase
 * (resumed when an earlier run was interrupted), then a keyslot for the instance passphrase. */
static int root_reencrypt(const struct luks_volume *v, const struct secret *passphrase,
                          const struct luks_provision_options *options) {
        const struct secret *prov = options->provisioning_passphrase;
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct crypt_params_luks2 luks2 = {};
        struct crypt_params_reencrypt params = {};
        struct progress progress = { .device = v->device,
                                     .every = options->progress_seconds ? options->progress_seconds : PROGRESS_EVERY_S };
        crypt_reencrypt_info info;
        int ret, slot_prov, slot_new;
        char cipher[64], mode[64];

        if ((ret = open_device("root", v->device, &cd)) < 0)
                return ret;
        if ((ret = load_luks2("root", v->device, cd)) <= 0)
                return ret < 0 ? ret : vm_error(-EINVAL, "root %s: no LUKS header", v->device);
        if ((ret = crypt_set_pbkdf_type(cd, &fast_pbkdf)) < 0)
                return vm_error(ret, "root %s: setting the keyslot PBKDF: %s", v->device, strerror(-ret));
        info = crypt_reencrypt_status(cd, &params);
        if (info != CRYPT_REENCRYPT_NONE && v->active_name && (ret = leftover_stack(v)) < 0)
                return ret;
        if (info == CRYPT_REENCRYPT_INVALID)
                return vm_error(-EINVAL, "root %s: its reencryption metadata is invalid", v->device);
        if (info == CRYPT_REENCRYPT_CRASH) {
                /* a run killed in the middle of a step: libcryptsetup replays the step's journal */
                log_info("provision: root %s: recovering the reencryption an earlier run left in the middle of a step",
                         v->device);
                struct crypt_params_reencrypt recovery = { .flags = CRYPT_REENCRYPT_RECOVERY };

                ret = crypt_reencrypt_init_by_passphrase(cd, NULL, (const char *)prov->data, prov->size, CRYPT_ANY_SLOT,
                                                         CRYPT_ANY_SLOT, NULL, NULL, &recovery);
                if (ret < 0)
                        return vm_error(ret, "root %s: recovering the interrupted reencryption: %s", v->device, strerror(-ret));
                if ((ret = crypt_load(cd, CRYPT_LUKS2, NULL)) < 0)
                        return vm_error(ret, "root %s: reloading its header after the recovery: %s", v->device,
                                        strerror(-ret));
                info = crypt_reencrypt_status(cd, &params);
        }
        if (info == CRYPT_REENCRYPT_CLEAN) {
                log_info("provision: root %s: resuming the reencryption an earlier run began", v->device);
                /* as `cryptsetup reencrypt --resume-only`: the header's parameters, unchanged */
                params = (struct crypt_params_reencrypt){
                        .flags = CRYPT_REENCRYPT_RESUME_ONLY,
                        .max_hotzone_size = options->max_hotzone_bytes / 512 /* sectors */,
                };
                ret = crypt_reencrypt_init_by_passphrase(cd, v->active_name, (const char *)prov->data, prov->size,
                                                         CRYPT_ANY_SLOT, CRYPT_ANY_SLOT, NULL, NULL, &params);
                if (ret < 0)
                        return vm_error(ret, "root %s: resuming the reencryption: %s", v->device, strerror(-ret));
        } else if (info == CRYPT_REENCRYPT_NONE) {
                slot_prov = keyslot_of(cd, prov);
                if (slot_prov < 0)
                        return vm_error(slot_prov, "root %s: the provisioning passphrase opens no keyslot%s", v->device,
                                        slot_prov == -EPERM ? "" : " (error)");
                /* stale keyslots (of an earlier run whose passphrase is gone) go first */
                if ((ret = kill_keyslots_but(v->device, cd, slot_prov, -1)) < 0)
                        return ret;
                slot_new = crypt_keyslot_add_by_key(cd, CRYPT_ANY_SLOT, NULL, crypt_get_volume_key_size(cd),
                                                    (const char *)prov->data, prov->size, CRYPT_VOLUME_KEY_NO_SEGMENT);
                if (slot_new < 0)
                        return vm_error(slot_new, "root %s: adding a keyslot for the fresh volume key: %s", v->device,
                                        strerror(-slot_new));
                snprintf(cipher, sizeof(cipher), "%s", crypt_get_cipher(cd));
                snprintf(mode, sizeof(mode), "%s", crypt_get_cipher_mode(cd));
                luks2.sector_size = (uint32_t)crypt_get_sector_size(cd);
                params = (struct crypt_params_reencrypt){
                        .mode = CRYPT_REENCRYPT_REENCRYPT,
                        .direction = CRYPT_REENCRYPT_FORWARD,
                        .resilience = "checksum",
                        .hash = "sha256",
                        .max_hotzone_size = options->max_hotzone_bytes / 512 /* sectors */,
                        .luks2 = &luks2,
                };
                log_info("provision: root %s: re-encrypting %s under a fresh volume key (%s-%s)", v->device,
                         v->active_name ? "online" : "offline", cipher, mode);
                ret = crypt_reencrypt_init_by_passphrase(cd, v->active_name, (const char *)prov->data, prov->size,
                                                         slot_prov, slot_new, cipher, mode, &params);
                if (ret < 0)
                        return vm_error(ret, "root %s: starting the reencryption: %s", v->device, strerror(-ret));
        }
        clock_gettime(CLOCK_MONOTONIC, &progress.last);
        ret = crypt_reencrypt_run(cd, reencrypt_progress, &progress);
        if (ret < 0)
                return vm_error(ret, "root %s: re-encrypting: %s (a rerun resumes it)", v->device, strerror(-ret));
        if ((ret = crypt_load(cd, CRYPT_LUKS2, NULL)) < 0)
                return vm_error(ret, "root %s: reloading its header after the reencryption: %s", v->device, strerror(-ret));
        if (crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE)
                return vm_error(-EIO, "root %s: the reencryption did not finish", v->device);
        log_info("provision: root %s: re-encrypted under a fresh volume key", v->device);

        if (keyslot_of(cd, passphrase) >= 0)
                return 0;
        ret = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, (const char *)prov->data, prov->size,
                                              (const char *)passphrase->data, passphrase->size);
        if (ret < 0)
                return vm_error(ret, "root %s: adding the instance passphrase's keyslot: %s", v->device, strerror(-ret));
        log_info("provision: root %s: the instance passphrase has keyslot %d", v->device, ret);
        return 0;
}

/* Step 3 for the root: only the instance passphrase's keyslot and the provisioning one stay,
 * and the header says so (subsystem "vmattest"): from here on a rerun has nothing to redo, and
 * the provisioning keyslot goes last, in luks_root_drop_provisioning, once the initrd that
 * answers with the instance passphrase is in place. */
static int root_commit(const struct luks_volume *v, const struct secret *passphrase, const struct secret *prov) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        char label[64]; /* LUKS2 labels are at most 47 characters */
        int ret, slot_instance, slot_prov;

        if ((ret = open_device("root", v->device, &cd)) < 0)
                return ret;
        if ((ret = load_luks2("root", v->device, cd)) <= 0)
                return ret < 0 ? ret : vm_error(-EINVAL, "root %s: no LUKS header", v->device);
        slot_instance = keyslot_of(cd, passphrase);
        if (slot_instance < 0)
                return vm_error(-EIO, "root %s: the instance passphrase opens no keyslot: not killing the others", v->device);
        slot_prov = keyslot_of(cd, prov);
        if (slot_prov < 0)
                return vm_error(-EIO, "root %s: the provisioning passphrase opens no keyslot before the commit", v->device);
        if ((ret = kill_keyslots_but(v->device, cd, slot_instance, slot_prov)) < 0)
                return ret;
        /* a copy: crypt_get_label() points into the header that crypt_set_label() rewrites */
        snprintf(label, sizeof(label), "%s", crypt_get_label(cd) ? crypt_get_label(cd) : "");
        if ((ret = crypt_set_label(cd, label, LUKS_SUBSYSTEM_DONE)) < 0)
                return vm_error(ret, "root %s: marking it provisioned: %s", v->device, strerror(-ret));
        log_info("provision: root %s: the instance passphrase opens it (keyslot %d); the provisioning keyslot %d "
                 "stays until the initrd that answers for it is in place", v->device, slot_instance, slot_prov);
        return 0;
}

int luks_root_drop_provisioning(const char *device, const struct secret *provisioning) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        const char *subsystem;
        int ret, slot_prov, others = 0, max = crypt_keyslot_max(CRYPT_LUKS2);

        if ((ret = open_device("root", device, &cd)) < 0)
                return ret;
        if ((ret = load_luks2("root", device, cd)) <= 0)
                return ret < 0 ? ret : vm_error(-EINVAL, "root %s: no LUKS header", device);
        subsystem = crypt_get_subsystem(cd);
        if (!subsystem || strcmp(subsystem, LUKS_SUBSYSTEM_DONE) != 0 ||
            crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE)
                return vm_error(-EINVAL, "root %s: not provisioned (subsystem \"%s\"): its provisioning keyslot stays",
                                device, subsystem ? subsystem : "");
        if (!provisioning) {
                log_info("provision: root %s: the provisioning key file is gone: its keyslot was killed before", device);
                return 0;
        }
        slot_prov = keyslot_of(cd, provisioning);
        if (slot_prov == -EPERM) {
                log_info("provision: root %s: the provisioning passphrase opens it no more (killed by an earlier run)",
                         device);
                return 0;
        }
        if (slot_prov < 0)
                return vm_error(slot_prov, "root %s: trying the provisioning passphrase: %s", device, strerror(-slot_prov));
        for (int slot = 0; slot < max; slot++) {
                crypt_keyslot_info info = crypt_keyslot_status(cd, slot);

                if (slot != slot_prov && info != CRYPT_SLOT_INACTIVE && info != CRYPT_SLOT_INVALID)
                        others++;
        }
        if (others == 0)
                return vm_error(-EIO, "root %s: the provisioning keyslot %d is its only one: not killing it", device,
                                slot_prov);
        ret = crypt_keyslot_destroy(cd, slot_prov);
        if (ret < 0)
                return vm_error(ret, "root %s: killing the provisioning keyslot %d: %s", device, slot_prov, strerror(-ret));
        log_info("provision: root %s: keyslot %d killed", device, slot_prov);
        log_info("provision: root %s: only the instance passphrase opens it", device);
        return 0;
}

/* Step 2: a data volume, LUKS2 with the instance passphrase; one of an earlier run that this
 * passphrase does not open (the earlier run's is gone) is formatted again: it holds nothing. */
static int data_format(const struct luks_volume *v, const struct secret *passphrase) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct crypt_params_luks2 luks2 = { .pbkdf = &fast_pbkdf, .subsystem = LUKS_SUBSYSTEM_PENDING };
        enum volume_state state;
        int ret;

        if ((ret = check_data(v, &state)) < 0)
                return ret;
        if ((ret = open_device("data volume", v->device, &cd)) < 0)
                return ret;
        if ((ret = load_luks2("data volume", v->device, cd)) < 0)
                return ret;
        if (ret > 0 && keyslot_of(cd, passphrase) >= 0) {
                log_info("provision: data volume %s: already LUKS2 with the instance passphrase", v->device);
                return 0;
        }
        if (ret > 0)
                log_info("provision: data volume %s: formatted by an earlier run that did not finish: formatting it "
                         "again", v->device);
        crypt_free(cd);
        cd = NULL;
        if ((ret = open_device("data volume", v->device, &cd)) < 0)
                return ret;
        ret = crypt_format(cd, CRYPT_LUKS2, DATA_CIPHER, DATA_CIPHER_MODE, NULL, NULL, DATA_KEY_BYTES, &luks2);
        if (ret < 0)
                return vm_error(ret, "data volume %s: formatting it LUKS2: %s", v->device, strerror(-ret));
        ret = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, (const char *)passphrase->data,
                                              passphrase->size);
        if (ret < 0)
                return vm_error(ret, "data volume %s: adding the instance passphrase's keyslot: %s", v->device,
                                strerror(-ret));
        log_info("provision: data volume %s: formatted LUKS2 (%s-%s), the instance passphrase in keyslot %d", v->device,
                 DATA_CIPHER, DATA_CIPHER_MODE, ret);
        return 0;
}

static int data_commit(const struct luks_volume *v) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        char label[64]; /* LUKS2 labels are at most 47 characters */
        int ret;

        if ((ret = open_device("data volume", v->device, &cd)) < 0)
                return ret;
        if ((ret = load_luks2("data volume", v->device, cd)) <= 0)
                return ret < 0 ? ret : vm_error(-EIO, "data volume %s: its LUKS header is gone", v->device);
        /* a copy: crypt_get_label() points into the header that crypt_set_label() rewrites */
        snprintf(label, sizeof(label), "%s", crypt_get_label(cd) ? crypt_get_label(cd) : "");
        ret = crypt_set_label(cd, label, LUKS_SUBSYSTEM_DONE);
        if (ret < 0)
                return vm_error(ret, "data volume %s: marking it provisioned: %s", v->device, strerror(-ret));
        return 0;
}

int luks_provision(const struct luks_volume *volumes, size_t count, const struct secret *passphrase,
                   const struct luks_provision_options *options) {
        bool work_left;
        int ret;

        ret = luks_provision_check(volumes, count, options, &work_left);
        if (ret < 0)
                return ret;
        if (!work_left)
                return vm_error(-EALREADY, "every volume was provisioned by an earlier run");
        for (size_t i = 0; i < count; i++)
                if (volumes[i].root && (ret = root_reencrypt(&volumes[i], passphrase, options)) < 0)
                        return ret;
        for (size_t i = 0; i < count; i++)
                if (!volumes[i].root && (ret = data_format(&volumes[i], passphrase)) < 0)
                        return ret;
        for (size_t i = 0; i < count; i++)
                if (!volumes[i].root && (ret = data_commit(&volumes[i])) < 0)
                        return ret;
        for (size_t i = 0; i < count; i++)
                if (volumes[i].root &&
                    (ret = root_commit(&volumes[i], passphrase, options->provisioning_passphrase)) < 0)
                        return ret;
        return 0;
}
