/* Keylime 7.14.3's agent authentication for the push model (docs/protocol.md §4.2): POST
 * /v3.0/sessions opens a session with a 128-bit challenge; PATCH /v3.0/sessions/:id with a
 * TPM2_Certify of the agent's AK by itself over that challenge (extraData) proves the AK, and the
 * session's token ("<session id>.<secret>") then authenticates the agent's attestation requests
 * as `Authorization: Bearer <token>` until it expires. Only the SHA-256 of a token is kept.
 * Sessions live in memory: after a restart the agent authenticates again (its requests get 401).
 * Not thread-safe: the registrar's event loop owns them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/agent_id.h"

#define PUSH_CHALLENGE_SIZE 16   /* Keylime: Nonce.generate(128) */
#define PUSH_SESSION_ID_SIZE 36  /* a UUID's text */
#define PUSH_TOKEN_MAX 128
#define PUSH_SESSIONS_MAX 4096   /* open or proved at once; the stalest goes first */

struct push_session {
        char id[PUSH_SESSION_ID_SIZE + 1];
        char agent_id[AGENT_ID_MAX + 1];
        uint8_t challenge[PUSH_CHALLENGE_SIZE];
        int64_t created_at, challenge_expires_at; /* seconds since the epoch */
        uint8_t token_sha256[32];
        int64_t token_expires_at;                 /* 0: not proved */
};

struct push_sessions {
        unsigned challenge_lifetime; /* seconds (Keylime's nonce_lifetime, 60) */
        unsigned session_lifetime;   /* seconds a proved token lasts, extended by each good attestation */
        struct push_session *slots;  /* PUSH_SESSIONS_MAX */
};

int push_sessions_init(struct push_sessions *s, unsigned challenge_lifetime, unsigned session_lifetime);
void push_sessions_done(struct push_sessions *s);

/* A new session for `agent_id` (enrolled or not: Keylime tells nothing until the proof). */
int push_session_open(struct push_sessions *s, const char *agent_id, int64_t now, struct push_session **out);
/* The session `id` of `agent_id` whose challenge is open; NULL when none (or it expired). */
struct push_session *push_session_find(struct push_sessions *s, const char *id, int64_t now);
/* Checks the proof: `attest` a TPM-generated TPMS_ATTEST of TPM2_Certify over the session's
 * challenge certifying `ak` (its name), signed by `ak` with SHA-256. On success the session is
 * proved, any other proved session of the agent ends, and `token` (PUSH_TOKEN_MAX + 1) is the
 * new token, shown once. -EPERM/-EBADMSG naming the check; the session is then closed. */
int push_session_prove(struct push_sessions *s, struct push_session *session, const TPM2B_PUBLIC *ak,
                       const uint8_t *attest, size_t attest_size, const uint8_t *signature, size_t signature_size,
                       int64_t now, char *token);
/* The agent a Bearer token authenticates, or NULL (unknown, unproved or expired). */
const char *push_session_agent(struct push_sessions *s, const char *token, int64_t now);
/* A good attestation proves the AK again: the agent's token lives session_lifetime from now. */
void push_session_extend(struct push_sessions *s, const char *agent_id, int64_t now);
/* Ends the agent's sessions (its enrolment failed or was deleted). */
void push_session_end_agent(struct push_sessions *s, const char *agent_id);
