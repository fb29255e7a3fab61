/* Revocation notifications (docs/protocol.md §2.8): when an agent fails attestation, Keylime's
 * verifier POSTs {"msg": TEXT, "signature": SIG} to the agents it attests, TEXT a JSON object
 * (the failed agent and the event) and SIG the base64 of TEXT's RSA-PSS signature (SHA-256,
 * MGF1-SHA-256) under the tenant's revocation key. This file reads such a body, bounded, and
 * checks it against the certificate agent.conf's revocation_cert names; what the agent then
 * runs is its own configuration's (agent/revocation_actions.h), never anything the message
 * names or carries. */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>

/* Bounds on what a peer sends: Keylime's message is a few hundred bytes (the failure's context
 * included); the base64 of an RSA-8192 signature is 1368 characters. */
#define REVOCATION_BODY_MAX (256u << 10)
#define REVOCATION_SIGNATURE_MAX 2048
#define REVOCATION_CERT_MAX (64u << 10)
/* The smallest revocation key taken (Keylime's tenant makes RSA-2048 keys). */
#define REVOCATION_KEY_BITS_MIN 2048

struct revocation_message {
        json_object *body;      /* the parsed body: msg and signature point into it */
        const char *msg;        /* the signed text, exactly as sent */
        size_t msg_size;
        const char *signature;  /* base64, as sent */
        json_object *message;   /* msg parsed: set by revocation_message_verify() only */
};

/* The public key of the PEM certificate at `path`: an RSA key of at least
 * REVOCATION_KEY_BITS_MIN bits. The certificate only carries the key, as in Keylime: no chain,
 * dates or names are checked. */
int revocation_cert_load(const char *path, EVP_PKEY **key);

/* Reads a notification body: one JSON object with the strings `msg` (not empty) and
 * `signature` (at most REVOCATION_SIGNATURE_MAX bytes), REVOCATION_BODY_MAX bytes at most
 * (a larger `size` is refused without reading `body`, which may then be NULL); other members
 * are ignored. -EBADMSG naming what is wrong. */
int revocation_message_parse(const char *body, size_t size, struct revocation_message *m);

/* Checks the signature of a parsed message under `key`, then that `msg` is one JSON object
 * (set in m->message). -EBADMSG for an empty ("" or "none", what Keylime sends without a
 * revocation key) or malformed signature or a msg that is not a JSON object; -EPERM when the
 * signature does not verify. */
int revocation_message_verify(struct revocation_message *m, EVP_PKEY *key);

void revocation_message_done(struct revocation_message *m);
