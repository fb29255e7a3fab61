/* The verifier's state in SQLite (WAL mode), so that a restart loses nothing: registered
 * agents, enrolments with their policies, and the attestation state of each. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/agent_id.h"
#include "lib/auth_tag.h"
#include "verifier/quote_check.h"

struct store;

#define GROUP_NAME_MAX 64

struct registered_agent {
        char agent_id[AGENT_ID_MAX + 1];
        uint8_t *ek_tpm;          /* TPM2B_PUBLIC as registered */
        size_t ek_tpm_size;
        uint8_t *ekcert;          /* DER, NULL when the agent sent none */
        size_t ekcert_size;
        uint8_t *aik_tpm;
        size_t aik_tpm_size;
        uint8_t *ak_cert;         /* DER of the cloud's AK certificate, NULL when the agent sent none */
        size_t ak_cert_size;
        /* what the registrar accepted the keys on (verifier/identity_proof.h): "ek-certificate",
         * "ak-certificate", "ek-allowlist", "ek-pinned"; "" in a registration older than the name */
        char identity_proof[16];
        char ek_hash[65];
        char ak_name[2 * 66 + 1]; /* hex */
        /* The activated registration: where the verifier reaches the agent. Only an answered
         * challenge sets these; a POST alone, which anyone holding the public keys can send,
         * never does. */
        bool active;
        char *mtls_cert;          /* PEM or NULL */
        char ip[64];
        int port;
        /* The registration whose challenge is open, kept beside the active one until the agent
         * answers it: then it becomes the active one; a wrong answer drops it. */
        char pending_tag_sha256[AUTH_TAG_DIGEST_HEX_SIZE]; /* of the expected auth_tag; "" when none is open */
        char *pending_mtls_cert;  /* PEM or NULL */
        char pending_ip[64];
        int pending_port;
        int64_t pending_at;
        /* the SHA-256 (hex) of the enrolment token the pending registration came with; "": none */
        char pending_token_sha256[65];
        int64_t registered_at;    /* the first registration */
        int64_t last_seen;        /* the last activation; the first registration before one */
        unsigned regcount;        /* activations */
};

/* An agent enrolled for attestation (vmattest-verifier add), and where its polling stands. */
struct attestation {
        char agent_id[AGENT_ID_MAX + 1];
        char ek_hash[65];       /* the TPM the tenant enrolled (pinned at add): the registration must */
        char ak_name[2 * 66 + 1]; /* keep them, whatever else registers under the id */
        int64_t revision;       /* new (random) at each add and reactivate, so that the poller reloads,
                                 * even after a delete and an add between two of its looks */
        char *tpm_policy;       /* the tenant's policies as given (JSON); NULL when not read or none */
        char *runtime_policy;
        char *mb_policy;
        char *platform_policy;  /* docs/platforms.md; NULL: none */
        char *host_policy;      /* docs/protocol.md §5.9 (verifier/host_policy.h); NULL: none */
        char *payload;          /* the tenant's payload sealed under the vault key; NULL: none */
        char state[16];         /* "polling" or "failed" */
        char failure[1024];     /* why it failed: which check, PCR, entry, path, digest */
        int64_t failed_at;
        uint64_t ima_next_entry; /* IMA replay: the next entry to ask for, and PCR 10 up to it */
        uint8_t ima_pcr10[64];
        size_t ima_pcr10_size;
        struct quote_clock clock; /* of the last accepted quote */
        int64_t boottime;
        int64_t last_poll, last_ok, added_at;
        unsigned polls;
        unsigned poll_ms;       /* how long the last poll took, request to verdict */
        int64_t released_reset; /* the boot (TPM reset, restart count) the payload was released in; -1: none */
        int64_t released_restart;
        int64_t released_at;
        char last_error[512];   /* the last time the agent could not be reached; "" since a success */
        char group[GROUP_NAME_MAX + 1]; /* the enrolment group whose token enrolled it; "" for add */
        char payload_origin[16]; /* "tenant" (add --payload), "escrow" (the agent's), "" when none */
        int64_t escrowed_at;    /* when the agent escrowed its payload; 0: never */
        int64_t escrow_reset;   /* the boot (TPM reset count) of the escrow; -1: none */
        /* PCR 9 pinned per agent by its first boot (docs/protocol.md §5.6) */
        bool pcr9_pin_required; /* its group has --pin-first-boot-initrd: no release before the pin */
        char pcr9_pinned_by[16]; /* "first-boot" once pinned (tpm_policy then holds the value); "" */
        int64_t pcr9_pin_reset; /* the boot (TPM reset count) that pinned it, whose own PCR 9 is the
                                 * image's initrd's: not checked against the pin; -1: none */
        int64_t pcr9_pinned_at;
        /* push mode (Keylime's API v3, docs/protocol.md §4.2): the agent submits its evidence to
         * verifier/push_server.c; the poller does not poll it */
        bool push;
        /* the host binding (docs/protocol.md §5.9): the host AK's Name (hex) in the last good
         * quote's binding ("" none yet, or none served), the host before it, and when it changed */
        char host[2 * 66 + 1];
        char previous_host[2 * 66 + 1];
        int64_t host_changed_at;
        char host_class[64 + 1]; /* the host policy's class `host` matched; "" unnamed or none */
};

