/* The push model's client (docs/protocol.md §4, Keylime API v3.0, "agent-driven attestation"):
 * with mode = push the agent opens no port; it proves possession of its AK to open a session
 * (TPM2_Certify of the AK by itself over the verifier's challenge, a bearer token back), then
 * loops: offers its capabilities (POST .../attestations), gives the evidence the verifier chose
 * (PATCH .../attestations/INDEX), waits what the verifier says. Retry-After on 429 and 503 is
 * honoured; other failures (the verifier down, the agent not enrolled yet) back off from
 * retry_interval, doubling (exponential_backoff) up to attestation_interval_seconds, or up to
 * PUSH_BACKOFF_UNLOCK_MAX_S in unlock (backoff_max), each wait told in a progress line. Runs on the agent's event loop, one blocking exchange at a
 * time, as `serve` and `unlock` bring it up (agent/agent_server.h). */
#pragma once

#include <event2/event.h>
#include <json-c/json.h>

#include "agent/api.h"
#include "agent/push_answer.h"
#include "lib/http_response.h"
#include "lib/secret.h"

#define PUSH_API_VERSION "3.0"
#define PUSH_TIMEOUT_MS 30000 /* each exchange with the verifier */
/* unlock's bound on the wait between two failed attempts (the verifier not up yet, the agent not
 * enrolled yet): a verifier or an enrolment that comes late in unlock_timeout is not missed */
#define PUSH_BACKOFF_UNLOCK_MAX_S 4

struct push_client {
        const struct agent_config *config;
        struct agent_api *api;
        struct event *timer;
        struct http_tls tls;
        /* "Bearer TOKEN" in the secure heap (lib/secret.h), wiped when the session ends; NULL
         * without a session */
        struct secret *authorization;
        unsigned backoff;     /* the wait after the next failure (s) */
        unsigned backoff_max; /* its bound (s); 0: attestation_interval_seconds */
        unsigned long accepted;                 /* attestations whose evidence the verifier took */
        /* After each accepted attestation, with the verifier's answer (202): the point where a
         * release step of a later protocol (key release in push mode) joins. NULL: none. A
         * negative return is logged and counts as a failed attestation. */
        int (*on_accepted)(void *user, json_object *answer);
        void *user;
};

/* The session's "Bearer TOKEN" for a request's Authorization header, or NULL without one. */
const char *push_client_authorization(const struct push_client *pc);

/* Schedules the first attestation at once on `base`. */
int push_client_start(struct push_client *pc, const struct agent_config *config, struct agent_api *api,
                      struct event_base *base);
void push_client_stop(struct push_client *pc);
/* One attestation, blocking: 0 when the verifier took the evidence, *wait the seconds it asks
 * before the next; -EAGAIN when it said to come back (429, 503), *wait its Retry-After (0: it
 * named none); another negative errno with a detail otherwise. */
int push_client_attest(struct push_client *pc, unsigned *wait);
