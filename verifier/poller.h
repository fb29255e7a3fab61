/* The verifier role: polls every enrolled agent for an integrity quote at `quote_interval`,
 * all at once (libcurl's multi interface; one slow or dead agent delays no other), judges the
 * evidence, and records the outcome in the store, where `status` reads it and a restart finds
 * it. A failure is recorded with its reason and POSTed to the webhook, if one is configured
 * (verifier/webhook.h: one more transfer on the same multi handle). It carries out the key
 * release's requests as verifier/release.c decides them. Runs on a thread of its own beside
 * the registrar's event loop, with its own store handle; answers over 1 MiB are judged on an
 * evidence thread, so that one agent's large answer delays no other's poll. */
#pragma once

#include "verifier/config.h"

struct poller;

int poller_start(const struct verifier_config *config, struct poller **out);
/* Reads the store's enrolments at once rather than at the next periodic sync, and so starts
 * polling an agent that just activated its registration without waiting: the initrd's unlock
 * waits for that first quote. Safe from another thread (the registrar's). */
void poller_sync_now(struct poller *poller);
/* A push-mode agent failed (verifier/push_server.c): the webhook is told, as of a polled one.
 * Safe from another thread. */
void poller_notify_failure(struct poller *poller, const char *agent_id, const char *reason, int64_t at);
/* Stops the thread (at most a poll tick later) and frees everything. */
void poller_stop(struct poller *poller);
