/* Which id the agent registers under (config `uuid`): a configured id, Keylime's hash_ek
 * (stable for the TPM, needs no disk: the default), or "generate": a random UUID made once
 * and kept in the state directory. */
#pragma once

#include "agent/config.h"
#include "agent/ek.h"
#include "lib/agent_id.h"

int agent_uuid_resolve(const struct agent_config *config, const struct ek *ek, char out[AGENT_ID_MAX + 1]);
