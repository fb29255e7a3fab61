/* The first boot's disk work (agent/provision.h). Security-sensitive: the provisioning and the
 * instance passphrases live in the secure heap only (the caller sets it up) and are never
 * logged; the instance passphrase goes to the verifier before any disk changes. */
#include "agent/provision.h"

#include <libgen.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/escrow_client.h"
#include "agent/luks_provision.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secret_file.h"

#define PROVISIONING_KEY_MAX 8192 /* cryptsetup's own default key file limit */

static int read_provisioning_key(const struct provision_request *request, struct secret **out) {
        uint8_t *key_data = NULL;
        size_t size, alloc_size;
        int ret = secret_file_read(request->provisioning_key_path, PROVISIONING_KEY_MAX, &key_data, &size, &alloc_size);

        if (ret == -ENOENT && request->provisioning_key_may_be_gone) {
                *out = NULL;
                return 0;
        }
        if (ret < 0)
                return ret;
        *out = secret_new_copy(key_data, size);
        OPENSSL_secure_clear_free(key_data, alloc_size);
        return *out ? 0 : vm_error(-ENOMEM, "no room in the secure heap for the provisioning passphrase");
}

int provision_run(const struct agent_config *config, const struct provision_request *request,
                  struct provisioned_volume *out, bool *escrowed) {
        struct luks_volume volumes[PROVISION_VOLUMES_MAX] = {};
        _cleanup_(freep) char *root_device = NULL, *root_name = NULL;
        _cleanup_(secret_freep) struct secret *provisioning = NULL, *passphrase = NULL;
        struct luks_provision_options opts = {};
        bool have_root = false, work_left;
        int ret;

        *escrowed = false;
        if (request->count == 0 || request->count > PROVISION_VOLUMES_MAX)
                return vm_error(-EINVAL, "%zu volumes: 1-%d expected", request->count, PROVISION_VOLUMES_MAX);
        for (size_t i = 0; i < request->count; i++) {
                const char *name = request->volumes[i];

                for (size_t j = 0; j < i; j++)
                        if (strcmp(name, request->volumes[j]) == 0)
                                return vm_error(-EINVAL, "volume \"%s\" named twice", name);
                if (strcmp(name, "root") == 0) {
                        have_root = true;
                        volumes[i] = (struct luks_volume){ .root = true };
                } else if (name[0] == '/') {
                        volumes[i] = (struct luks_volume){ .device = name };
                } else {
                        return vm_error(-EINVAL, "volume \"%s\" is neither root nor a device path", name);
                }
        }
        if (have_root) {
                ret = luks_volume_of_mount("/", &root_device, &root_name);
                if (ret < 0)
                        return ret;
                for (size_t i = 0; i < request->count; i++) {
                        if (volumes[i].root) {
                                volumes[i].device = root_device;
                                volumes[i].active_name = root_name;
                        } else if (strcmp(volumes[i].device, root_device) == 0) {
                                return vm_error(-EINVAL, "%s is the root's device: name it as root", root_device);
                        }
                }
                if ((ret = read_provisioning_key(request, &provisioning)) < 0)
                        return ret;
                opts.provisioning_passphrase = provisioning;
                opts.provisioning_key_gone = !provisioning;
        }

        /* before a new passphrase replaces the escrowed one: an earlier run that finished is left be */
        ret = luks_provision_check(volumes, request->count, &opts, &work_left);
        if (ret < 0)
                return ret;
        if (!work_left) {
                log_info("provision: every volume was provisioned by an earlier run: nothing to do, nothing escrowed");
        } else {
                passphrase = luks_passphrase_new();
                if (!passphrase)
                        return vm_error(-ENOMEM, "making the instance passphrase (random generator or secure heap)");
                ret = escrow_send(config, passphrase->data, passphrase->size, request->wait_seconds);
                if (ret < 0)
                        return ret;
                *escrowed = true;
                log_info("provision: the instance passphrase is escrowed with the verifier");
                ret = luks_provision(volumes, request->count, passphrase, &opts);
                if (ret < 0)
                        return ret;
                log_info("provision: done: %zu volume(s) under the instance passphrase", request->count);
        }

        for (size_t i = 0; i < request->count; i++) {
                struct provisioned_volume *v = &out[i];
                char base[256];

                *v = (struct provisioned_volume){ .root = volumes[i].root };
                if (strlen(volumes[i].device) >= sizeof(v->device))
                        return vm_error(-ENAMETOOLONG, "volume %s: the path is too long", volumes[i].device);
                snprintf(v->device, sizeof(v->device), "%s", volumes[i].device);
                snprintf(base, sizeof(base), "%s", volumes[i].device);
                if (volumes[i].root)
                        snprintf(v->name, sizeof(v->name), "%s", root_name);
                else
                        snprintf(v->name, sizeof(v->name), "vmattest-%.50s", basename(base));
                if ((ret = luks_volume_uuid(v->device, v->uuid, sizeof(v->uuid))) < 0)
                        return ret;
        }
        return 0;
}

int provision_drop_provisioning(const struct provision_request *request) {
        _cleanup_(freep) char *root_device = NULL, *root_name = NULL;
        _cleanup_(secret_freep) struct secret *provisioning = NULL;
        bool have_root = false;
        int ret;

        for (size_t i = 0; i < request->count; i++)
                have_root = have_root || strcmp(request->volumes[i], "root") == 0;
        if (!have_root)
                return 0;
        if ((ret = luks_volume_of_mount("/", &root_device, &root_name)) < 0)
                return ret;
        if ((ret = read_provisioning_key(request, &provisioning)) < 0)
                return ret;
        return luks_root_drop_provisioning(root_device, provisioning);
}
