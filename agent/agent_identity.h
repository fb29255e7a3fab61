/* Everything that makes this agent itself, brought up together for `register`, `serve` and
 * (later) `unlock`: the TPM connection, the EK with its certificate, the AK (created under
 * the EK on first use), the agent id and the mTLS certificate. */
#pragma once

#include "agent/ak.h"
#include "agent/config.h"
#include "agent/ek.h"
#include "agent/tpm.h"
#include "lib/agent_id.h"

struct agent_identity {
        struct tpm *tpm;
        struct ek *ek;
        struct ak ak;
        char agent_id[AGENT_ID_MAX + 1];
        char *mtls_cert; /* PEM */
};

/* `tcti`: the TPM to use (already resolved from options, environment and config). */
int agent_identity_open(const struct agent_config *config, const char *tcti, struct agent_identity *id);
void agent_identity_close(struct agent_identity *id);
