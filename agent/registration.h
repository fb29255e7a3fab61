/* Enrollment with the registrar (docs/protocol.md §1): register the identity, activate the
 * credential the registrar made for it in the TPM, and prove it with the auth_tag. */
#pragma once

#include "agent/agent_identity.h"
#include "agent/registrar_client.h"
#include "lib/secret.h"

/* `registrar` must be initialized; on success its api_version is the one used. `enrol_token`
 * (or NULL): the tenant's enrolment token (agent/enrol_token.h), sent as the registration's
 * member vmattest_enrolment_token, to the registrar's TLS port only (-EINVAL before any request
 * when registrar_tls is off). */
int agent_register(const struct agent_config *config, struct agent_identity *id, struct registrar_client *registrar,
                   const struct secret *enrol_token);

/* The registration body's JSON text in the secure heap: `body`, with the member
 * "vmattest_enrolment_token" appended when `enrol_token` is given (checked against its rule). */
int registration_body_text(json_object *body, const struct secret *enrol_token, struct secret **text);