/* `create`: make the database when missing (the server); readers want an existing one. The
 * database and its -wal and -shm files are the owner's only (mode 0600); one made by an older
 * version is upgraded to this version's schema (PRAGMA user_version). */
int store_open(const char *path, bool create, struct store **out);
void store_free(struct store *store);

/* -ENOENT when the agent is not registered. */
int store_agent_get(struct store *store, const char *agent_id, struct registered_agent *agent);
/* Records a registration whose challenge is open: a new agent with its keys, not active; for a
 * known one only the pending_* members, its activated registration untouched. The caller has
 * checked that the keys are the ones registered. */
int store_agent_register(struct store *store, const struct registered_agent *agent);
/* The challenge `tag_sha256` was answered: the pending registration becomes the active one.
 * -ESTALE when that challenge is no longer the open one. */
int store_agent_activate(struct store *store, const char *agent_id, const char *tag_sha256, int64_t now);
/* Forgets the pending registration (a wrong auth_tag); the active one stays. */
int store_agent_drop_pending(struct store *store, const char *agent_id);
int store_agent_delete(struct store *store, const char *agent_id);
/* How many agents are registered (active or pending). */
int store_agent_count(struct store *store, unsigned long *count);
/* Calls `fn` for each agent, ordered by id; stops early when fn returns non-zero. */
int store_agent_foreach(struct store *store, int (*fn)(const struct registered_agent *agent, void *user), void *user);
void registered_agent_done(struct registered_agent *agent);

/* Enrolls (or re-enrolls) an agent with its policies, pinning the EK hash and AK name of its
 * registration; polling starts from scratch, but the record of the boot that had its key
 * release is kept (a key is released once per boot). */
int store_attestation_add(struct store *store, const struct registered_agent *reg, const char *tpm_policy,
                          const char *runtime_policy, const char *mb_policy, const char *sealed_payload,
                          const char *platform_policy, const char *host_policy);
/* The enrolment's mode: push (the agent submits evidence) or pull (polled); a new revision, so
 * that the poller and the push server reload it. -ENOENT when not enrolled. An add or re-add
 * enrols in pull mode: set it after. */
int store_attestation_set_push(struct store *store, const char *agent_id, bool push);
/* store_attestation_add in push mode, in one transaction. */
int store_attestation_add_push(struct store *store, const struct registered_agent *reg, const char *tpm_policy,
                               const char *runtime_policy, const char *mb_policy, const char *sealed_payload,
                               const char *platform_policy, const char *host_policy);
/* -ENOENT when not enrolled. With `policies`, the policy texts are read too. */
int store_attestation_get(struct store *store, const char *agent_id, bool policies, struct attestation *a);
/* Saves the polling state (not the policies) unless the enrolment changed since `a` was read:
 * then -ESTALE, and the caller reloads. */
int store_attestation_save(struct store *store, const struct attestation *a);
/* Back to polling after a failure, the IMA replay from the start. */
int store_attestation_reactivate(struct store *store, const char *agent_id);
int store_attestation_delete(struct store *store, const char *agent_id);
/* SQLite's data_version of this connection (PRAGMA data_version): it changes when another
 * connection, in this process or another (vmattest-verifier add, delete, reactivate), commits a
 * change to the database, and stays the same for this connection's own writes. */
int store_data_version(struct store *store, int64_t *version);
/* Each enrolment (without policy texts), ordered by id. */
int store_attestation_foreach(struct store *store, int (*fn)(const struct attestation *a, void *user), void *user);
void attestation_done(struct attestation *a);
/* 0 when the registration is of the TPM the enrolment pinned (EK hash and AK name); else
 * -EPERM with a detail naming what differs. */
int attestation_check_registration(const struct attestation *a, const struct registered_agent *reg);

