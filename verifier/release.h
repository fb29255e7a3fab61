/* The key release to one agent, one state machine (docs/protocol.md §3; docs/release-protocol.md).
 * The poller asks it which request comes next and feeds it what came back; every decision of the
 * release is taken here, on checked evidence only (a quote, and the PCR 15 log it replays):
 *
 *   IDLE       the regular integrity polls. A good one of a boot (TPM resetCount) without a
 *              recorded release, with a payload enrolled, whose PCR 15 log holds no release and
 *              no leave-initrd: the caller prepares K/U/V for the payload key that quote vouched
 *              for (PCR 16), -> UKEY. A log that records a release this verifier did not make
 *              is refused (a second release in one boot); one that records leave-initrd only
 *              stops the release (a VM enrolled after it booted).
 *   UKEY       POST U. Delivered: -> INTEGRITY; refused or unanswered: -> IDLE (the next poll
 *              decides again, with a fresh K)
 *   INTEGRITY  the next good integrity quote earns V if it is of the same boot and restart as
 *              the one that earned U (else the attempt is void: -> IDLE) and its PCR 15 log still
 *              holds no release (refused) and no leave-initrd (-> IDLE): -> VKEY
 *   VKEY       POST V. Delivered: -> VERIFY; failed: -> SETTLE (V may have arrived)
 *   VERIFY     GET /keys/verify. The HMAC proves K: released, -> IDLE; a wrong one: refused;
 *              unanswered: -> SETTLE
 *   SETTLE     V may be with the agent: the next good integrity quote of the same boot whose
 *              PCR 15 log records a release settles it as released; anything else -> IDLE
 *
 * An agent whose group pins PCR 9 by the first boot (docs/protocol.md §5.6) gets no release
 * before that pin was made: without it PCR 9, the initrd and the command line, is free.
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
        RELEASE_UKEY,
        RELEASE_INTEGRITY,
        RELEASE_VKEY,
        RELEASE_VERIFY,
        RELEASE_SETTLE,
};

/* What the poller asks the agent next. */
enum release_request {
        RELEASE_ASK_INTEGRITY, /* GET /quotes/integrity: the regular poll */
        RELEASE_POST_UKEY,     /* POST /keys/ukey with keys->ukey_body */
        RELEASE_POST_VKEY,     /* POST /keys/vkey with keys->vkey_body */
        RELEASE_ASK_VERIFY,    /* GET /keys/verify?challenge=keys->challenge */
};

/* What release_integrity_quoted decided. */
#define RELEASE_GO_ON 0
#define RELEASE_RECORDED 1 /* released in this boot: the caller records it */
#define RELEASE_PREPARE 2  /* the caller prepares the keys for this quote's pubkey */

struct release {
        enum release_state state;
        bool payload;              /* a payload is enrolled */
        bool pcr9_pin_missing;     /* the group pins PCR 9 by the first boot, which has not: no release */
        int64_t released_reset;    /* resetCount of the boot that had its release; -1: none */
        int64_t released_restart;  /* (its restartCount, for the record) */
        struct quote_clock boot;   /* the quote that earned U */
        struct release_keys *keys; /* this attempt's K, U, V; NULL in IDLE */
        char held[160];            /* why a release due in this boot is held back; "" */
};

void release_init(struct release *r, bool payload, int64_t released_reset, int64_t released_restart);
void release_done(struct release *r);
const char *release_state_name(enum release_state state);

enum release_request release_next(const struct release *r);

/* A good integrity quote and its PCR 15 log (NULL when the log was not asked for):
 * RELEASE_GO_ON, RELEASE_PREPARE (then release_keys_ready), RELEASE_RECORDED, or -EPERM with a
 * detail when the release is refused (the caller fails the agent). */
int release_integrity_quoted(struct release *r, const struct quote_clock *clock, const struct measurement_summary *log);
/* Takes ownership of the keys prepared for the quote that asked for them: -> UKEY. */
void release_keys_ready(struct release *r, struct release_keys *keys);
void release_ukey_delivered(struct release *r);
void release_vkey_delivered(struct release *r);
/* GET /keys/verify answered with `hmac`: RELEASE_RECORDED, or -EPERM when it does not prove K. */
int release_verified(struct release *r, const char *hmac);
/* The request of the current state did not get its 200 (unreachable, timeout, a refusal). */
void release_request_failed(struct release *r);
