/* Failures told to the tenant's systems: a JSON POST to [verifier] webhook_url, made on the
 * poller's libcurl multi handle beside the polls, so that a webhook that is slow or down delays
 * no poll. Best effort: at most WEBHOOK_PENDING_MAX notifications in flight (more are dropped
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
/* Starts {"agent_id": ..., "state": "failed", "failure": reason, "time": unix seconds}. */
void webhook_notify(struct webhooks *w, const char *agent_id, const char *reason, int64_t when);
/* For each finished transfer of the multi handle: true when `easy` was a notification (its
 * outcome is logged and it is freed), false when it is someone else's. */
bool webhook_finished(struct webhooks *w, CURL *easy, CURLcode code);
