/* Failures told to the tenant's systems: a JSON POST to [verifier] webhook_url. Best effort,
 * bounded in time: a webhook that is down delays the poller by its timeout at most. */
#pragma once

#include <stdint.h>

#define WEBHOOK_TIMEOUT_MS 3000

/* {"agent_id": ..., "state": "failed", "failure": reason, "time": unix seconds}; no-op for "". */
void webhook_notify(const char *url, const char *agent_id, const char *reason, int64_t when);
