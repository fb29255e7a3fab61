/* The agent's side of Keylime's registrar API v2.x (docs/protocol.md §1): version negotiation,
 * register, activate, and vmattest's key escrow (agent/escrow_client.h). Transport failures and
 * 5xx answers are retried (bounded, with backoff, one progress line per attempt); a 4xx answer
 * is final (unless the caller knows it transient) and its status text is shown. */
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
        time_t started;        /* CLOCK_MONOTONIC second of registrar_client_init() */
        /* A 4xx answer the caller knows to pass (escrow: 409 "not attested yet"): retried as an
         * unreachable registrar is, this function's text the progress line; NULL: final. */
        const char *(*transient)(const struct http_response *resp);
        long status;           /* the HTTP status of the last answer (0: none came) */
};

int registrar_client_init(struct registrar_client *client, const struct agent_config *config);
/* GET /version: the newest 2.x both sides speak. */
int registrar_negotiate(struct registrar_client *client);
/* POST /v2.N/agents/{id} with the registration body's JSON text (which may carry an enrolment
 * token: the caller's secure memory); *blob_b64: the malloc'ed base64 credential blob. */
int registrar_register(struct registrar_client *client, const char *agent_id, const char *body, size_t body_size,
                       char **blob_b64);
/* PUT /v2.N/agents/{id}/activate with the auth_tag. */
int registrar_activate(struct registrar_client *client, const char *agent_id, const char *auth_tag);
/* One request to `path` under /v2.N/ (after registrar_negotiate()) with the retry policy above;
 * a 2xx answer is 0 (its body dropped), any other final answer -EPERM with its status in
 * client->status and its status text in the detail. */
int registrar_request(struct registrar_client *client, const char *method, const char *path, const char *body,
                      size_t body_size);

/* The registrar's answers as the two calls above read them (untrusted bodies; no detail is
 * recorded, the callers name the registrar). The newest API minor a GET /version answer offers
 * in results.supported_versions (or current_version); -EBADMSG when it lists neither,
 * -EPROTONOSUPPORT when none is 2.0-2.6. */
int registrar_version_answer(const struct http_response *resp);
/* results.blob of a registration answer, malloc'ed; -EBADMSG when it is missing or no string. */
int registrar_blob_answer(const struct http_response *resp, char **blob_b64);
/* What an answer says in words, for an error message: the `status` string of Keylime's envelope
 * when it has one, else an excerpt of the body (http_body_excerpt); at most 200 characters. */
const char *registrar_answer_text(const struct http_response *resp, char *buf, size_t size);
