/* Whether a LUKS volume is open: an active dm-crypt mapping of it, as the kernel lists it in
 * sysfs (/sys/block/dm-N/dm/uuid = "CRYPT-LUKS<1|2>-<UUID without dashes>-<name>", the uuid
 * cryptsetup gives every LUKS mapping). `vmattest unlock` uses it to count a volume that was
 * opened without its answer (a human at the prompt, a cached passphrase) as done. */
#pragma once

#include <stdbool.h>

#define DM_CRYPT_SYSFS_BLOCK "/sys/block"

/* `volume`: a LUKS UUID or a path ending in one (/dev/disk/by-uuid/UUID). *open is true when
 * a mapping of it is active under `sysfs_block`. -EINVAL when `volume` names no UUID. */
int dm_crypt_volume_open(const char *sysfs_block, const char *volume, bool *open);
