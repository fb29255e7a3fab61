/* Failures, and an agent's change of host, told to the tenant's systems: a JSON POST to
 * [verifier] webhook_url, made on the poller's libcurl multi handle beside the polls, so that a
 * webhook that is slow or down delays no poll. Best effort: at most WEBHOOK_PENDING_MAX notifications in flight (more are dropped
 * with a log line), each bounded by WEBHOOK_TIMEOUT_MS. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#define WEBHOOK_TIMEOUT_MS 3000
#define WEBHOOK_PENDING_MAX 64

struct webhooks;

/* `url` "" or NULL: notifications are no-ops. `url` must outlive the object. */
int webhooks_new(CURLM *multi, const char *url, struct webhooks **out);
/* Cancels the notifications still in flight. */
void webhooks_free(struct webhooks *w);
/* Starts {"agent_id": ..., "state": "failed", "time": unix seconds, "failure": reason}. */
void webhook_notify(struct webhooks *w, const char *agent_id, const char *reason, int64_t when);
/* An agent that keeps attesting moved to another host (docs/protocol.md §5.9): {"agent_id": ...,
 * "state": "polling", "time": ..., "event": "host_changed", "previous_host": Name (hex),
 * "host": Name (hex), or null when the agent now serves no binding}. */
void webhook_notify_host_change(struct webhooks *w, const char *agent_id, const char *previous_host, const char *host,
                                int64_t when);
/* For each finished transfer of the multi handle: true when `easy` was a notification (its
 * outcome is logged and it is freed), false when it is someone else's. */
bool webhook_finished(struct webhooks *w, CURL *easy, CURLcode code);