/* ---- enrolment groups and tokens (vmattest extension, docs/protocol.md) ---- */

/* The policies an agent registering with one of the group's tokens is enrolled with. */
struct enrolment_group {
        char name[GROUP_NAME_MAX + 1];
        char *tpm_policy; /* JSON as given, checked by the group add command */
        char *runtime_policy;
        char *mb_policy;
        char *platform_policy;
        char *host_policy;
        int64_t created_at;
        bool pin_first_boot_initrd; /* each agent's PCR 9 is pinned by its first boot (§5.6) */
};

/* A token, of which the store keeps the SHA-256 only. */
struct enrolment_token {
        char sha256[65];           /* hex */
        char group[GROUP_NAME_MAX + 1];
        int64_t uses_left;         /* -1: unlimited */
        int64_t expires_at;        /* 0: never */
        int64_t created_at;
};

/* -EEXIST when the group exists. */
int store_group_add(struct store *store, const char *name, const char *tpm_policy, const char *runtime_policy,
                    const char *mb_policy, bool pin_first_boot_initrd, int64_t now, const char *platform_policy,
                    const char *host_policy);
/* -ENOENT when there is no such group. */
int store_group_get(struct store *store, const char *name, struct enrolment_group *g);
int store_group_foreach(struct store *store, int (*fn)(const struct enrolment_group *g, void *user), void *user);
/* The group and its tokens go; the agents it enrolled stay enrolled. -ENOENT when none. */
int store_group_delete(struct store *store, const char *name);
void enrolment_group_done(struct enrolment_group *g);

/* -ENOENT when t->group does not exist, -EEXIST when the token does. */
int store_token_add(struct store *store, const struct enrolment_token *t);
/* Each token of `group` (NULL: of every group). */
int store_token_foreach(struct store *store, const char *group, int (*fn)(const struct enrolment_token *t, void *user),
                        void *user);
/* Deletes the one token of `group` whose hash starts with `sha256_prefix` (lower-case hex):
 * -ENOENT when none does, -EEXIST when several do. */
int store_token_revoke(struct store *store, const char *group, const char *sha256_prefix);
/* 0 when the token may enrol an agent at `now` (*group: its group, when not NULL); -EACCES with
 * the detail "enrolment token unknown", "... expired" or "... used up". Nothing is counted. */
int store_token_check(struct store *store, const char *sha256, int64_t now, char group[GROUP_NAME_MAX + 1]);

/* store_agent_activate() in one transaction with the enrolment its token asks for: when the
 * pending registration came with a token and the agent is not enrolled yet, the token is
 * checked again (-EACCES as store_token_check, and nothing is activated), one use counted, and
 * the agent enrolled in the token's group (*group: its name; "" when none). */
int store_agent_activate_enrol(struct store *store, const char *agent_id, const char *tag_sha256, int64_t now,
                               char group[GROUP_NAME_MAX + 1]);

/* Key escrow: `sealed_payload` (under the vault key) becomes the enrolment's payload, and the
 * boot of the agent's last good quote the one that had its key, so that the escrowing boot
 * gets no release and the next boot does; the revision changes (the poller reloads). -ENOENT
 * when not enrolled, -EAGAIN when no good quote came since `activated_at`, -EEXIST when a
 * payload is enrolled already (the tenant's, or an escrowed one a boot received). An escrowed
 * payload no boot received yet is replaced. *escrow_reset: that boot's TPM reset count. */
int store_attestation_escrow(struct store *store, const char *agent_id, int64_t activated_at, const char *sealed_payload,
                             int64_t now, int64_t *escrow_reset);

/* PCR 9 pinned by the agent's first boot (vmattest extension, docs/protocol.md §5.6): the
 * enrolment's tpm_policy gets "9": [pcr9_hex] (any PCR 9 entry replaced), pinned_by
 * "first-boot", and the boot of its last good quote as the pinning boot; the revision changes.
 * Accepted only while no boot received an escrowed key, from the boot that escrowed it (when one
 * was escrowed; else from the boot of an earlier pin, if any), after a good quote since
 * `activated_at`. -ENOENT when not enrolled, -EACCES when no group with --pin-first-boot-initrd
 * enrolled it, -EAGAIN when
 * not attested yet, -EEXIST when refused by those rules (a tenant's payload, a key a boot
 * received, another boot). *pin_reset: the pinning boot's TPM reset count. */
int store_attestation_pin_pcr9(struct store *store, const char *agent_id, int64_t activated_at, const char *pcr9_hex,
                               int64_t now, int64_t *pin_reset);
