#include "agent/agent_identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_uuid.h"
#include "agent/mtls.h"
#include "lib/error.h"
#include "lib/log.h"

static int mtls_open(const struct agent_config *config, enum mtls_source source, struct handover *handover,
                     struct agent_identity *id) {
        int ret;

        switch (source) {
        case MTLS_EPHEMERAL:
                return mtls_identity_ephemeral(config, id->agent_id, &id->mtls);
        case MTLS_HANDOVER:
                ret = mtls_identity_adopt(handover->mtls_key, handover->mtls_cert, &id->mtls);
                if (ret >= 0)
                        handover->mtls_key = NULL, handover->mtls_cert = NULL; /* id owns them */
                return ret;
        default:
                return mtls_identity_ensure(config, id->agent_id, &id->mtls);
        }
}

int agent_identity_open(const struct agent_config *config, const char *tcti, enum mtls_source mtls,
                        struct handover *handover, struct agent_identity *id) {
        struct agent_config handed;
        int ret;

        memset(id, 0, sizeof(*id));
        id->ak.handle = ESYS_TR_NONE;
        if (mtls == MTLS_HANDOVER) {
                /* this boot's identity is the one `unlock` registered, whatever the config says */
                handed = *config;
                handed.ak_handle = handover->ak_handle;
                snprintf(handed.uuid, sizeof(handed.uuid), "%s", handover->agent_id);
                config = &handed;
        }
        ret = tpm_open(tcti, &id->tpm);
        if (ret >= 0)
                ret = ek_open(id->tpm, config->tpm_encryption_alg, config->ek_handle, &id->ek);
        if (ret >= 0)
                ret = platform_ak_open(id->tpm, config->ak_source, config->ak_handle, config->tpm_signing_alg,
                                       config->tpm_hash_alg, &id->ak, &id->platform);
        if (ret >= 0 && !id->platform.source) {
                ret = ak_load(id->tpm, config->ak_handle, config->tpm_signing_alg, config->tpm_hash_alg, &id->ak);
                if (ret == -ENOENT && mtls == MTLS_HANDOVER)
                        ret = vm_error(ret, "the handed-over AK 0x%08x is not in the TPM", config->ak_handle);
                else if (ret == -ENOENT) {
                        log_info("no AK at handle 0x%08x yet: creating one under the EK", config->ak_handle);
                        ret = ak_create(id->tpm, id->ek, config->ak_handle, config->tpm_signing_alg,
                                        config->tpm_hash_alg, &id->ak);
                }
        }
        if (ret >= 0)
                ret = agent_uuid_resolve(config, id->ek, id->agent_id);
        if (ret >= 0)
                ret = mtls_open(config, mtls, handover, id);
        if (ret < 0)
                agent_identity_close(id);
        return ret;
}

void agent_identity_close(struct agent_identity *id) {
        if (id->tpm) {
                ak_close(id->tpm, &id->ak);
                ek_free(id->tpm, id->ek);
                platform_ak_done(&id->platform);
                tpm_free(id->tpm);
        }
        mtls_identity_free(&id->mtls);
        memset(id, 0, sizeof(*id));
}
