/* The verifier's state in SQLite (WAL mode), so that a restart loses nothing: registered
 * agents now; enrolments, policies and attestation state come with the verifier role. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/agent_id.h"
#include "lib/auth_tag.h"

struct store;

struct registered_agent {
        char agent_id[AGENT_ID_MAX + 1];
        uint8_t *ek_tpm;          /* TPM2B_PUBLIC as registered */
        size_t ek_tpm_size;
        uint8_t *ekcert;          /* DER, NULL when the agent sent none */
        size_t ekcert_size;
        uint8_t *aik_tpm;
        size_t aik_tpm_size;
        char ek_hash[65];
        char ak_name[2 * 66 + 1]; /* hex */
        char *mtls_cert;          /* PEM or NULL */
        char ip[64];
        int port;
        bool active;
        char pending_tag[AUTH_TAG_HEX_SIZE]; /* expected auth_tag while a challenge is open, else "" */
        int64_t registered_at;
        int64_t last_seen;
        unsigned regcount;
};

/* `create`: make the database when missing (the server); readers want an existing one. */
int store_open(const char *path, bool create, struct store **out);
void store_free(struct store *store);

/* -ENOENT when the agent is not registered. */
int store_agent_get(struct store *store, const char *agent_id, struct registered_agent *agent);
/* Inserts or replaces the agent's row. */
int store_agent_put(struct store *store, const struct registered_agent *agent);
int store_agent_delete(struct store *store, const char *agent_id);
/* Calls `fn` for each agent, ordered by id; stops early when fn returns non-zero. */
int store_agent_foreach(struct store *store, int (*fn)(const struct registered_agent *agent, void *user), void *user);
void registered_agent_done(struct registered_agent *agent);
