#include "agent/agent_uuid.h"

#include <stdio.h>
#include <string.h>

#include "agent/state.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tpmkey.h"

int agent_uuid_resolve(const struct agent_config *config, const struct ek *ek, char out[AGENT_ID_MAX + 1]) {
        char path[512], generated[37];
        int ret;

        if (strcmp(config->uuid, "hash_ek") == 0)
                return tpmkey_hash_ek(&ek->public.publicArea, out);
        if (strcmp(config->uuid, "generate") != 0) {
                if (!agent_id_valid(config->uuid))
                        return vm_error(-EINVAL, "uuid \"%s\": an agent id is 1-%d characters of A-Z a-z 0-9 . _ -",
                                        config->uuid, AGENT_ID_MAX);
                snprintf(out, AGENT_ID_MAX + 1, "%s", config->uuid);
                return 0;
        }
        ret = state_dir_ensure(config);
        if (ret >= 0)
                ret = state_path(config, "agent_uuid", path, sizeof(path));
        if (ret < 0)
                return ret;
        ret = state_read_text(path, out, AGENT_ID_MAX + 1);
        if (ret >= 0) {
                if (!agent_id_valid(out))
                        return vm_error(-EBADMSG, "%s does not hold a valid agent id", path);
                return 0;
        }
        if (ret != -ENOENT)
                return ret;
        ret = agent_id_generate(generated);
        if (ret >= 0)
                ret = state_write_file(path, generated, strlen(generated), 0644);
        if (ret < 0)
                return ret;
        log_info("generated agent id %s (kept in %s)", generated, path);
        snprintf(out, AGENT_ID_MAX + 1, "%s", generated);
        return 0;
}
