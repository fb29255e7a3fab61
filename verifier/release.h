/* The key release to one agent, one state machine (SPEC §3; docs/release-protocol.md). The
 * poller asks it which request comes next and feeds it what came back; every decision of the
 * release is taken here, on checked evidence only:
 *
 *   IDLE       nothing to release (no payload, or this boot had its release). A good integrity
 *              quote of a boot (TPM resetCount) without a recorded release, with a payload
 *              enrolled: -> IDENTITY
 *   IDENTITY   ask for an identity quote. Good, of a boot already released: -> IDLE; else the
 *              caller prepares K/U/V for the payload key it vouched for: -> UKEY
 *   UKEY       POST U. Delivered: -> INTEGRITY; failed: -> IDENTITY (a fresh K next time)
 *   INTEGRITY  the next good integrity quote earns V if it is of the same boot and restart as
 *              the identity quote (else -> IDENTITY) and its PCR 15 log holds no release and no
 *              leave-initrd (else refused): -> VKEY
 *   VKEY       POST V. Delivered: -> VERIFY; failed: -> SETTLE (V may have arrived)
 *   VERIFY     GET /keys/verify. The HMAC proves K: released, -> IDLE; a wrong one: refused;
 *              unanswered: -> SETTLE
 *   SETTLE     V may be with the agent: the next good integrity quote of the same boot whose
 *              PCR 15 log records a release settles it as released, anything else -> IDENTITY
 *
 * "This boot had its release" is the resetCount of the boot recorded (a TPM restart, such as a
 * resume from S3, keeps PCRs 0-15: the same boot), kept across re-enrolment (store). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/measurement_log.h"
#include "verifier/quote_check.h"
#include "verifier/release_keys.h"

enum release_state {
        RELEASE_IDLE,
        RELEASE_IDENTITY,
        RELEASE_UKEY,
        RELEASE_INTEGRITY,
        RELEASE_VKEY,
        RELEASE_VERIFY,
        RELEASE_SETTLE,
};

/* What the poller asks the agent next. */
enum release_request {
        RELEASE_ASK_INTEGRITY, /* GET /quotes/integrity: the regular poll */
        RELEASE_ASK_IDENTITY,  /* GET /quotes/identity */
        RELEASE_POST_UKEY,     /* POST /keys/ukey with keys->ukey_body */
        RELEASE_POST_VKEY,     /* POST /keys/vkey with keys->vkey_body */
        RELEASE_ASK_VERIFY,    /* GET /keys/verify?challenge=keys->challenge */
};

struct release {
        enum release_state state;
        bool payload;              /* a payload is enrolled */
        int64_t released_reset;    /* resetCount of the boot that had its release; -1: none */
        int64_t released_restart;  /* (its restartCount, for the record) */
        struct quote_clock boot;   /* the identity quote that began this attempt */
        struct release_keys *keys; /* this attempt's K, U, V; NULL outside UKEY..SETTLE */
};

/* `last`: the last accepted integrity quote (valid false: none yet). */
void release_init(struct release *r, bool payload, int64_t released_reset, int64_t released_restart,
                  const struct quote_clock *last);
void release_done(struct release *r);
const char *release_state_name(enum release_state state);

enum release_request release_next(const struct release *r);

/* A good identity quote: true when keys must be prepared for it (then release_keys_ready). */
bool release_identity_quoted(struct release *r, const struct quote_clock *clock);
/* Takes ownership of the keys prepared for the identity quote: -> UKEY. */
void release_keys_ready(struct release *r, struct release_keys *keys);
void release_ukey_delivered(struct release *r);
/* A good integrity quote and its PCR 15 log (NULL when the log was not asked for). Returns 1
 * when the release was recorded (settled), 0 to go on, -EPERM with a detail when the release
 * is refused (the caller fails the agent). */
int release_integrity_quoted(struct release *r, const struct quote_clock *clock, const struct measurement_summary *log);
void release_vkey_delivered(struct release *r);
/* GET /keys/verify answered with `hmac`: 1 released, -EPERM when it does not prove K. */
int release_verified(struct release *r, const char *hmac);
/* The request of the current state did not get its 200 (unreachable, timeout, an error). */
void release_request_failed(struct release *r);
