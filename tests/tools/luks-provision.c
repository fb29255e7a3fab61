/* TEST TOOL, not a user command: the disk work of `vmattest provision` (agent/luks_provision.c)
 * with the instance passphrase read from a file instead of made and escrowed: the VM test
 * (tests/vm/test-provision.sh) runs it inside the guest, kills it in the middle of the
 * reencryption and runs it again.
 * Usage: luks-provision --key-file FILE [--provisioning-key-file FILE]
 *                       [--root DEVICE[:NAME] | --root-of MOUNTPOINT] [--data DEVICE]...
 *                       [--hotzone BYTES] [--check]
 * --root DEVICE:NAME re-encrypts online (NAME: its open mapping); --root-of finds the LUKS2
 * volume a mount point is on as `vmattest provision root` finds the root's; --check only says
 * whether work is left ("work left" / "nothing left"). LUKS_PROVISION_DEBUG=1 in the
 * environment adds libcryptsetup's debug lines. Exit 0 done, 1 failed, 2 usage, 3 nothing left
 * to do. */
#include <getopt.h>
#include <libcryptsetup.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/luks_provision.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secret_file.h"

static struct secret *read_secret(const char *path) {
        uint8_t *data = NULL;
        size_t size, alloc_size;
        struct secret *s;
        int ret = secret_file_read(path, 8192, &data, &size, &alloc_size);

        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return NULL;
        }
        s = secret_new_copy(data, size);
        OPENSSL_secure_clear_free(data, alloc_size);
        return s;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "key-file", required_argument, NULL, 'k' },
                { "provisioning-key-file", required_argument, NULL, 'p' },
                { "root", required_argument, NULL, 'r' },
                { "root-of", required_argument, NULL, 'm' },
                { "data", required_argument, NULL, 'd' },
                { "hotzone", required_argument, NULL, 'z' },
                { "check", no_argument, NULL, 'c' },
                {},
        };
        _cleanup_(secret_freep) struct secret *key = NULL, *prov = NULL;
        struct luks_provision_options opts = {};
        struct luks_volume volumes[8];
        const char *key_file = NULL, *prov_file = NULL;
        _cleanup_(freep) char *root_device = NULL, *root_name = NULL;
        size_t count = 0;
        bool check = false, work_left;
        char *colon;
        int opt, ret;

        /* LUKS_PROVISION_DEBUG=1: libcryptsetup's own debug lines too */
        log_setup("luks-provision", getenv("LUKS_PROVISION_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
        if (getenv("LUKS_PROVISION_DEBUG"))
                crypt_set_debug_level(CRYPT_DEBUG_ALL);
        while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
                switch (opt) {
                case 'k':
                        key_file = optarg;
                        break;
                case 'p':
                        prov_file = optarg;
                        break;
                case 'r':
                case 'd':
                        if (count == ELEMENTSOF(volumes))
                                return 2;
                        volumes[count] = (struct luks_volume){ .device = optarg, .root = opt == 'r' };
                        if (opt == 'r' && (colon = strchr(optarg, ':'))) {
                                *colon = '\0';
                                volumes[count].active_name = colon + 1;
                        }
                        count++;
                        break;
                case 'm':
                        if (count == ELEMENTSOF(volumes))
                                return 2;
                        volumes[count] = (struct luks_volume){ .root = true };
                        ret = luks_volume_of_mount(optarg, &root_device, &root_name);
                        if (ret < 0) {
                                log_error("%s", vm_error_detail(ret));
                                return 1;
                        }
                        log_info("the LUKS2 volume of %s: %s, open as %s", optarg, root_device, root_name);
                        volumes[count].device = root_device;
                        volumes[count++].active_name = root_name;
                        break;
                case 'z':
                        opts.max_hotzone_bytes = strtoull(optarg, NULL, 10);
                        break;
                case 'c':
                        check = true;
                        break;
                default:
                        fprintf(stderr, "usage: see tests/tools/luks-provision.c\n");
                        return 2;
                }
        }
        if ((!key_file && !check) || !count || optind != argc) {
                fprintf(stderr, "usage: see tests/tools/luks-provision.c\n");
                return 2;
        }
        if ((ret = secret_heap_setup(64 * 1024)) < 0)
                log_warning("%s", vm_error_detail(ret));
        if (prov_file && !(prov = read_secret(prov_file)))
                return 1;
        opts.provisioning_passphrase = prov;
        opts.progress_seconds = 1;
        if (check) {
                ret = luks_provision_check(volumes, count, &opts, &work_left);
                if (ret < 0) {
                        log_error("%s", vm_error_detail(ret));
                        return 1;
                }
                puts(work_left ? "work left" : "nothing left");
                return work_left ? 0 : 3;
        }
        if (!(key = read_secret(key_file)))
                return 1;
        ret = luks_provision(volumes, count, key, &opts);
        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return ret == -EALREADY ? 3 : 1;
        }
        /* the provisioning keyslot goes in a step of its own, as `vmattest provision` does it */
        for (size_t i = 0; i < count; i++)
                if (volumes[i].root && (ret = luks_root_drop_provisioning(volumes[i].device, prov)) < 0) {
                        log_error("%s", vm_error_detail(ret));
                        return 1;
                }
        log_info("provisioned %zu volume(s)", count);
        return 0;
}
