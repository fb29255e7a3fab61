/* Key escrow (vmattest extension, docs/protocol.md): POST /v2.N/agents/{id}/escrow on the
 * registrar's TLS port. An enrolled agent hands over the key it made for its disk in its first
 * boot; the verifier keeps it sealed as the enrolment's payload and releases it from the next
 * boot on, as it releases a tenant's. The client certificate is the proof of who sends it: it
 * must be the agent's active registered mTLS certificate, byte for byte. */
#pragma once

#include <event2/http.h>
#include <json-c/json.h>

#include "lib/secret.h"
#include "verifier/registrar.h"

#define ESCROW_PAYLOAD_MAX 4096

/* The body {"payload": "<base64 of 1..4096 bytes>"}: *payload the decoded bytes (secure heap).
 * -EBADMSG with a detail naming what is wrong. The base64 text in `body` is wiped. */
int escrow_body_parse(json_object *body, struct secret **payload);
/* The route's handler (the registrar's dispatch has checked the path and the method). */
void escrow_handle(struct registrar *r, struct evhttp_request *req, const char *agent_id);
