/* Key escrow (vmattest's extension of Keylime's registrar API, docs/protocol.md §1): on its first
 * boot an instance made its own disk key; it hands that key to the verifier through the
 * registrar's TLS port, POST /v2.N/agents/{id}/escrow {"payload": base64(key)}, authenticated by
 * the agent's persistent mTLS identity as its TLS client certificate (the one it registered).
 * The verifier seals the key as the agent's payload and releases it to the initrd of the next
 * boots, as it releases a tenant's payload.
 *
 * The verifier takes the key only from an agent it has attested since its activation: until
 * then it answers 409 "not attested yet", which is waited out (as is an unreachable registrar),
 * with a progress line per attempt, for up to `wait_seconds`. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/mtls.h"
#include "agent/registrar_client.h"
#include "lib/agent_id.h"
#include "lib/http_response.h"
#include "lib/secret.h"

#define ESCROW_KEY_MAX 4096        /* bytes of key the verifier takes */
#define ESCROW_WAIT_DEFAULT 180    /* seconds */

/* Escrows `key` (1..ESCROW_KEY_MAX bytes; the caller's, left as it is) with the registrar of
 * `config` (registrar_ip and the TLS port, the server checked against registrar_tls_ca_cert),
 * as the agent `register` registers: the agent id from the TPM named by config->tcti (the
 * caller resolves --tcti and $VMATTEST_TCTI into it; "" is the default TPM), the client
 * certificate from the state directory (mtls_identity_ensure). Returns 0 once escrowed;
 * -EACCES when the verifier refused it (403: not this agent's certificate, 404: agent not
 * registered or not enrolled, 409: a payload is already enrolled), final; -EINVAL for a key or
 * a config it cannot be sent with (registrar_tls off); another negative errno when it failed
 * (-ETIMEDOUT: not attested within the wait; unreachable, TLS, a malformed answer). The detail
 * gives the server's status text. */
int escrow_send(const struct agent_config *config, const uint8_t *key, size_t key_size, unsigned wait_seconds);

/* The agent id as `register` derives it (hash_ek: from the EK of the TPM config->tcti names),
 * and the persistent mTLS identity registered with it: the client certificate of escrow and of
 * the first boot's PCR 9 pin (agent/initrd_pin.h). */
int escrow_agent_identity(const struct agent_config *config, char agent_id[AGENT_ID_MAX + 1], struct mtls_identity *mtls);

/* What escrow and the PCR 9 pin share: POSTs `body` to agents/<id>/<resource> at the
 * registrar's TLS port as the registered agent (the id and client certificate of
 * escrow_agent_identity()), a 409 that `pending` names waited out for up to `wait_seconds`
 * counted from after the TPM's part. *registrar keeps the answer's status, base URL and API
 * version for the caller's message; agent_id gets the id. registrar_request()'s returns. */
int escrow_post_registered(const struct agent_config *config, const char *resource,
                           const char *(*pending)(const struct http_response *resp), unsigned wait_seconds,
                           const char *body, size_t body_size, struct registrar_client *registrar,
                           char agent_id[AGENT_ID_MAX + 1]);

/* The pieces escrow_send() is made of, for the tests and the fuzz harness. The request's body
 * {"payload":"<base64>"} in the secure heap; -EINVAL for an empty or oversize key. */
int escrow_body(const uint8_t *key, size_t key_size, struct secret **body);
/* The progress line's text for an answer to wait out (409 "not attested yet"), else NULL. */
const char *escrow_answer_pending(const struct http_response *resp);
/* Whether a final answer's status is a refusal (403, 404, 409) rather than an error. */
bool escrow_status_refused(long status);
