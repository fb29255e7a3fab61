/* Everything that makes this agent itself, brought up together for `register`, `serve` and
 * `unlock`: the TPM connection, the EK with its certificate, the AK (created under
 * the EK on first use), the agent id and the mTLS certificate. */
#pragma once

#include "agent/ak.h"
#include "agent/config.h"
#include "agent/ek.h"
#include "agent/handover.h"
#include "agent/mtls.h"
#include "agent/platform_ak.h"
#include "agent/tpm.h"
#include "lib/agent_id.h"

struct agent_identity {
        struct tpm *tpm;
        struct ek *ek;
        struct ak ak;
        struct platform_ak platform; /* a cloud's AK and its certificate; source NULL: our own AK */
        char agent_id[AGENT_ID_MAX + 1];
        struct mtls_identity mtls;
};

/* Where the mTLS identity comes from: the state directory (kept across runs, as Keylime's
 * agent does), memory only (`unlock`: the initrd keeps nothing), or the hand-over. */
enum mtls_source { MTLS_STATE_DIR, MTLS_EPHEMERAL, MTLS_HANDOVER };

/* `tcti`: the TPM to use (already resolved from options, environment and config). With
 * MTLS_HANDOVER, `handover` gives the agent id, the AK handle and the mTLS key and certificate
 * (moved into id). */
int agent_identity_open(const struct agent_config *config, const char *tcti, enum mtls_source mtls,
                        struct handover *handover, struct agent_identity *id);
void agent_identity_close(struct agent_identity *id);
