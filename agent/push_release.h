/* vmattest's key release in push mode, the agent's half (docs/protocol.md §4.3): the evidence
 * offers the payload key (vmattest_payload_key, version 1: its PEM and the AK's TPM2_Certify of
 * it, as §5.10 serves them in pull mode), and after each accepted attestation `unlock` asks
 * GET /v3.0/agents/:id/vmattest/release. U and V arrive together and go through the pull
 * release's code (agent/keys.h: opened by the TPM-resident key, K authenticated, the payload
 * opened), so the API's on_key_released (unlock: PCR 15's key-released, the askpass answers)
 * follows as in pull mode. A Keylime verifier ignores the member and has no such route. */
#pragma once

#include <json-c/json.h>

#include "agent/api.h"
#include "agent/push_client.h"

/* Adds vmattest_payload_key to the evidence's attributes (nothing without a payload key). */
int push_release_offer(struct agent_api *api, json_object *attributes);
/* push_client's on_accepted for `unlock` (user: the push_client): fetches the release once
 * the verifier judged the evidence; none waiting is not an error (asked again next time). */
int push_release_on_accepted(void *user, json_object *answer);
