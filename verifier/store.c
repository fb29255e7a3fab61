#include "verifier/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

struct store {
        sqlite3 *db;
        sqlite3_stmt *get, *put, *del, *list;
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS registrar_agents ("
        " agent_id TEXT PRIMARY KEY,"
        " ek_tpm BLOB NOT NULL, ekcert BLOB, aik_tpm BLOB NOT NULL,"
        " ek_hash TEXT NOT NULL, ak_name TEXT NOT NULL, mtls_cert TEXT,"
        " ip TEXT NOT NULL, port INTEGER NOT NULL,"
        " active INTEGER NOT NULL, pending_tag TEXT NOT NULL,"
        " registered_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, regcount INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS attestations ("
        " agent_id TEXT PRIMARY KEY, revision INTEGER NOT NULL,"
        " tpm_policy TEXT NOT NULL, runtime_policy TEXT, mb_policy TEXT,"
        " state TEXT NOT NULL, failure TEXT NOT NULL, failed_at INTEGER NOT NULL,"
        " ima_next_entry INTEGER NOT NULL, ima_pcr10 BLOB,"
        " clock INTEGER NOT NULL, reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL, clock_valid INTEGER NOT NULL,"
        " boottime INTEGER NOT NULL, last_poll INTEGER NOT NULL, last_ok INTEGER NOT NULL, added_at INTEGER NOT NULL,"
        " polls INTEGER NOT NULL, last_error TEXT NOT NULL, poll_ms INTEGER NOT NULL DEFAULT 0,"
        " payload TEXT, released_reset INTEGER NOT NULL DEFAULT -1, released_restart INTEGER NOT NULL DEFAULT -1,"
        " released_at INTEGER NOT NULL DEFAULT 0);";

#define AGENT_COLUMNS                                                                                          \
        "agent_id, ek_tpm, ekcert, aik_tpm, ek_hash, ak_name, mtls_cert, ip, port, active, pending_tag, " \
        "registered_at, last_seen, regcount"

static int store_fail(struct store *store, const char *what) {
        return vm_error(-EIO, "database: %s: %s", what, sqlite3_errmsg(store->db));
}

int store_open(const char *path, bool create, struct store **out) {
        struct store *store = calloc(1, sizeof(*store));
        int ret = 0;

        if (!store)
                return -ENOMEM;
        if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX,
                            NULL) != SQLITE_OK) {
                ret = vm_error(-EIO, "database %s: cannot open: %s", path,
                               store->db ? sqlite3_errmsg(store->db) : "out of memory");
                store_free(store);
                return ret;
        }
        sqlite3_busy_timeout(store->db, 5000);
        /* WAL: readers (vmattest-verifier agents) never block the server; NORMAL sync is
         * durable across a process crash, which is what a restart needs. */
        if (sqlite3_exec(store->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(store->db, schema, NULL, NULL, NULL) != SQLITE_OK)
                ret = store_fail(store, "cannot set up the schema");
        else if (sqlite3_prepare_v2(store->db, "SELECT " AGENT_COLUMNS " FROM registrar_agents WHERE agent_id = ?", -1,
                                    &store->get, NULL) != SQLITE_OK ||
                 sqlite3_prepare_v2(store->db,
                                    "INSERT OR REPLACE INTO registrar_agents (" AGENT_COLUMNS
                                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                    -1, &store->put, NULL) != SQLITE_OK ||
                 sqlite3_prepare_v2(store->db, "DELETE FROM registrar_agents WHERE agent_id = ?", -1, &store->del,
                                    NULL) != SQLITE_OK ||
                 sqlite3_prepare_v2(store->db, "SELECT " AGENT_COLUMNS " FROM registrar_agents ORDER BY agent_id", -1,
                                    &store->list, NULL) != SQLITE_OK)
                ret = store_fail(store, "cannot prepare statements");
        if (ret < 0) {
                store_free(store);
                return vm_error(ret, "%s (%s)", vm_error_detail(ret), path);
        }
        *out = store;
        return 0;
}

void store_free(struct store *store) {
        if (!store)
                return;
        sqlite3_finalize(store->get);
        sqlite3_finalize(store->put);
        sqlite3_finalize(store->del);
        sqlite3_finalize(store->list);
        sqlite3_close(store->db);
        free(store);
}

static uint8_t *column_blob(sqlite3_stmt *stmt, int col, size_t *size) {
        const void *data = sqlite3_column_blob(stmt, col);
        int n = sqlite3_column_bytes(stmt, col);
        uint8_t *copy;

        *size = 0;
        if (!data || n <= 0)
                return NULL;
        copy = malloc((size_t)n);
        if (copy) {
                memcpy(copy, data, (size_t)n);
                *size = (size_t)n;
        }
        return copy;
}

static void column_text(sqlite3_stmt *stmt, int col, char *out, size_t size) {
        const unsigned char *text = sqlite3_column_text(stmt, col);

        snprintf(out, size, "%s", text ? (const char *)text : "");
}

static int agent_from_row(sqlite3_stmt *stmt, struct registered_agent *agent) {
        const unsigned char *mtls;

        memset(agent, 0, sizeof(*agent));
        column_text(stmt, 0, agent->agent_id, sizeof(agent->agent_id));
        agent->ek_tpm = column_blob(stmt, 1, &agent->ek_tpm_size);
        agent->ekcert = column_blob(stmt, 2, &agent->ekcert_size);
        agent->aik_tpm = column_blob(stmt, 3, &agent->aik_tpm_size);
        column_text(stmt, 4, agent->ek_hash, sizeof(agent->ek_hash));
        column_text(stmt, 5, agent->ak_name, sizeof(agent->ak_name));
        mtls = sqlite3_column_text(stmt, 6);
        agent->mtls_cert = mtls ? strdup((const char *)mtls) : NULL;
        column_text(stmt, 7, agent->ip, sizeof(agent->ip));
        agent->port = sqlite3_column_int(stmt, 8);
        agent->active = sqlite3_column_int(stmt, 9) != 0;
        column_text(stmt, 10, agent->pending_tag, sizeof(agent->pending_tag));
        agent->registered_at = sqlite3_column_int64(stmt, 11);
        agent->last_seen = sqlite3_column_int64(stmt, 12);
        agent->regcount = (unsigned)sqlite3_column_int(stmt, 13);
        if (!agent->ek_tpm || !agent->aik_tpm || (mtls && !agent->mtls_cert)) {
                registered_agent_done(agent);
                return -ENOMEM;
        }
        return 0;
}

int store_agent_get(struct store *store, const char *agent_id, struct registered_agent *agent) {
        int rc, ret;

        sqlite3_reset(store->get);
        sqlite3_bind_text(store->get, 1, agent_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(store->get);
        if (rc == SQLITE_DONE)
                ret = -ENOENT;
        else if (rc == SQLITE_ROW)
                ret = agent_from_row(store->get, agent);
        else
                ret = store_fail(store, "cannot read an agent");
        sqlite3_reset(store->get);
        sqlite3_clear_bindings(store->get);
        return ret;
}

int store_agent_put(struct store *store, const struct registered_agent *a) {
        sqlite3_stmt *s = store->put;
        int rc;

        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, a->agent_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, a->ek_tpm, (int)a->ek_tpm_size, SQLITE_STATIC);
        if (a->ekcert)
                sqlite3_bind_blob(s, 3, a->ekcert, (int)a->ekcert_size, SQLITE_STATIC);
        else
                sqlite3_bind_null(s, 3);
        sqlite3_bind_blob(s, 4, a->aik_tpm, (int)a->aik_tpm_size, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, a->ek_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, a->ak_name, -1, SQLITE_STATIC);
        if (a->mtls_cert)
                sqlite3_bind_text(s, 7, a->mtls_cert, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(s, 7);
        sqlite3_bind_text(s, 8, a->ip, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 9, a->port);
        sqlite3_bind_int(s, 10, a->active);
        sqlite3_bind_text(s, 11, a->pending_tag, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 12, a->registered_at);
        sqlite3_bind_int64(s, 13, a->last_seen);
        sqlite3_bind_int(s, 14, (int)a->regcount);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return rc == SQLITE_DONE ? 0 : store_fail(store, "cannot store an agent");
}

int store_agent_delete(struct store *store, const char *agent_id) {
        int rc;

        sqlite3_reset(store->del);
        sqlite3_bind_text(store->del, 1, agent_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(store->del);
        sqlite3_reset(store->del);
        sqlite3_clear_bindings(store->del);
        if (rc != SQLITE_DONE)
                return store_fail(store, "cannot delete an agent");
        return sqlite3_changes(store->db) > 0 ? 0 : -ENOENT;
}

int store_agent_foreach(struct store *store, int (*fn)(const struct registered_agent *agent, void *user), void *user) {
        int rc, ret = 0;

        sqlite3_reset(store->list);
        while ((rc = sqlite3_step(store->list)) == SQLITE_ROW) {
                struct registered_agent agent;

                ret = agent_from_row(store->list, &agent);
                if (ret >= 0)
                        ret = fn(&agent, user);
                registered_agent_done(&agent);
                if (ret != 0)
                        break;
        }
        if (ret == 0 && rc != SQLITE_DONE)
                ret = store_fail(store, "cannot list agents");
        sqlite3_reset(store->list);
        return ret;
}

void registered_agent_done(struct registered_agent *agent) {
        free(agent->ek_tpm);
        free(agent->ekcert);
        free(agent->aik_tpm);
        free(agent->mtls_cert);
        memset(agent, 0, sizeof(*agent));
}

/* ---- attestations ---- */

#define ATTESTATION_STATE_COLUMNS                                                                          \
        "agent_id, revision, state, failure, failed_at, ima_next_entry, ima_pcr10, clock, reset_count, "   \
        "restart_count, clock_valid, boottime, last_poll, last_ok, added_at, polls, last_error, poll_ms, "            \
        "released_reset, released_restart, released_at"

static sqlite3_stmt *prepare(struct store *store, const char *sql) {
        sqlite3_stmt *stmt = NULL;

        if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
                store_fail(store, "cannot prepare a statement");
                return NULL;
        }
        return stmt;
}

static char *column_strdup(sqlite3_stmt *stmt, int col) {
        const unsigned char *text = sqlite3_column_text(stmt, col);

        return text ? strdup((const char *)text) : NULL;
}

static void attestation_from_row(sqlite3_stmt *s, struct attestation *a) {
        const void *pcr10 = sqlite3_column_blob(s, 6);
        int pcr10_size = sqlite3_column_bytes(s, 6);

        column_text(s, 0, a->agent_id, sizeof(a->agent_id));
        a->revision = sqlite3_column_int64(s, 1);
        column_text(s, 2, a->state, sizeof(a->state));
        column_text(s, 3, a->failure, sizeof(a->failure));
        a->failed_at = sqlite3_column_int64(s, 4);
        a->ima_next_entry = (uint64_t)sqlite3_column_int64(s, 5);
        a->ima_pcr10_size = pcr10 && pcr10_size > 0 && (size_t)pcr10_size <= sizeof(a->ima_pcr10) ? (size_t)pcr10_size : 0;
        if (a->ima_pcr10_size)
                memcpy(a->ima_pcr10, pcr10, a->ima_pcr10_size);
        a->clock.clock = (uint64_t)sqlite3_column_int64(s, 7);
        a->clock.reset_count = (uint32_t)sqlite3_column_int64(s, 8);
        a->clock.restart_count = (uint32_t)sqlite3_column_int64(s, 9);
        a->clock.valid = sqlite3_column_int(s, 10) != 0;
        a->boottime = sqlite3_column_int64(s, 11);
        a->last_poll = sqlite3_column_int64(s, 12);
        a->last_ok = sqlite3_column_int64(s, 13);
        a->added_at = sqlite3_column_int64(s, 14);
        a->polls = (unsigned)sqlite3_column_int(s, 15);
        column_text(s, 16, a->last_error, sizeof(a->last_error));
        a->poll_ms = (unsigned)sqlite3_column_int(s, 17);
        a->released_reset = sqlite3_column_int64(s, 18);
        a->released_restart = sqlite3_column_int64(s, 19);
        a->released_at = sqlite3_column_int64(s, 20);
}

static int step_done(struct store *store, sqlite3_stmt *s, const char *what) {
        int rc = sqlite3_step(s);

        sqlite3_finalize(s);
        return rc == SQLITE_DONE ? 0 : store_fail(store, what);
}

int store_attestation_add(struct store *store, const char *agent_id, const char *tpm_policy, const char *runtime_policy,
                          const char *mb_policy, const char *sealed_payload) {
        sqlite3_stmt *s = prepare(store,
                                  "INSERT OR REPLACE INTO attestations (agent_id, revision, tpm_policy, runtime_policy, mb_policy,"
                                  " state, failure, failed_at, ima_next_entry, ima_pcr10, clock, reset_count, restart_count,"
                                  " clock_valid, boottime, last_poll, last_ok, added_at, polls, last_error, poll_ms, payload,"
                                  " released_reset, released_restart, released_at)"
                                  " VALUES (?1, random() & 0x7fffffffffffffff,"
                                  " ?2, ?3, ?4, 'polling', '', 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, strftime('%s','now'), 0, '', 0, ?5,"
                                  /* the boot that had its key keeps it across a re-enrolment (once per boot) */
                                  " coalesce((SELECT released_reset FROM attestations WHERE agent_id = ?1), -1),"
                                  " coalesce((SELECT released_restart FROM attestations WHERE agent_id = ?1), -1),"
                                  " coalesce((SELECT released_at FROM attestations WHERE agent_id = ?1), 0))");

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, tpm_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, runtime_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, mb_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, sealed_payload, -1, SQLITE_STATIC);
        return step_done(store, s, "cannot enroll the agent");
}

int store_attestation_get(struct store *store, const char *agent_id, bool policies, struct attestation *a) {
        sqlite3_stmt *s = prepare(store, "SELECT " ATTESTATION_STATE_COLUMNS ", tpm_policy, runtime_policy, mb_policy, payload"
                                         " FROM attestations WHERE agent_id = ?");
        int rc, ret = 0;

        memset(a, 0, sizeof(*a));
        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                attestation_from_row(s, a);
                if (policies) {
                        a->tpm_policy = column_strdup(s, 21);
                        a->runtime_policy = column_strdup(s, 22);
                        a->mb_policy = column_strdup(s, 23);
                        a->payload = column_strdup(s, 24);
                        if (!a->tpm_policy)
                                ret = -ENOMEM;
                }
        } else
                ret = rc == SQLITE_DONE ? -ENOENT : store_fail(store, "cannot read an enrolment");
        sqlite3_finalize(s);
        return ret;
}

