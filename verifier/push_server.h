/* The verifier's side of Keylime's push model (API v3, as Keylime 7.14.3's verifier speaks it;
 * docs/protocol.md §4.2), on the registrar's TLS port beside the registrar's API:
 *
 *   POST  /v3[.N]/sessions                           open an authentication session (challenge)
 *   PATCH /v3[.N]/sessions/:id                       TPM2_Certify of the AK over it: a token
 *   POST  /v3[.N]/agents/:id/attestations            capabilities in, 201 with the challenge:
 *                                                    nonce, PCRs, hash and signature algorithms,
 *                                                    the IMA offset and the UEFI log
 *   PATCH /v3[.N]/agents/:id/attestations/latest     evidence in: 202, then judged by the same
 *                                                    checks as a poll (verifier/evidence.c)
 *   GET   /v3[.N]/agents/:id/attestations/latest     the tenant (client certificate): its state
 *
 * The agent's requests carry `Authorization: Bearer <token>` (verifier/push_session.h) and act
 * on its own id only. An agent enrolled in push mode that submits no evidence within
 * PUSH_DEADLINE_INTERVALS quote intervals (from its last evidence, its enrolment or its
 * reactivation; PUSH_HANDOVER_GRACE from the boot's key release at least) fails, named. The
 * key release in push mode (docs/protocol.md §4.3) is verifier/push_release.h's: prepared by
 * the worker after a passing evidence, fetched once.
 * Runs on the registrar's event loop, but for the judging of evidence: one worker thread of its
 * own takes it (evidence_check() only; the outcome is recorded back on the loop). The code is
 * split by job: verifier/push_internal.h names the files. */
#pragma once

#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>

#include "verifier/config.h"
#include "verifier/poller.h"
#include "verifier/store.h"

/* Keylime's push_agent_monitor: an agent is failed after 5 quote intervals without evidence */
#define PUSH_DEADLINE_INTERVALS 5
/* After the boot's key release (docs/protocol.md §4.3) the deadline is at least this long from
 * the release, seconds: the initrd's agent stops at switch-root and the root's takes the
 * identity over only once the root has started its service (a real boot behind NAT under TCG,
 * tests/vm/test-boot-push.sh: 10-15 s without evidence at one quote interval of 1 s) */
#define PUSH_HANDOVER_GRACE 120
/* The body of an evidence PATCH: an IMA list from entry 0 of a long boot (about 150 bytes an
 * entry: some 700 000 entries) does not fit the 2 MiB of the other requests. Keylime's own
 * bound, its verifier's max_upload_size (100 MiB). The TLS listener takes it for every request
 * (libevent has one bound a listener, checked before any handler runs); the handlers refuse
 * more than HTTP_REQUEST_BODY_MAX on all other routes, and the request deadline bounds what a
 * client can make the verifier hold (docs/protocol.md §4.2). */
#define PUSH_EVIDENCE_BODY_MAX (100u << 20)

struct push_server;

/* `store` is the registrar's handle; `poller` (may be NULL) tells the webhook of failures. */
int push_server_new(struct event_base *base, const struct verifier_config *config, struct store *store,
                    struct poller *poller, struct push_server **out);
void push_server_free(struct push_server *server);
/* True when the request's path is the v3 API's (then it was answered). A v3 request other than
 * an agent's evidence PATCH with a body over HTTP_REQUEST_BODY_MAX gets 413. */
bool push_server_handle(struct push_server *server, struct evhttp_request *req);
