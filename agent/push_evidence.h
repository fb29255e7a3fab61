/* The push model's requests (docs/protocol.md §4, Keylime API v3.0): the capabilities the agent
 * offers when it opens an attestation, the evidence it gives for what the verifier chose, and the
 * proof of possession of its AK that opens a session. The evidence comes from the pull model's
 * code (agent/api.h): the same quote with PCR 16, the same IMA list and event log. */
#pragma once

#include <stddef.h>

#include "agent/api.h"
#include "agent/push_answer.h"

/* JSON:API bodies, malloc'ed JSON text. */
/* POST /v3.0/sessions: tpm_pop for `agent_id` */
int push_session_body(const char *agent_id, char **text);
/* PATCH /v3.0/sessions/ID: TPM2_Certify of the AK by itself over the challenge */
int push_pop_body(struct agent_api *api, const struct push_challenge *challenge, char **text);
/* POST /v3.0/agents/ID/attestations: a tpm_quote in the AK's bank and scheme, over PCRs 0-23;
 * uefi_log when there is an event log to give; ima_log (with its entry count) when IMA keeps a
 * list; the boot time */
int push_capabilities_body(struct agent_api *api, char **text);
/* PATCH .../attestations/INDEX: `request`'s items, in its order */
int push_evidence_body(struct agent_api *api, const struct push_evidence_request *request, char **text);