int store_attestation_save(struct store *store, const struct attestation *a) {
        sqlite3_stmt *s = prepare(store, "UPDATE attestations SET state = ?, failure = ?, failed_at = ?, ima_next_entry = ?,"
                                         " ima_pcr10 = ?, clock = ?, reset_count = ?, restart_count = ?, clock_valid = ?,"
                                         " boottime = ?, last_poll = ?, last_ok = ?, polls = ?, last_error = ?, poll_ms = ?,"
                                         " released_reset = ?, released_restart = ?, released_at = ?"
                                         " WHERE agent_id = ? AND revision = ?");
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, a->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, a->failure, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, a->failed_at);
        sqlite3_bind_int64(s, 4, (int64_t)a->ima_next_entry);
        if (a->ima_pcr10_size)
                sqlite3_bind_blob(s, 5, a->ima_pcr10, (int)a->ima_pcr10_size, SQLITE_STATIC);
        else
                sqlite3_bind_null(s, 5);
        sqlite3_bind_int64(s, 6, (int64_t)a->clock.clock);
        sqlite3_bind_int64(s, 7, a->clock.reset_count);
        sqlite3_bind_int64(s, 8, a->clock.restart_count);
        sqlite3_bind_int(s, 9, a->clock.valid);
        sqlite3_bind_int64(s, 10, a->boottime);
        sqlite3_bind_int64(s, 11, a->last_poll);
        sqlite3_bind_int64(s, 12, a->last_ok);
        sqlite3_bind_int(s, 13, (int)a->polls);
        sqlite3_bind_text(s, 14, a->last_error, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 15, (int)a->poll_ms);
        sqlite3_bind_int64(s, 16, a->released_reset);
        sqlite3_bind_int64(s, 17, a->released_restart);
        sqlite3_bind_int64(s, 18, a->released_at);
        sqlite3_bind_text(s, 19, a->agent_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 20, a->revision);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
                return store_fail(store, "cannot save the attestation state");
        return sqlite3_changes(store->db) > 0 ? 0 : -ESTALE;
}

