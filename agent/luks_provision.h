/* The first boot's disk work (vmattest(8), PROVISION): the instance's own LUKS2 keys. The root
 * ships encrypted under the image builder's provisioning passphrase, and every instance cloned
 * from the image shares that passphrase and the image's volume key: the root is re-encrypted
 * (LUKS2 reencryption, online while it is mounted) under a fresh volume key and ends with one
 * keyslot, the instance passphrase's. A data volume is formatted LUKS2 with the instance
 * passphrase. The instance passphrase is escrowed with the verifier BEFORE any of this runs
 * (agent/cmd_provision.c); these functions only take it.
 *
 * The order keeps every volume openable at every step, and a rerun after an interruption (with
 * a new instance passphrase: the earlier one is gone with the process that made it) converges:
 *   1. root: reencryption under the provisioning passphrase (a fresh volume key in a new keyslot
 *      of the same passphrase; resumed where an earlier run stopped), then a keyslot for the
 *      instance passphrase. The provisioning passphrase still opens the root.
 *   2. data volumes: LUKS2 with the instance passphrase, subsystem "vmattest-pending".
 *   3. commit: each data volume's subsystem becomes "vmattest"; last, the root's stale keyslots
 *      (of earlier runs) are killed and its subsystem becomes "vmattest". The provisioning
 *      passphrase still opens the root.
 *   4. luks_root_drop_provisioning, a step of its own: the provisioning keyslot is killed. The
 *      first boot runs it last, once the initrd that answers with the instance passphrase is
 *      in place (agent/cmd_first_boot.c): a boot cut before then still opens the root with the
 *      provisioning key the image's initrd carries.
 * Until the root is committed a rerun can redo everything with its own passphrase; once it is
 * committed the instance is provisioned and only step 4 may be left. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/secret.h"

/* the LUKS2 subsystem labels of a data volume this code formatted */
#define LUKS_SUBSYSTEM_PENDING "vmattest-pending"
#define LUKS_SUBSYSTEM_DONE "vmattest"
/* the instance passphrase: 32 random bytes as 64 lower-case hex digits (text, for the password
 * agent that carries it to systemd-cryptsetup at each boot) */
#define LUKS_PASSPHRASE_BYTES 32
#define LUKS_PASSPHRASE_SIZE (2 * LUKS_PASSPHRASE_BYTES)
/* how much of each end of a data volume must be zero for it to count as blank */
#define LUKS_BLANK_CHECK_SIZE (1024 * 1024)

struct luks_volume {
        const char *device; /* the block device (or an image file) */
        /* root: its device-mapper name while it is open, for online reencryption; NULL: the
         * root is not open and is re-encrypted offline */
        const char *active_name;
        bool root; /* re-encrypted (needs the provisioning passphrase); else a data volume */
};

struct luks_provision_options {
        const struct secret *provisioning_passphrase; /* needed when a volume is the root */
        /* the provisioning key file is gone: only `vmattest first-boot` removes it, after the
         * root was provisioned; the root then counts as done unless a reencryption is pending */
        bool provisioning_key_gone;
        uint64_t max_hotzone_bytes; /* reencryption step; 0: libcryptsetup's default */
        unsigned progress_seconds;  /* a progress line every so often; 0: every 5 s */
};

/* A fresh instance passphrase (LUKS_PASSPHRASE_SIZE hex digits) in the secure heap; NULL when
 * the random generator or the secure heap fails. */
struct secret *luks_passphrase_new(void);

/* The LUKS2 volume the file system mounted at `mountpoint` ("/") lives on, when it is an open
 * dm-crypt LUKS2 mapping: *device (its backing device) and *active_name (the mapping), both
 * malloc'ed. -ENODEV (detail: what the mount is on) otherwise. */
int luks_volume_of_mount(const char *mountpoint, char **device, char **active_name);

/* The LUKS UUID of `device` (its header's) into `uuid` (at least 37 bytes). */
int luks_volume_uuid(const char *device, char *uuid, size_t size);

/* Before anything is escrowed: is work left? Sets *work_left false when an earlier run finished
 * (the root's provisioning slot is gone, every data volume committed): a rerun then has nothing
 * to do and must not escrow a new passphrase, which nothing would open. Errors (the detail names
 * the device): a data volume holding something else (a file system, a partition table, a LUKS
 * header vmattest did not write), a root that is not LUKS2, or a root an earlier run finished
 * while another volume of the list is not (its passphrase is escrowed already: a rerun cannot
 * add to it). */
int luks_provision_check(const struct luks_volume *volumes, size_t count, const struct luks_provision_options *options,
                         bool *work_left);

/* The disk work, in the order above, with the instance passphrase `passphrase` (already
 * escrowed). Runs luks_provision_check first: -EALREADY when nothing is left to do. Progress
 * lines on the long reencryption; errors name the device and the step. */
int luks_provision(const struct luks_volume *volumes, size_t count, const struct secret *passphrase,
                   const struct luks_provision_options *options);

/* Step 4: kills the root's provisioning keyslot (the one `provisioning` opens) of a root that
 * step 3 committed, when another keyslot stays. Converges: nothing to do when the passphrase
 * opens no keyslot any more, or when `provisioning` is NULL (its key file is gone, removed
 * after this step). -EINVAL when the root is not committed (a rerun of luks_provision first). */
int luks_root_drop_provisioning(const char *device, const struct secret *provisioning);
