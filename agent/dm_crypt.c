#include "agent/dm_crypt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"

DEFINE_POINTER_CLEANUP(DIR, closedir)

#define LUKS_UUID_LEN 36

/* The UUID at the end of `volume`, without its dashes, lower case: the form in dm's uuid. */
static int volume_uuid_hex(const char *volume, char hex[33]) {
        const char *slash = strrchr(volume, '/');
        const char *uuid = slash ? slash + 1 : volume;
        size_t n = 0;

        if (strlen(uuid) != LUKS_UUID_LEN)
                return vm_error(-EINVAL, "%s names no LUKS UUID", volume);
        for (const char *c = uuid; *c; c++) {
                if (*c == '-')
                        continue;
                if (!isxdigit((unsigned char)*c) || n == 32)
                        return vm_error(-EINVAL, "%s names no LUKS UUID", volume);
                hex[n++] = (char)tolower((unsigned char)*c);
        }
        hex[n] = '\0';
        return n == 32 ? 0 : vm_error(-EINVAL, "%s names no LUKS UUID", volume);
}

/* Whether dm's uuid text (one line) is a LUKS mapping of the volume `hex`. */
static bool is_luks_mapping_of(const char *dm_uuid, const char *hex) {
        const char *rest;

        if (strncmp(dm_uuid, "CRYPT-LUKS1-", 12) != 0 && strncmp(dm_uuid, "CRYPT-LUKS2-", 12) != 0)
                return false;
        rest = dm_uuid + 12;
        return strncmp(rest, hex, 32) == 0 && rest[32] == '-';
}

int dm_crypt_volume_open(const char *sysfs_block, const char *volume, bool *open) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *entry;
        char hex[33], path[512], text[256];
        int ret = volume_uuid_hex(volume, hex);

        *open = false;
        if (ret < 0)
                return ret;
        d = opendir(sysfs_block);
        if (!d)
                return errno == ENOENT ? 0 : vm_error(-errno, "%s: %m", sysfs_block);
        while (!*open && (entry = readdir(d))) {
                FILE *f;

                if (strncmp(entry->d_name, "dm-", 3) != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s/dm/uuid", sysfs_block, entry->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue; /* removed meanwhile, or not a mapping */
                if (fgets(text, sizeof(text), f))
                        *open = is_luks_mapping_of(text, hex);
                fclose(f);
        }
        return 0;
}