int store_attestation_reactivate(struct store *store, const char *agent_id) {
        sqlite3_stmt *s = prepare(store, "UPDATE attestations SET revision = random() & 0x7fffffffffffffff, state = 'polling', failure = '',"
                                         " failed_at = 0, ima_next_entry = 0, ima_pcr10 = NULL, last_error = ''"
                                         " WHERE agent_id = ?");
        int ret;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        ret = step_done(store, s, "cannot reactivate");
        if (ret >= 0 && sqlite3_changes(store->db) == 0)
                ret = -ENOENT;
        return ret;
}

int store_attestation_delete(struct store *store, const char *agent_id) {
        sqlite3_stmt *s = prepare(store, "DELETE FROM attestations WHERE agent_id = ?");
        int ret;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        ret = step_done(store, s, "cannot delete the enrolment");
        if (ret >= 0 && sqlite3_changes(store->db) == 0)
                ret = -ENOENT;
        return ret;
}

int store_attestation_foreach(struct store *store, int (*fn)(const struct attestation *a, void *user), void *user) {
        sqlite3_stmt *s = prepare(store, "SELECT " ATTESTATION_STATE_COLUMNS " FROM attestations ORDER BY agent_id");
        int rc, ret = 0;

        if (!s)
                return -EIO;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                struct attestation a = { 0 };

                attestation_from_row(s, &a);
                ret = fn(&a, user);
                if (ret != 0)
                        break;
        }
        if (ret == 0 && rc != SQLITE_DONE)
                ret = store_fail(store, "cannot list enrolments");
        sqlite3_finalize(s);
        return ret;
}

void attestation_done(struct attestation *a) {
        free(a->tpm_policy);
        free(a->runtime_policy);
        free(a->mb_policy);
        free(a->payload);
        a->tpm_policy = a->runtime_policy = a->mb_policy = a->payload = NULL;
}
