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
        " registered_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, regcount INTEGER NOT NULL);";

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
