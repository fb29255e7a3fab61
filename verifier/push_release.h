/* Key release in push mode, a vmattest extension of Keylime's API v3 (docs/protocol.md §4.3,
 * docs/release-protocol.md "Key release in push mode"). Keylime's push model releases no key;
 * vmattest's initrd behind NAT needs one, so:
 *
 *   - the evidence (PATCH .../attestations/latest) may carry `vmattest_payload_key`
 *     (version 1): the payload key's PEM and its TPM2_Certify by the AK, as §5.10 serves them in
 *     pull mode. With a payload enrolled the verifier then asks PCRs 15 and 16 too, and
 *     evidence.c checks the key's PCR 16 binding, the PCR 15 log and the certification;
 *   - a passing evidence of a boot without its release, whose PCR 15 log allows one (the rules
 *     of verifier/release.c, which decides), prepares K, U and V for that key;
 *   - GET /v3[.N]/agents/:id/vmattest/release (Bearer token of that agent) hands U and V over
 *     once, in one document of version 1; the boot is recorded as released before it goes out
 *     (nothing goes out when the store does not take the record).
 *
 * A Keylime agent sends no such member and never asks the route: nothing changes for it. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verifier/release.h"
#include "verifier/store.h"

#define PUSH_RELEASE_VERSION 1
#define PUSH_RELEASE_ROUTE "/vmattest/release"

struct push_release {
        struct release release; /* the pull release's rules; its keys wait for the route */
        char *payload_sealed;   /* the enrolment's payload, sealed under the vault key; NULL: none */
        bool key_offered;       /* the current evidence carried vmattest_payload_key */
        char *pubkey_pem;       /* evidence.c's out: the key PCR 16 vouched for */
        char uncertified[256];  /* evidence.c's out: "" when certified as TPM-resident */
        char refused[320];      /* why no release is waiting ("": one is, or none is due) */
        int64_t prepared_at;    /* when the waiting release was prepared (seconds since the epoch) */
        unsigned ttl;           /* seconds a prepared release waits (verifier.conf's push_release_ttl_seconds) */
        /* the record push_release_take() replaced, put back when it cannot be saved */
        int64_t unrecorded_reset, unrecorded_restart, unrecorded_at;
};

/* `state` the enrolment as loaded with its texts: the payload is taken from it. A prepared release
 * waits `ttl` seconds after its evidence. */
void push_release_init(struct push_release *r, struct attestation *state, unsigned ttl);
void push_release_done(struct push_release *r);
/* The PCRs to add to the verifier's choice: 15 and 16 with a payload enrolled. */
uint32_t push_release_mask(const struct push_release *r);

/* The evidence body's vmattest_payload_key, copied into evidence.c's `results` (pubkey,
 * pubkey_certify); absent: 0 and nothing copied. -EBADMSG naming the member. */
int push_release_evidence(struct push_release *r, json_object *body, json_object *results);

/* After a passing evidence (state->clock is its quote's; `log` its PCR 15 log or NULL):
 * prepares the release when one is due. 0, or -EPERM when the PCR 15 log already records a
 * release in this boot (the caller fails the agent, as the poller does). */
int push_release_judged(struct push_release *r, const char *agent_id, const char *vault_path, bool allow_software,
                        const struct measurement_summary *log, struct attestation *state);

/* GET .../vmattest/release: the document (malloc'ed JSON text) when a release waits, and the
 * boot's release recorded in `state`, which the caller saves and then reports with
 * push_release_recorded() BEFORE any byte of the document goes out: a release the store did not
 * record (PCR 15's once-per-boot rule, the tenant's released_at) is never sent. -ENOENT with a
 * detail saying why none waits. A release not fetched within `ttl` seconds of its evidence
 * (PUSH_RELEASE_TTL unless verifier.conf says otherwise) is withdrawn: the unlock that asked
 * for it fetches at once. */
#define PUSH_RELEASE_TTL 30
int push_release_take(struct push_release *r, const char *agent_id, struct attestation *state, char **document);
/* `saved` the store's answer to saving `state`: 0, the release is done (its keys dropped, the
 * document may go out); negative, `state`'s record is put back and the release withdrawn: the
 * caller wipes the document and answers an error. */
void push_release_recorded(struct push_release *r, const char *agent_id, struct attestation *state, int saved);

/* Withdraws a release prepared and not fetched (its K, U and V dropped), `why` said to the agent
 * that asks for it after: the evidence that follows did not pass, the agent failed, or a new
 * attestation began. A release is only ever the one its own passing evidence prepared. */
void push_release_withdraw(struct push_release *r, const char *agent_id, const char *why);

/* "/agents/:id/vmattest/release": 0 and the id, else -1 */
int push_release_path(const char *rest, char *agent_id, size_t size);
