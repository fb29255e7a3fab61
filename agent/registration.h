/* Enrollment with the registrar (docs/protocol.md §1): register the identity, activate the
 * credential the registrar made for it in the TPM, and prove it with the auth_tag. */
#pragma once

#include "agent/agent_identity.h"
#include "agent/registrar_client.h"

/* `registrar` must be initialized; on success its api_version is the one used. */
int agent_register(const struct agent_config *config, struct agent_identity *id, struct registrar_client *registrar);
