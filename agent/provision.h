/* The first boot's disk work as one call, shared by `vmattest provision` and `vmattest
 * first-boot` (vmattest(8), PROVISION): the volumes resolved (the root from the mount of /),
 * the provisioning passphrase read, nothing escrowed when an earlier run finished, else a
 * fresh instance passphrase escrowed with the verifier (agent/escrow_client.h) and only then
 * the disks changed (agent/luks_provision.h). The root's provisioning keyslot is killed by a
 * call of its own, provision_drop_provisioning: `vmattest provision` makes it right after,
 * `vmattest first-boot` once the rebuilt initrd is in place. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "agent/config.h"

/* The image builder's provisioning key: the file the image's /etc/crypttab names for the root
 * and its provisioning initrd carries (systemd's directory for cryptsetup key files). */
#define PROVISIONING_KEY_PATH "/etc/cryptsetup-keys.d/provisioning.key"
#define PROVISION_VOLUMES_MAX 16

struct provisioned_volume {
        bool root;
        char device[256];   /* the block device (the root's: the backing device of its mapping) */
        char name[64];      /* its mapping name for /etc/crypttab: the root's own, else vmattest-BASENAME */
        char uuid[40];      /* its LUKS UUID */
};

struct provision_request {
        const char *const *volumes;     /* "root" or device paths, each once */
        size_t count;
        const char *provisioning_key_path;
        /* the provisioning key file may be gone (first-boot removes it once the root is done) */
        bool provisioning_key_may_be_gone;
        unsigned wait_seconds;          /* the escrow's wait for this boot's attestation */
};

/* Provisions the volumes of `request` (all but the root's provisioning keyslot's removal) with the registrar and identity of `config`; `out`
 * (request->count entries) says what each volume is, also when an earlier run did the work.
 * *escrowed: whether this call escrowed a new passphrase. 0 when every volume is provisioned;
 * -EACCES when the verifier refused the escrow (no disk changed); -EINVAL for a request that
 * names a volume badly; another negative errno otherwise. The detail names the volume and the
 * step. */
int provision_run(const struct agent_config *config, const struct provision_request *request,
                  struct provisioned_volume *out, bool *escrowed);

/* The last step: when `request` names the root, kills its provisioning keyslot (the one the
 * key file at request->provisioning_key_path opens) once provision_run committed it. 0 also
 * when an earlier run killed it, or the key file is gone and request->provisioning_key_may_be_gone. */
int provision_drop_provisioning(const struct provision_request *request);
