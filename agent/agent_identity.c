#include "agent/agent_identity.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent_uuid.h"
#include "agent/mtls.h"
#include "lib/error.h"
#include "lib/log.h"

int agent_identity_open(const struct agent_config *config, const char *tcti, struct agent_identity *id) {
        int ret;

        memset(id, 0, sizeof(*id));
        id->ak.handle = ESYS_TR_NONE;
        ret = tpm_open(tcti, &id->tpm);
        if (ret >= 0)
                ret = ek_open(id->tpm, config->tpm_encryption_alg, config->ek_handle, &id->ek);
        if (ret >= 0) {
                ret = ak_load(id->tpm, config->ak_handle, config->tpm_hash_alg, &id->ak);
                if (ret == -ENOENT) {
                        log_info("no AK at handle 0x%08x yet: creating one under the EK", config->ak_handle);
                        ret = ak_create(id->tpm, id->ek, config->ak_handle, config->tpm_hash_alg, &id->ak);
                }
        }
        if (ret >= 0)
                ret = agent_uuid_resolve(config, id->ek, id->agent_id);
        if (ret >= 0)
                ret = mtls_identity_ensure(config, id->agent_id, &id->mtls_cert);
        if (ret < 0)
                agent_identity_close(id);
        return ret;
}

void agent_identity_close(struct agent_identity *id) {
        if (id->tpm) {
                ak_close(id->tpm, &id->ak);
                ek_free(id->tpm, id->ek);
                tpm_free(id->tpm);
        }
        free(id->mtls_cert);
        memset(id, 0, sizeof(*id));
}
