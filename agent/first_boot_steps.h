/* The system side of `vmattest first-boot` (agent/cmd_first_boot.c): the files and programs of
 * the instance it changes after the configuration step. Each step can run again: a first boot
 * cut anywhere converges when it runs again. No secret passes through here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/config.h"
#include "agent/provision.h"

#define FIRST_BOOT_CRYPTTAB "/etc/crypttab"
/* the image's dracut configuration that leaves the module vmattest out of the provisioning
 * initrd (and puts the provisioning key in): gone once the instance is enrolled */
#define FIRST_BOOT_DRACUT_PROVISIONING_CONF "/etc/dracut.conf.d/90-vmattest-provisioning.conf"
#define FIRST_BOOT_CRYPTTAB_MAX (64 * 1024)

/* /etc/crypttab's text `old` with every provisioned volume's entry keyless ("none": systemd-
 * cryptsetup asks, `vmattest unlock` in the initrd answers) and with password-cache=no (each
 * volume asks, none opens with another's cached passphrase): an entry naming the volume (its
 * name, UUID=, /dev/disk/by-uuid/ path or device) keeps its name and options and gets the key
 *  file "none" (a password-cache= of its own is replaced); a volume without one gets "NAME
 * UUID=UUID none luks,discard,password-cache=no".
 * The result in *out (malloc'ed). -EINVAL for a line longer than 1 KiB. */
int crypttab_update(const char *old, const struct provisioned_volume *volumes, size_t count, char **out);

/* crypttab_update on the file `path` (absent: empty), written atomically when it changes. */
int crypttab_write(const char *path, const struct provisioned_volume *volumes, size_t count);

/* The state directory and its files (the mTLS key and certificate register made as root)
 * given to `owner`, the user `vmattest serve` runs as (handover_user); nothing for root. */
int state_dir_give(const struct agent_config *config, uid_t owner);

/* Whether systemd runs this machine (its runtime directory exists): a test root has none. */
bool systemd_booted(void);

/* Runs argv[0] (looked up in PATH) with `argv`, this process's environment (no secret), its
 * output on ours; 0 when it exits 0, else an error naming `step` and how it ended. */
int run_program(const char *step, char *const argv[]);

/* Removes `path`; an absent file is fine. */
int remove_file(const char *step, const char *path);

/* Renames `from` onto `to` atomically, `from` synced before and `to`'s directory after: a cut
 * finds either the old file or the whole new one. Errors name `step` and the files. */
int file_rename_synced(const char *step, const char *from, const char *to);

/* the rebuilt initrd, beside the running kernel's until it is pinned and renamed onto it */
#define FIRST_BOOT_INITRD_NEW_SUFFIX ".vmattest-new"

/* Where dracut writes the running kernel's initrd: the first of these that exists (Debian's
 * name, then Fedora's), or the first when none does. */
#define FIRST_BOOT_INITRD_DEFAULTS "/boot/initrd.img-$(uname -r) or /boot/initramfs-$(uname -r).img"
int first_boot_initrd_path(char *out, size_t size);
