/* The routes an agent calls on the registrar's TLS port about itself (key escrow, the first
 * boot's PCR 9 pin: docs/protocol.md §5.5, §5.6) take its word only from its own TLS client
 * certificate: the mTLS certificate of its active registration, byte for byte. */
#pragma once

#include <event2/http.h>

#include "verifier/store.h"

/* 0 when the request's client certificate is `agent`'s active registered mTLS certificate;
 * -EACCES with a detail naming `route` ("escrow", ...) and the agent otherwise. A certificate
 * from trusted_client_ca (the tenant's) is not the agent's either. */
int agent_sender_check(struct evhttp_request *req, const struct registered_agent *agent, const char *route);

/* The HTTP status for those routes' errors: 400 malformed, 403 refused sender, 404 unknown
 * agent, 409 not attested yet or against the write-once rules, 500 otherwise. */
int agent_sender_http_status(int ret);
