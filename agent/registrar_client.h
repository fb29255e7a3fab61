/* The agent's side of Keylime's registrar API v2.x (docs/protocol.md §1): version negotiation,
 * register, activate. Transport failures and 5xx answers are retried (bounded, with backoff, one
 * progress line per attempt); a 4xx answer is final and its body is shown. */
#pragma once

#include <json-c/json.h>
#include <time.h>

#include "agent/config.h"
#include "lib/http_event_client.h"

#define REGISTRAR_API_MIN_MINOR 0
#define REGISTRAR_API_MAX_MINOR 6

struct registrar_client {
        const struct agent_config *config;
        char base_url[300];
        char api_version[16]; /* "2.N", after registrar_negotiate() */
        struct http_tls tls;
        long timeout_ms;
        /* CLOCK_MONOTONIC second: retry until then instead of max_retries times (0: none) */
        time_t deadline;
};

int registrar_client_init(struct registrar_client *client, const struct agent_config *config);
/* GET /version: the newest 2.x both sides speak. */
int registrar_negotiate(struct registrar_client *client);
/* POST /v2.N/agents/{id}; *blob_b64: the malloc'ed base64 credential blob. */
int registrar_register(struct registrar_client *client, const char *agent_id, json_object *body, char **blob_b64);
/* PUT /v2.N/agents/{id}/activate with the auth_tag. */
int registrar_activate(struct registrar_client *client, const char *agent_id, const char *auth_tag);

/* The registrar's answers as the two calls above read them (untrusted bodies; no detail is
 * recorded, the callers name the registrar). The newest API minor a GET /version answer offers
 * in results.supported_versions (or current_version); -EBADMSG when it lists neither,
 * -EPROTONOSUPPORT when none is 2.0-2.6. */
int registrar_version_answer(const struct http_response *resp);
/* results.blob of a registration answer, malloc'ed; -EBADMSG when it is missing or no string. */
int registrar_blob_answer(const struct http_response *resp, char **blob_b64);
