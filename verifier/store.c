#include "verifier/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "verifier/tpm_policy.h"

struct store {
        sqlite3 *db;
        sqlite3_stmt *get, *reg, *activate, *drop, *del, *list;
};

/* The schema this version writes; a database of an older one is brought up to it at open
 * (store_upgrade). One statement per table; a new column in an existing table also needs a
 * step in upgrade_steps. */
#define STORE_SCHEMA_VERSION 7

static const char schema[] =
        /* registrations (docs/protocol.md §1): the keys, the activated contact, and the
         * registration whose challenge is open (pending_*), which replaces the contact only once
         * answered */
        "CREATE TABLE IF NOT EXISTS registrar_agents ("
        " agent_id TEXT PRIMARY KEY,"
        " ek_tpm BLOB NOT NULL, ekcert BLOB, aik_tpm BLOB NOT NULL,"
        " ek_hash TEXT NOT NULL, ak_name TEXT NOT NULL, mtls_cert TEXT,"
        " ip TEXT NOT NULL, port INTEGER NOT NULL,"
        " active INTEGER NOT NULL, pending_tag_sha256 TEXT NOT NULL,"
        " registered_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, regcount INTEGER NOT NULL,"
        " pending_mtls_cert TEXT, pending_ip TEXT NOT NULL DEFAULT '', pending_port INTEGER NOT NULL DEFAULT 0,"
        " pending_at INTEGER NOT NULL DEFAULT 0, pending_token_sha256 TEXT NOT NULL DEFAULT '',"
        " ak_cert BLOB, identity_proof TEXT NOT NULL DEFAULT '');"
        /* enrolments (vmattest-verifier add): the TPM pinned, the policies, the polling state */
        "CREATE TABLE IF NOT EXISTS attestations ("
        " agent_id TEXT PRIMARY KEY, revision INTEGER NOT NULL,"
        " tpm_policy TEXT NOT NULL, runtime_policy TEXT, mb_policy TEXT,"
        " state TEXT NOT NULL, failure TEXT NOT NULL, failed_at INTEGER NOT NULL,"
        " ima_next_entry INTEGER NOT NULL, ima_pcr10 BLOB,"
        " clock INTEGER NOT NULL, reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL, clock_valid INTEGER NOT NULL,"
        " boottime INTEGER NOT NULL, last_poll INTEGER NOT NULL, last_ok INTEGER NOT NULL, added_at INTEGER NOT NULL,"
        " polls INTEGER NOT NULL, last_error TEXT NOT NULL, poll_ms INTEGER NOT NULL DEFAULT 0,"
        " payload TEXT, released_reset INTEGER NOT NULL DEFAULT -1, released_restart INTEGER NOT NULL DEFAULT -1,"
        " released_at INTEGER NOT NULL DEFAULT 0,"
        " ek_hash TEXT NOT NULL DEFAULT '', ak_name TEXT NOT NULL DEFAULT '',"
        " group_name TEXT NOT NULL DEFAULT '', payload_origin TEXT NOT NULL DEFAULT '',"
        " escrowed_at INTEGER NOT NULL DEFAULT 0, escrow_reset INTEGER NOT NULL DEFAULT -1,"
        " pcr9_pin_required INTEGER NOT NULL DEFAULT 0, pcr9_pinned_by TEXT NOT NULL DEFAULT '',"
        " pcr9_pin_reset INTEGER NOT NULL DEFAULT -1, pcr9_pinned_at INTEGER NOT NULL DEFAULT 0,"
        " platform_policy TEXT, push_mode INTEGER NOT NULL DEFAULT 0, host_policy TEXT, host TEXT NOT NULL DEFAULT '',"
        " previous_host TEXT NOT NULL DEFAULT '', host_changed_at INTEGER NOT NULL DEFAULT 0,"
        " host_class TEXT NOT NULL DEFAULT '');"
        /* enrolment groups (vmattest-verifier group add): the policies an agent that registers
         * with one of the group's tokens is enrolled with */
        "CREATE TABLE IF NOT EXISTS enrolment_groups ("
        " name TEXT PRIMARY KEY, tpm_policy TEXT NOT NULL, runtime_policy TEXT, mb_policy TEXT,"
         " created_at INTEGER NOT NULL, pin_first_boot_initrd INTEGER NOT NULL DEFAULT 0, platform_policy TEXT,"
        " host_policy TEXT);"
        /* their tokens, kept as SHA-256 only: uses_left -1 is unlimited, expires_at 0 never */
        "CREATE TABLE IF NOT EXISTS enrolment_tokens ("
        " sha256 TEXT PRIMARY KEY, group_name TEXT NOT NULL, uses_left INTEGER NOT NULL,"
        " expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);";

/* Version 1 (version 0 is every database made before user_version was kept): a registration
 * waits beside the active one, the expected auth_tag is kept only as its SHA-256, and an
 * enrolment pins its agent's EK hash and AK name. */
static const struct column_added {
        const char *table, *column, *definition;
} columns_v1[] = {
        { "registrar_agents", "pending_mtls_cert", "TEXT" },
        { "registrar_agents", "pending_ip", "TEXT NOT NULL DEFAULT ''" },
        { "registrar_agents", "pending_port", "INTEGER NOT NULL DEFAULT 0" },
        { "registrar_agents", "pending_at", "INTEGER NOT NULL DEFAULT 0" },
        { "attestations", "ek_hash", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "ak_name", "TEXT NOT NULL DEFAULT ''" },
        /* added before versions were kept, with defaults: a database older still lacks them */
        { "attestations", "poll_ms", "INTEGER NOT NULL DEFAULT 0" },
        { "attestations", "payload", "TEXT" },
        { "attestations", "released_reset", "INTEGER NOT NULL DEFAULT -1" },
        { "attestations", "released_restart", "INTEGER NOT NULL DEFAULT -1" },
        { "attestations", "released_at", "INTEGER NOT NULL DEFAULT 0" },
};

/* Version 2: a pending registration remembers its enrolment token's hash, an enrolment its
 * group, where its payload came from and when it was escrowed (the tables of groups and tokens
 * are new: the schema creates them). */
static const struct column_added columns_v2[] = {
        { "registrar_agents", "pending_token_sha256", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "group_name", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "payload_origin", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "escrowed_at", "INTEGER NOT NULL DEFAULT 0" },
        { "attestations", "escrow_reset", "INTEGER NOT NULL DEFAULT -1" },
};

/* Version 3: a group may have its agents' PCR 9 pinned by their first boot, and an enrolment
 * records whether its group asked for that and the pin made (docs/protocol.md §5.6). */
static const struct column_added columns_v3[] = {
        { "enrolment_groups", "pin_first_boot_initrd", "INTEGER NOT NULL DEFAULT 0" },
        { "attestations", "pcr9_pin_required", "INTEGER NOT NULL DEFAULT 0" },
        { "attestations", "pcr9_pinned_by", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "pcr9_pin_reset", "INTEGER NOT NULL DEFAULT -1" },
        { "attestations", "pcr9_pinned_at", "INTEGER NOT NULL DEFAULT 0" },
};

/* Version 4: a registration keeps the AK certificate it came with, and the proof of its TPM the
 * registrar accepted (verifier/identity_proof.h; those made before had an EK certificate or an
 * allow-listed EK hash); an enrolment and a group may carry a platform policy (docs/platforms.md:
 * the hardware report the agent must serve beside its quote). */
static const struct column_added columns_v4[] = {
        { "registrar_agents", "ak_cert", "BLOB" },
        { "registrar_agents", "identity_proof", "TEXT NOT NULL DEFAULT ''" },
        { "enrolment_groups", "platform_policy", "TEXT" },
        { "attestations", "platform_policy", "TEXT" },
};

/* Version 5: an enrolment may be in push mode (Keylime's API v3, docs/protocol.md §4.2): the
 * agent submits its evidence, the poller leaves it alone. */
static const struct column_added columns_v5[] = {
        { "attestations", "push_mode", "INTEGER NOT NULL DEFAULT 0" },
};

/* Version 6: an enrolment and a group may carry a host policy (docs/protocol.md §5.9: the host
 * binding the agent serves), and an enrolment records the host its last good binding named, the
 * one before it, and when it changed. */
static const struct column_added columns_v6[] = {
        { "enrolment_groups", "host_policy", "TEXT" },
        { "attestations", "host_policy", "TEXT" },
        { "attestations", "host", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "previous_host", "TEXT NOT NULL DEFAULT ''" },
        { "attestations", "host_changed_at", "INTEGER NOT NULL DEFAULT 0" },
};

/* Version 7: an enrolment records the host policy's class its host matched (host_classes). */
static const struct column_added columns_v7[] = {
        { "attestations", "host_class", "TEXT NOT NULL DEFAULT ''" },
};

static const char upgrade_v4[] =
        "UPDATE registrar_agents SET identity_proof ="
        " CASE WHEN ekcert IS NOT NULL THEN 'ek-certificate' ELSE 'ek-allowlist' END;";

static const char upgrade_v1[] =
        /* open challenges are dropped with the tags kept in clear: their agents register again */
        "ALTER TABLE registrar_agents RENAME COLUMN pending_tag TO pending_tag_sha256;"
        "UPDATE registrar_agents SET pending_tag_sha256 = '';"
        /* the enrolments made so far pin the TPM registered now, the one the poller has used */
        "UPDATE attestations SET"
        " ek_hash = coalesce((SELECT r.ek_hash FROM registrar_agents r WHERE r.agent_id = attestations.agent_id), ''),"
        " ak_name = coalesce((SELECT r.ak_name FROM registrar_agents r WHERE r.agent_id = attestations.agent_id), '');";

#define AGENT_COLUMNS                                                                                           \
        "agent_id, ek_tpm, ekcert, aik_tpm, ek_hash, ak_name, mtls_cert, ip, port, active, pending_tag_sha256, " \
        "registered_at, last_seen, regcount, pending_mtls_cert, pending_ip, pending_port, pending_at, "          \
        "pending_token_sha256, ak_cert, identity_proof"

static int store_fail(struct store *store, const char *what) {
        return vm_error(-EIO, "database: %s: %s", what, sqlite3_errmsg(store->db));
}

/* 1 when `table` has `column`, 0 when not, or a negative errno. */
static int column_exists(struct store *store, const char *table, const char *column) {
        sqlite3_stmt *s = NULL;
        int rc;

        if (sqlite3_prepare_v2(store->db, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", -1, &s, NULL) !=
            SQLITE_OK)
                return store_fail(store, "cannot read the schema");
        sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        rc = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) > 0 : store_fail(store, "cannot read the schema");
        sqlite3_finalize(s);
        return rc;
}

static int user_version(struct store *store) {
        sqlite3_stmt *s = NULL;
        int version;

        if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
                return store_fail(store, "cannot read the schema version");
        version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : store_fail(store, "cannot read the schema version");
        sqlite3_finalize(s);
        return version;
}

static int add_columns(struct store *store, const struct column_added *columns, size_t count) {
        char sql[256];
        int ret;

        for (size_t i = 0; i < count; i++) {
                const struct column_added *c = &columns[i];

                ret = column_exists(store, c->table, c->column);
                if (ret < 0)
                        return ret;
                snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", c->table, c->column, c->definition);
                if (ret == 0 && sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                        return store_fail(store, sql);
        }
        return 0;
}

/* What brings a database of the version before to this step's: the columns it adds, then the
 * statement that fills them (NULL: none), run only when the table sql_if_table has the column
 * sql_if_column (NULL: always). */
struct upgrade_step {
        const struct column_added *columns;
        size_t column_count;
        const char *sql, *sql_what;
        const char *sql_if_table, *sql_if_column;
};

#define UPGRADE_COLUMNS(c) .columns = (c), .column_count = ELEMENTSOF(c)

/* upgrade_steps[N - 1] brings version N - 1 to N */
static const struct upgrade_step upgrade_steps[] = {
        { UPGRADE_COLUMNS(columns_v1), .sql = upgrade_v1,
          .sql_what = "cannot hash the open challenges and pin the enrolments' keys",
          .sql_if_table = "registrar_agents", .sql_if_column = "pending_tag" },
        /* every payload so far is a tenant's (add --payload) */
        { UPGRADE_COLUMNS(columns_v2), .sql = "UPDATE attestations SET payload_origin = 'tenant' WHERE payload IS NOT NULL",
          .sql_what = "cannot record where the enrolled payloads came from" },
        { UPGRADE_COLUMNS(columns_v3) },
        { UPGRADE_COLUMNS(columns_v4), .sql = upgrade_v4,
          .sql_what = "cannot record the proof the registrations were accepted on" },
        { UPGRADE_COLUMNS(columns_v5) },
        { UPGRADE_COLUMNS(columns_v6) },
        { UPGRADE_COLUMNS(columns_v7) },
};
_Static_assert(ELEMENTSOF(upgrade_steps) == STORE_SCHEMA_VERSION, "a step for each schema version");

/* The steps from `version` to STORE_SCHEMA_VERSION, in order. */
static int upgrade_from(struct store *store, int version) {
        for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
                const struct upgrade_step *step = &upgrade_steps[v];
                bool run_sql = step->sql != NULL;
                int ret = add_columns(store, step->columns, step->column_count);

                if (ret >= 0 && run_sql && step->sql_if_table) {
                        ret = column_exists(store, step->sql_if_table, step->sql_if_column);
                        run_sql = ret > 0;
                }
                if (ret >= 0 && run_sql && sqlite3_exec(store->db, step->sql, NULL, NULL, NULL) != SQLITE_OK)
                        ret = store_fail(store, step->sql_what);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

/* Upgrades a database of an older version, or sets a new one up, in one transaction. */
static int store_upgrade(struct store *store) {
        int version, ret = 0;
        bool fresh = false;

        if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
                return store_fail(store, "cannot lock the database to upgrade its schema");
        version = user_version(store); /* again: another process may have upgraded it meanwhile */
        if (version > STORE_SCHEMA_VERSION)
                ret = vm_error(-EPROTO, "database: schema version %d is newer than this vmattest-verifier's (%d): "
                                        "use the vmattest-verifier that wrote it, or a newer one",
                               version, STORE_SCHEMA_VERSION);
        else if (version < 0)
                ret = version;
        if (ret >= 0) {
                ret = column_exists(store, "registrar_agents", "agent_id");
                fresh = ret == 0;
        }
        if (ret >= 0 && sqlite3_exec(store->db, schema, NULL, NULL, NULL) != SQLITE_OK)
                ret = store_fail(store, "cannot set up the schema");
        /* the schema's CREATE TABLE IF NOT EXISTS leaves an existing table's columns as they are */
        if (ret >= 0 && !fresh && (ret = upgrade_from(store, version)) < 0)
                ret = vm_error(ret, "%s: cannot upgrade the schema from version %d to %d: restore a backup, or move the "
                                    "database aside so that serve starts a new one (agents register again at their next "
                                    "start, enrolments must be added again)",
                               vm_error_detail(ret), version, STORE_SCHEMA_VERSION);
        if (ret >= 0 && version != STORE_SCHEMA_VERSION) {
                char sql[64];

                snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
                if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                        ret = store_fail(store, "cannot record the schema version");
        }
        if (ret >= 0 && sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                ret = store_fail(store, "cannot commit the schema");
        if (ret < 0)
                sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
}

/* Brings the database to this version's schema: the tables it lacks are created, and one of
 * an older version is upgraded (a write, so only then). */
static int store_setup_schema(struct store *store) {
        int version = user_version(store);

        if (version < 0)
                return version;
        if (version != STORE_SCHEMA_VERSION)
                return store_upgrade(store);
        if (sqlite3_exec(store->db, schema, NULL, NULL, NULL) != SQLITE_OK)
                return store_fail(store, "cannot set up the schema");
        return 0;
}

/* The database holds the registrations, the policies and the sealed payloads: it is the
 * owner's only. A new one is created 0600 (SQLite gives its -wal and -shm files the database's
 * mode); one an older version left open to group or others is made private. By path, never by
 * opening and closing the file: a close() drops every POSIX lock this process holds on it, the
 * other store handle's among them (SQLite's locking relies on them). */
static void make_private(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 077))
                return; /* missing: SQLite's open says so, or creates it */
        if (chmod(path, st.st_mode & 0700) == 0)
                log_warning("%s was open to group or others (mode %04o): made private (%04o)", path,
                            (unsigned)(st.st_mode & 07777), (unsigned)(st.st_mode & 0700));
        else
                log_warning("%s is open to group or others (mode %04o) and cannot be made private: %m", path,
                            (unsigned)(st.st_mode & 07777));
}

static void make_files_private(const char *path, bool create) {
        char side[4096];
        int fd;

        /* O_EXCL: only a file that did not exist, which no handle of ours can have locked */
        if (create && (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600)) >= 0)
                close(fd);
        make_private(path);
        if (snprintf(side, sizeof(side), "%s-wal", path) < (int)sizeof(side))
                make_private(side);
        if (snprintf(side, sizeof(side), "%s-shm", path) < (int)sizeof(side))
                make_private(side);
}

int store_open(const char *path, bool create, struct store **out) {
        struct store *store = calloc(1, sizeof(*store));
        int ret = 0;

        if (!store)
                return -ENOMEM;
        make_files_private(path, create);
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
        if (sqlite3_exec(store->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK)
                ret = store_fail(store, "cannot set up the schema");
        if (ret >= 0)
                ret = store_setup_schema(store);
        if (ret >= 0 &&
            (sqlite3_prepare_v2(store->db, "SELECT " AGENT_COLUMNS " FROM registrar_agents WHERE agent_id = ?", -1,
                                &store->get, NULL) != SQLITE_OK ||
             /* a known agent keeps its keys and its activated registration: only the
              * pending one is written */
             sqlite3_prepare_v2(store->db,
                                "INSERT INTO registrar_agents (" AGENT_COLUMNS ")"
                                " VALUES (?, ?, ?, ?, ?, ?, NULL, '', 0, 0, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
                                " ON CONFLICT (agent_id) DO UPDATE SET pending_tag_sha256 = excluded.pending_tag_sha256,"
                                " pending_token_sha256 = excluded.pending_token_sha256,"
                                " pending_mtls_cert = excluded.pending_mtls_cert, pending_ip = excluded.pending_ip,"
                                " pending_port = excluded.pending_port, pending_at = excluded.pending_at,"
                                /* the same keys (registrar.c checks), under the proof that holds now */
                                " identity_proof = excluded.identity_proof",
                                -1, &store->reg, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(store->db,
                                "UPDATE registrar_agents SET active = 1, mtls_cert = pending_mtls_cert, ip = pending_ip,"
                                " port = pending_port, last_seen = ?, regcount = regcount + 1, pending_tag_sha256 = '',"
                                " pending_mtls_cert = NULL, pending_ip = '', pending_port = 0, pending_at = 0,"
                                " pending_token_sha256 = ''"
                                " WHERE agent_id = ? AND pending_tag_sha256 = ? AND pending_tag_sha256 != ''",
                                -1, &store->activate, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(store->db,
                                "UPDATE registrar_agents SET pending_tag_sha256 = '', pending_mtls_cert = NULL,"
                                " pending_ip = '', pending_port = 0, pending_at = 0, pending_token_sha256 = ''"
                                " WHERE agent_id = ?",
                                -1, &store->drop, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(store->db, "DELETE FROM registrar_agents WHERE agent_id = ?", -1, &store->del,
                                NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(store->db, "SELECT " AGENT_COLUMNS " FROM registrar_agents ORDER BY agent_id", -1,
                                &store->list, NULL) != SQLITE_OK))
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
        sqlite3_finalize(store->reg);
        sqlite3_finalize(store->activate);
        sqlite3_finalize(store->drop);
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

static char *column_strdup(sqlite3_stmt *stmt, int col) {
        const unsigned char *text = sqlite3_column_text(stmt, col);

        return text ? strdup((const char *)text) : NULL;
}

static int agent_from_row(sqlite3_stmt *stmt, struct registered_agent *agent) {
        memset(agent, 0, sizeof(*agent));
        column_text(stmt, 0, agent->agent_id, sizeof(agent->agent_id));
        agent->ek_tpm = column_blob(stmt, 1, &agent->ek_tpm_size);
        agent->ekcert = column_blob(stmt, 2, &agent->ekcert_size);
        agent->aik_tpm = column_blob(stmt, 3, &agent->aik_tpm_size);
        column_text(stmt, 4, agent->ek_hash, sizeof(agent->ek_hash));
        column_text(stmt, 5, agent->ak_name, sizeof(agent->ak_name));
        agent->mtls_cert = column_strdup(stmt, 6);
        column_text(stmt, 7, agent->ip, sizeof(agent->ip));
        agent->port = sqlite3_column_int(stmt, 8);
        agent->active = sqlite3_column_int(stmt, 9) != 0;
        column_text(stmt, 10, agent->pending_tag_sha256, sizeof(agent->pending_tag_sha256));
        agent->registered_at = sqlite3_column_int64(stmt, 11);
        agent->last_seen = sqlite3_column_int64(stmt, 12);
        agent->regcount = (unsigned)sqlite3_column_int(stmt, 13);
        agent->pending_mtls_cert = column_strdup(stmt, 14);
        column_text(stmt, 15, agent->pending_ip, sizeof(agent->pending_ip));
        agent->pending_port = sqlite3_column_int(stmt, 16);
        agent->pending_at = sqlite3_column_int64(stmt, 17);
        column_text(stmt, 18, agent->pending_token_sha256, sizeof(agent->pending_token_sha256));
        agent->ak_cert = column_blob(stmt, 19, &agent->ak_cert_size);
        column_text(stmt, 20, agent->identity_proof, sizeof(agent->identity_proof));
        if (!agent->ek_tpm || !agent->aik_tpm || (sqlite3_column_type(stmt, 6) != SQLITE_NULL && !agent->mtls_cert) ||
            (sqlite3_column_type(stmt, 14) != SQLITE_NULL && !agent->pending_mtls_cert)) {
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

int store_agent_register(struct store *store, const struct registered_agent *a) {
        sqlite3_stmt *s = store->reg;
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
        sqlite3_bind_text(s, 7, a->pending_tag_sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, a->pending_at); /* registered_at and last_seen of a new agent */
        sqlite3_bind_int64(s, 9, a->pending_at);
        if (a->pending_mtls_cert)
                sqlite3_bind_text(s, 10, a->pending_mtls_cert, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(s, 10);
        sqlite3_bind_text(s, 11, a->pending_ip, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 12, a->pending_port);
        sqlite3_bind_int64(s, 13, a->pending_at);
        sqlite3_bind_text(s, 14, a->pending_token_sha256, -1, SQLITE_STATIC);
        if (a->ak_cert)
                sqlite3_bind_blob(s, 15, a->ak_cert, (int)a->ak_cert_size, SQLITE_STATIC);
        else
                sqlite3_bind_null(s, 15);
        sqlite3_bind_text(s, 16, a->identity_proof, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return rc == SQLITE_DONE ? 0 : store_fail(store, "cannot store a registration");
}

int store_agent_activate(struct store *store, const char *agent_id, const char *tag_sha256, int64_t now) {
        sqlite3_stmt *s = store->activate;
        int rc;

        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_text(s, 2, agent_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, tag_sha256, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        if (rc != SQLITE_DONE)
                return store_fail(store, "cannot activate a registration");
        return sqlite3_changes(store->db) > 0 ? 0 : -ESTALE;
}

/* Runs the prepared statement `s` with `agent_id` bound to its only parameter; the rows it
 * changed, or an error. */
static int run_for_agent(struct store *store, sqlite3_stmt *s, const char *agent_id, const char *what) {
        int rc;

        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return rc == SQLITE_DONE ? sqlite3_changes(store->db) : store_fail(store, what);
}

int store_agent_drop_pending(struct store *store, const char *agent_id) {
        int ret = run_for_agent(store, store->drop, agent_id, "cannot drop a pending registration");

        return ret < 0 ? ret : 0;
}

int store_agent_delete(struct store *store, const char *agent_id) {
        int ret = run_for_agent(store, store->del, agent_id, "cannot delete an agent");

        return ret < 0 ? ret : ret > 0 ? 0 : -ENOENT;
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
        free(agent->ak_cert);
        free(agent->aik_tpm);
        free(agent->mtls_cert);
        free(agent->pending_mtls_cert);
        memset(agent, 0, sizeof(*agent));
}

/* ---- attestations ---- */

#define ATTESTATION_STATE_COLUMNS                                                                          \
        "agent_id, revision, state, failure, failed_at, ima_next_entry, ima_pcr10, clock, reset_count, "   \
        "restart_count, clock_valid, boottime, last_poll, last_ok, added_at, polls, last_error, poll_ms, "            \
        "released_reset, released_restart, released_at, ek_hash, ak_name, group_name, payload_origin, "     \
        "escrowed_at, escrow_reset, pcr9_pin_required, pcr9_pinned_by, pcr9_pin_reset, pcr9_pinned_at, push_mode, "\
        "host, previous_host, host_changed_at, host_class"

static sqlite3_stmt *prepare(struct store *store, const char *sql) {
        sqlite3_stmt *stmt = NULL;

        if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
                store_fail(store, "cannot prepare a statement");
                return NULL;
        }
        return stmt;
}

int store_agent_count(struct store *store, unsigned long *count) {
        sqlite3_stmt *s = prepare(store, "SELECT count(*) FROM registrar_agents");
        int rc;

        if (!s)
                return -EIO;
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
                *count = (unsigned long)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return rc == SQLITE_ROW ? 0 : store_fail(store, "cannot count the agents");
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
        column_text(s, 21, a->ek_hash, sizeof(a->ek_hash));
        column_text(s, 22, a->ak_name, sizeof(a->ak_name));
        column_text(s, 23, a->group, sizeof(a->group));
        column_text(s, 24, a->payload_origin, sizeof(a->payload_origin));
        a->escrowed_at = sqlite3_column_int64(s, 25);
        a->escrow_reset = sqlite3_column_int64(s, 26);
        a->pcr9_pin_required = sqlite3_column_int(s, 27) != 0;
        column_text(s, 28, a->pcr9_pinned_by, sizeof(a->pcr9_pinned_by));
        a->pcr9_pin_reset = sqlite3_column_int64(s, 29);
        a->pcr9_pinned_at = sqlite3_column_int64(s, 30);
        a->push = sqlite3_column_int(s, 31) != 0;
        column_text(s, 32, a->host, sizeof(a->host));
        column_text(s, 33, a->previous_host, sizeof(a->previous_host));
        a->host_changed_at = sqlite3_column_int64(s, 34);
        column_text(s, 35, a->host_class, sizeof(a->host_class));
}

/* The column after ATTESTATION_STATE_COLUMNS */
#define ATTESTATION_STATE_END 36

static int step_done(struct store *store, sqlite3_stmt *s, const char *what) {
        int rc = sqlite3_step(s);

        sqlite3_finalize(s);
        return rc == SQLITE_DONE ? 0 : store_fail(store, what);
}

/* Runs `sql` with `text` bound to ?1 (and ?2 when not NULL); the rows changed, or an error. */
static int change_rows(struct store *store, const char *sql, const char *text, const char *text2, const char *what) {
        sqlite3_stmt *s = prepare(store, sql);
        int ret;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
        if (text2)
                sqlite3_bind_text(s, 2, text2, -1, SQLITE_STATIC);
        ret = step_done(store, s, what);
        return ret < 0 ? ret : sqlite3_changes(store->db);
}

/* Runs `sql` with `agent_id` bound to ?1 on its enrolment: 0, -ENOENT when it has none, or an
 * error. */
static int change_enrolment(struct store *store, const char *sql, const char *agent_id, const char *what) {
        int ret = change_rows(store, sql, agent_id, NULL, what);

        return ret < 0 ? ret : ret > 0 ? 0 : -ENOENT;
}

static int attestation_insert(struct store *store, const struct registered_agent *reg, const char *tpm_policy,
                              const char *runtime_policy, const char *mb_policy, const char *sealed_payload,
                              const char *group, bool pcr9_pin_required, const char *platform_policy,
                              const char *host_policy) {
        sqlite3_stmt *s = prepare(store,
                                  "INSERT OR REPLACE INTO attestations (agent_id, revision, tpm_policy, runtime_policy, mb_policy,"
                                  " state, failure, failed_at, ima_next_entry, ima_pcr10, clock, reset_count, restart_count,"
                                  " clock_valid, boottime, last_poll, last_ok, added_at, polls, last_error, poll_ms, payload,"
                                  " ek_hash, ak_name, group_name, payload_origin, escrowed_at, escrow_reset, pcr9_pin_required,"
                                  " released_reset, released_restart, released_at, platform_policy, host_policy)"
                                  " VALUES (?1, random() & 0x7fffffffffffffff,"
                                  " ?2, ?3, ?4, 'polling', '', 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, strftime('%s','now'), 0, '', 0, ?5,"
                                  " ?6, ?7, ?8, CASE WHEN ?5 IS NULL THEN '' ELSE 'tenant' END, 0, -1, ?9,"
                                  /* the boot that had its key keeps it across a re-enrolment (once per boot) */
                                  " coalesce((SELECT released_reset FROM attestations WHERE agent_id = ?1), -1),"
                                  " coalesce((SELECT released_restart FROM attestations WHERE agent_id = ?1), -1),"
                                  " coalesce((SELECT released_at FROM attestations WHERE agent_id = ?1), 0), ?10, ?11)");

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, reg->agent_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, tpm_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, runtime_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, mb_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, sealed_payload, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, reg->ek_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, reg->ak_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, group, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 9, pcr9_pin_required);
        sqlite3_bind_text(s, 10, platform_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 11, host_policy, -1, SQLITE_STATIC);
        return step_done(store, s, "cannot enroll the agent");
}

int store_attestation_add(struct store *store, const struct registered_agent *reg, const char *tpm_policy,
                          const char *runtime_policy, const char *mb_policy, const char *sealed_payload,
                          const char *platform_policy, const char *host_policy) {
        return attestation_insert(store, reg, tpm_policy, runtime_policy, mb_policy, sealed_payload, "", false,
                                  platform_policy, host_policy);
}

static int begin(struct store *store);
static int end(struct store *store, int ret);

int store_attestation_add_push(struct store *store, const struct registered_agent *reg, const char *tpm_policy,
                               const char *runtime_policy, const char *mb_policy, const char *sealed_payload,
                               const char *platform_policy, const char *host_policy) {
        int ret = begin(store);

        /* one transaction: the poller never sees the enrolment in pull mode */
        if (ret >= 0)
                ret = attestation_insert(store, reg, tpm_policy, runtime_policy, mb_policy, sealed_payload, "", false,
                                         platform_policy, host_policy);
        if (ret >= 0)
                ret = store_attestation_set_push(store, reg->agent_id, true);
        return end(store, ret);
}

int store_attestation_set_push(struct store *store, const char *agent_id, bool push) {
        sqlite3_stmt *s = prepare(store, "UPDATE attestations SET push_mode = ?, revision = random() & 0x7fffffffffffffff"
                                         " WHERE agent_id = ?");
        int ret;

        if (!s)
                return -EIO;
        sqlite3_bind_int(s, 1, push);
        sqlite3_bind_text(s, 2, agent_id, -1, SQLITE_STATIC);
        ret = step_done(store, s, "cannot set the enrolment's mode");
        if (ret >= 0 && sqlite3_changes(store->db) == 0)
                ret = -ENOENT;
        return ret;
}

int store_attestation_get(struct store *store, const char *agent_id, bool policies, struct attestation *a) {
        sqlite3_stmt *s = prepare(store, "SELECT " ATTESTATION_STATE_COLUMNS ", tpm_policy, runtime_policy, mb_policy, payload,"
                                         " platform_policy, host_policy FROM attestations WHERE agent_id = ?");
        int rc, ret = 0;

        memset(a, 0, sizeof(*a));
        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                attestation_from_row(s, a);
                if (policies) {
                        a->tpm_policy = column_strdup(s, ATTESTATION_STATE_END);
                        a->runtime_policy = column_strdup(s, ATTESTATION_STATE_END + 1);
                        a->mb_policy = column_strdup(s, ATTESTATION_STATE_END + 2);
                        a->payload = column_strdup(s, ATTESTATION_STATE_END + 3);
                        a->platform_policy = column_strdup(s, ATTESTATION_STATE_END + 4);
                        a->host_policy = column_strdup(s, ATTESTATION_STATE_END + 5);
                        if (!a->tpm_policy ||
                            (sqlite3_column_type(s, ATTESTATION_STATE_END + 4) != SQLITE_NULL && !a->platform_policy) ||
                            (sqlite3_column_type(s, ATTESTATION_STATE_END + 5) != SQLITE_NULL && !a->host_policy))
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
                                         " released_reset = ?, released_restart = ?, released_at = ?, host = ?,"
                                         " previous_host = ?, host_changed_at = ?, host_class = ?"
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
        sqlite3_bind_text(s, 19, a->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 20, a->previous_host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 21, a->host_changed_at);
        sqlite3_bind_text(s, 22, a->host_class, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 23, a->agent_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 24, a->revision);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
                return store_fail(store, "cannot save the attestation state");
        return sqlite3_changes(store->db) > 0 ? 0 : -ESTALE;
}

int store_attestation_reactivate(struct store *store, const char *agent_id) {
        return change_enrolment(store,
                                "UPDATE attestations SET revision = random() & 0x7fffffffffffffff, state = 'polling', failure = '',"
                                " failed_at = 0, ima_next_entry = 0, ima_pcr10 = NULL, last_error = ''"
                                " WHERE agent_id = ?",
                                agent_id, "cannot reactivate");
}

int store_attestation_delete(struct store *store, const char *agent_id) {
        return change_enrolment(store, "DELETE FROM attestations WHERE agent_id = ?", agent_id, "cannot delete the enrolment");
}

int store_data_version(struct store *store, int64_t *version) {
        sqlite3_stmt *s = prepare(store, "PRAGMA data_version");
        int ret = 0;

        if (!s)
                return -EIO;
        if (sqlite3_step(s) == SQLITE_ROW)
                *version = sqlite3_column_int64(s, 0);
        else
                ret = store_fail(store, "cannot read the database's data_version");
        sqlite3_finalize(s);
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
        free(a->platform_policy);
        free(a->host_policy);
        free(a->payload);
        a->tpm_policy = a->runtime_policy = a->mb_policy = a->payload = a->platform_policy = a->host_policy = NULL;
}

int attestation_check_registration(const struct attestation *a, const struct registered_agent *reg) {
        if (!a->ek_hash[0] || !a->ak_name[0])
                return vm_error(-EPERM, "the enrolment of agent %s pins no EK hash and AK name (it was not registered when "
                                        "the database was upgraded): add it again",
                                a->agent_id);
        if (strcmp(reg->ek_hash, a->ek_hash) != 0)
                return vm_error(-EPERM, "agent %s is registered with EK hash %s, not with the EK %s it was enrolled with "
                                        "(add it again if its TPM was replaced)",
                                a->agent_id, reg->ek_hash, a->ek_hash);
        if (strcmp(reg->ak_name, a->ak_name) != 0)
                return vm_error(-EPERM, "agent %s is registered with AK name %s, not with the AK %s it was enrolled with "
                                        "(add it again if its AK was replaced)",
                                a->agent_id, reg->ak_name, a->ak_name);
        return 0;
}

/* ---- enrolment groups and their tokens (vmattest extension, docs/protocol.md) ---- */

static int begin(struct store *store) {
        return sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
                       ? 0
                       : store_fail(store, "cannot lock the database");
}

/* Commits when `ret` is not negative, else rolls back; returns `ret`, or the commit's error. */
static int end(struct store *store, int ret) {
        if (ret >= 0 && sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                ret = store_fail(store, "cannot commit");
        if (ret < 0)
                sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
}

int store_group_add(struct store *store, const char *name, const char *tpm_policy, const char *runtime_policy,
                    const char *mb_policy, bool pin_first_boot_initrd, int64_t now, const char *platform_policy,
                    const char *host_policy) {
        sqlite3_stmt *s = prepare(store, "INSERT INTO enrolment_groups (name, tpm_policy, runtime_policy, mb_policy, created_at,"
                                         " pin_first_boot_initrd, platform_policy, host_policy)"
                                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, tpm_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, runtime_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, mb_policy, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, now);
        sqlite3_bind_int(s, 6, pin_first_boot_initrd);
        sqlite3_bind_text(s, 7, platform_policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, host_policy, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc == SQLITE_CONSTRAINT)
                return vm_error(-EEXIST, "group %s exists already", name);
        return rc == SQLITE_DONE ? 0 : store_fail(store, "cannot add the group");
}

static int group_from_row(sqlite3_stmt *s, struct enrolment_group *g) {
        memset(g, 0, sizeof(*g));
        column_text(s, 0, g->name, sizeof(g->name));
        g->tpm_policy = column_strdup(s, 1);
        g->runtime_policy = column_strdup(s, 2);
        g->mb_policy = column_strdup(s, 3);
        g->created_at = sqlite3_column_int64(s, 4);
        g->pin_first_boot_initrd = sqlite3_column_int(s, 5) != 0;
        g->platform_policy = column_strdup(s, 6);
        g->host_policy = column_strdup(s, 7);
        if (!g->tpm_policy || (sqlite3_column_type(s, 2) != SQLITE_NULL && !g->runtime_policy) ||
            (sqlite3_column_type(s, 3) != SQLITE_NULL && !g->mb_policy) ||
            (sqlite3_column_type(s, 6) != SQLITE_NULL && !g->platform_policy) ||
            (sqlite3_column_type(s, 7) != SQLITE_NULL && !g->host_policy)) {
                enrolment_group_done(g);
                return -ENOMEM;
        }
        return 0;
}

#define GROUP_COLUMNS                                                                                   \
        "name, tpm_policy, runtime_policy, mb_policy, created_at, pin_first_boot_initrd, platform_policy, " \
        "host_policy"

int store_group_get(struct store *store, const char *name, struct enrolment_group *g) {
        sqlite3_stmt *s = prepare(store, "SELECT " GROUP_COLUMNS " FROM enrolment_groups WHERE name = ?");
        int rc, ret;

        memset(g, 0, sizeof(*g));
        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
                ret = group_from_row(s, g);
        else
                ret = rc == SQLITE_DONE ? vm_error(-ENOENT, "no group %s", name) : store_fail(store, "cannot read a group");
        sqlite3_finalize(s);
        return ret;
}

int store_group_foreach(struct store *store, int (*fn)(const struct enrolment_group *g, void *user), void *user) {
        sqlite3_stmt *s = prepare(store, "SELECT " GROUP_COLUMNS " FROM enrolment_groups ORDER BY name");
        int rc, ret = 0;

        if (!s)
                return -EIO;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                struct enrolment_group g;

                ret = group_from_row(s, &g);
                if (ret >= 0)
                        ret = fn(&g, user);
                enrolment_group_done(&g);
                if (ret != 0)
                        break;
        }
        if (ret == 0 && rc != SQLITE_DONE)
                ret = store_fail(store, "cannot list the groups");
        sqlite3_finalize(s);
        return ret;
}

int store_group_delete(struct store *store, const char *name) {
        int ret = begin(store);

        if (ret < 0)
                return ret;
        ret = change_rows(store, "DELETE FROM enrolment_tokens WHERE group_name = ?", name, NULL, "cannot delete the group's tokens");
        if (ret >= 0)
                ret = change_rows(store, "DELETE FROM enrolment_groups WHERE name = ?", name, NULL, "cannot delete the group");
        if (ret == 0)
                ret = vm_error(-ENOENT, "no group %s", name);
        return end(store, ret < 0 ? ret : 0);
}

void enrolment_group_done(struct enrolment_group *g) {
        free(g->tpm_policy);
        free(g->runtime_policy);
        free(g->mb_policy);
        free(g->platform_policy);
        free(g->host_policy);
        g->tpm_policy = g->runtime_policy = g->mb_policy = g->platform_policy = g->host_policy = NULL;
}

int store_token_add(struct store *store, const struct enrolment_token *t) {
        sqlite3_stmt *s = prepare(store, "INSERT INTO enrolment_tokens (sha256, group_name, uses_left, expires_at, created_at)"
                                         " SELECT ?1, name, ?2, ?3, ?4 FROM enrolment_groups WHERE name = ?5");
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, t->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, t->uses_left);
        sqlite3_bind_int64(s, 3, t->expires_at);
        sqlite3_bind_int64(s, 4, t->created_at);
        sqlite3_bind_text(s, 5, t->group, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc == SQLITE_CONSTRAINT)
                return vm_error(-EEXIST, "that token is registered already (hash %.12s...)", t->sha256);
        if (rc != SQLITE_DONE)
                return store_fail(store, "cannot add the token");
        return sqlite3_changes(store->db) > 0 ? 0 : vm_error(-ENOENT, "no group %s", t->group);
}

#define TOKEN_COLUMNS "sha256, group_name, uses_left, expires_at, created_at"

static void token_from_row(sqlite3_stmt *s, struct enrolment_token *t) {
        memset(t, 0, sizeof(*t));
        column_text(s, 0, t->sha256, sizeof(t->sha256));
        column_text(s, 1, t->group, sizeof(t->group));
        t->uses_left = sqlite3_column_int64(s, 2);
        t->expires_at = sqlite3_column_int64(s, 3);
        t->created_at = sqlite3_column_int64(s, 4);
}

int store_token_foreach(struct store *store, const char *group, int (*fn)(const struct enrolment_token *t, void *user),
                        void *user) {
        sqlite3_stmt *s = prepare(store, "SELECT " TOKEN_COLUMNS " FROM enrolment_tokens WHERE ?1 IS NULL OR group_name = ?1"
                                         " ORDER BY group_name, created_at, sha256");
        int rc, ret = 0;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, group, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                struct enrolment_token t;

                token_from_row(s, &t);
                ret = fn(&t, user);
                if (ret != 0)
                        break;
        }
        if (ret == 0 && rc != SQLITE_DONE)
                ret = store_fail(store, "cannot list the tokens");
        sqlite3_finalize(s);
        return ret;
}

int store_token_revoke(struct store *store, const char *group, const char *sha256_prefix) {
        sqlite3_stmt *s;
        int ret, rc, matches = 0;

        if (!sha256_prefix[0] || strspn(sha256_prefix, "0123456789abcdef") != strlen(sha256_prefix) ||
            strlen(sha256_prefix) > 64)
                return vm_error(-EINVAL, "\"%.70s\" is not (the start of) a token's SHA-256 in lower-case hex", sha256_prefix);
        ret = begin(store);
        if (ret < 0)
                return ret;
        s = prepare(store, "SELECT count(*) FROM enrolment_tokens WHERE group_name = ?1 AND substr(sha256, 1, length(?2)) = ?2");
        if (!s)
                return end(store, -EIO);
        sqlite3_bind_text(s, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, sha256_prefix, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
                matches = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        if (rc != SQLITE_ROW)
                ret = store_fail(store, "cannot read the tokens");
        else if (matches == 0)
                ret = vm_error(-ENOENT, "group %s has no token whose hash starts with %s", group, sha256_prefix);
        else if (matches > 1)
                ret = vm_error(-EEXIST, "%d tokens of group %s have hashes starting with %s: give more of the hash", matches,
                               group, sha256_prefix);
        else
                ret = change_rows(store, "DELETE FROM enrolment_tokens WHERE group_name = ?1 AND substr(sha256, 1, length(?2)) = ?2",
                                  group, sha256_prefix, "cannot revoke the token");
        return end(store, ret < 0 ? ret : 0);
}

int store_token_check(struct store *store, const char *sha256, int64_t now, char group[GROUP_NAME_MAX + 1]) {
        sqlite3_stmt *s = prepare(store, "SELECT " TOKEN_COLUMNS " FROM enrolment_tokens WHERE sha256 = ?");
        struct enrolment_token t;
        int rc, ret;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, sha256, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
                token_from_row(s, &t);
        sqlite3_finalize(s);
        if (rc == SQLITE_DONE)
                return vm_error(-EACCES, "enrolment token unknown");
        if (rc != SQLITE_ROW)
                return store_fail(store, "cannot read the token");
        if (t.expires_at != 0 && now >= t.expires_at)
                ret = vm_error(-EACCES, "enrolment token expired");
        else if (t.uses_left == 0)
                ret = vm_error(-EACCES, "enrolment token used up");
        else
                ret = 0;
        if (ret >= 0 && group)
                snprintf(group, GROUP_NAME_MAX + 1, "%s", t.group);
        return ret;
}

/* 1 when `agent_id` is enrolled, 0 when not. */
static int attestation_exists(struct store *store, const char *agent_id) {
        sqlite3_stmt *s = prepare(store, "SELECT 1 FROM attestations WHERE agent_id = ?");
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, agent_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail(store, "cannot read an enrolment");
}

/* docs/protocol.md, enrolment tokens: the token is checked again, its use counted and the agent
 * enrolled in its group in the activation's transaction, so that of two registrations racing
 * on a token's last use exactly one is enrolled. */
static int enrol_with_token(struct store *store, const struct registered_agent *reg, int64_t now,
                            char group[GROUP_NAME_MAX + 1]) {
        struct enrolment_group g = { 0 };
        int ret = store_token_check(store, reg->pending_token_sha256, now, group);

        if (ret >= 0)
                ret = change_rows(store, "UPDATE enrolment_tokens SET uses_left = uses_left - 1 WHERE sha256 = ? AND uses_left > 0",
                                  reg->pending_token_sha256, NULL, "cannot count the token's use");
        if (ret >= 0)
                ret = store_group_get(store, group, &g);
        if (ret >= 0)
                ret = attestation_insert(store, reg, g.tpm_policy, g.runtime_policy, g.mb_policy, NULL, group,
                                         g.pin_first_boot_initrd, g.platform_policy, g.host_policy);
        enrolment_group_done(&g);
        return ret;
}

int store_agent_activate_enrol(struct store *store, const char *agent_id, const char *tag_sha256, int64_t now,
                               char group[GROUP_NAME_MAX + 1]) {
        struct registered_agent reg = { 0 };
        int ret;

        group[0] = '\0';
        ret = begin(store);
        if (ret < 0)
                return ret;
        ret = store_agent_get(store, agent_id, &reg);
        if (ret >= 0 && (!reg.pending_tag_sha256[0] || strcmp(reg.pending_tag_sha256, tag_sha256) != 0))
                ret = -ESTALE;
        /* an agent already enrolled keeps its enrolment; the token is not consumed */
        if (ret >= 0 && reg.pending_token_sha256[0] && (ret = attestation_exists(store, agent_id)) == 0)
                ret = enrol_with_token(store, &reg, now, group);
        if (ret >= 0)
                ret = store_agent_activate(store, agent_id, tag_sha256, now);
        registered_agent_done(&reg);
        return end(store, ret);
}

/* The enrolment of `agent_id` with its policies and payload (store_attestation_get), as the
 * caller's transaction sees it; -ENOENT, named, when it is not enrolled. */
static int enrolment_read(struct store *store, const char *agent_id, struct attestation *a) {
        int ret = store_attestation_get(store, agent_id, true, a);

        return ret == -ENOENT ? vm_error(-ENOENT, "agent %s is not enrolled", agent_id) : ret;
}

/* ---- key escrow (vmattest extension, docs/protocol.md) ---- */

/* Why a payload may not be escrowed now, or 0. */
static int escrow_allowed(const struct attestation *a, bool has_payload, int64_t activated_at) {
        /* escrow is write-once once used: a tenant's payload, or an escrowed one a boot received */
        if (has_payload && strcmp(a->payload_origin, "escrow") != 0)
                return vm_error(-EEXIST, "a payload is already enrolled (the tenant's)");
        if (has_payload && a->released_reset != a->escrow_reset)
                return vm_error(-EEXIST, "a payload is already enrolled (the escrowed one was released to a boot)");
        if (!a->clock.valid || a->last_ok == 0 || a->last_ok < activated_at)
                return vm_error(-EAGAIN, "not attested yet: no good integrity quote since the agent's activation");
        return 0;
}

int store_attestation_escrow(struct store *store, const char *agent_id, int64_t activated_at, const char *sealed_payload,
                             int64_t now, int64_t *escrow_reset) {
        sqlite3_stmt *s;
        struct attestation a = { 0 };
        int ret = begin(store);

        if (ret < 0)
                return ret;
        ret = enrolment_read(store, agent_id, &a);
        if (ret >= 0)
                ret = escrow_allowed(&a, a.payload != NULL, activated_at);
        if (ret >= 0) {
                s = prepare(store, "UPDATE attestations SET payload = ?, payload_origin = 'escrow', escrowed_at = ?,"
                                   " escrow_reset = ?, released_reset = ?, released_restart = ?,"
                                   " revision = random() & 0x7fffffffffffffff WHERE agent_id = ?");
                if (!s)
                        ret = -EIO;
        }
        if (ret >= 0) {
                sqlite3_bind_text(s, 1, sealed_payload, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, now);
                sqlite3_bind_int64(s, 3, a.clock.reset_count);
                sqlite3_bind_int64(s, 4, a.clock.reset_count);
                sqlite3_bind_int64(s, 5, a.clock.restart_count);
                sqlite3_bind_text(s, 6, agent_id, -1, SQLITE_STATIC);
                ret = step_done(store, s, "cannot store the escrowed payload");
        }
        if (ret >= 0 && escrow_reset)
                *escrow_reset = a.clock.reset_count;
        attestation_done(&a);
        return end(store, ret);
}

/* ---- PCR 9 pinned by the first boot (vmattest extension, docs/protocol.md §5.6) ---- */

/* Why the pin may not be taken now, or 0. */
static int pin_allowed(const struct attestation *a, bool has_payload, int64_t activated_at) {
        /* a pin binds every later initrd rebuild (a kernel update) to the tenant: only where asked for */
        if (!a->group[0] || !a->pcr9_pin_required)
                return vm_error(-EACCES, "agent %s was not enrolled by a group with --pin-first-boot-initrd: its PCR 9 "
                                         "is the tenant's policy's",
                                a->agent_id);
        /* write-once once used, as escrow: a tenant's payload, or an escrowed one a boot received */
        if (has_payload && strcmp(a->payload_origin, "escrow") != 0)
                return vm_error(-EEXIST, "a payload is enrolled (the tenant's): PCR 9 is pinned by the tenant's policy");
        if (has_payload && a->released_reset != a->escrow_reset)
                return vm_error(-EEXIST, "the escrowed key was released to a boot already: PCR 9 can no longer be pinned");
        if (!a->clock.valid || a->last_ok == 0 || a->last_ok < activated_at)
                return vm_error(-EAGAIN, "not attested yet: no good integrity quote since the agent's activation");
        /* Any boot before the first release: a first boot cut before its initrd was in place
         * resumes in a later boot, which runs the image's provisioning initrd again (it opens the
         * root with the provisioning key, no key from here) and was attested as that one was. */
        if (!has_payload && a->pcr9_pin_reset >= 0 && (int64_t)a->clock.reset_count != a->pcr9_pin_reset)
                return vm_error(-EEXIST, "PCR 9 was pinned by an earlier boot (TPM reset count %lld), not by this one "
                                         "(%lld)",
                                (long long)a->pcr9_pin_reset, (long long)a->clock.reset_count);
        return 0;
}

int store_attestation_pin_pcr9(struct store *store, const char *agent_id, int64_t activated_at, const char *pcr9_hex,
                               int64_t now, int64_t *pin_reset) {
        sqlite3_stmt *s;
        struct attestation a = { 0 };
        char *pinned_policy = NULL;
        int ret = begin(store);

        if (ret < 0)
                return ret;
        ret = enrolment_read(store, agent_id, &a);
        if (ret >= 0)
                ret = pin_allowed(&a, a.payload != NULL, activated_at);
        if (ret >= 0)
                ret = tpm_policy_text_with_pcr(a.tpm_policy, 9, pcr9_hex, &pinned_policy);
        if (ret >= 0) {
                s = prepare(store, "UPDATE attestations SET tpm_policy = ?, pcr9_pinned_by = 'first-boot', pcr9_pin_reset = ?,"
                                   " pcr9_pinned_at = ?, revision = random() & 0x7fffffffffffffff WHERE agent_id = ?");
                if (!s)
                        ret = -EIO;
        }
        if (ret >= 0) {
                sqlite3_bind_text(s, 1, pinned_policy, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, a.clock.reset_count);
                sqlite3_bind_int64(s, 3, now);
                sqlite3_bind_text(s, 4, agent_id, -1, SQLITE_STATIC);
                ret = step_done(store, s, "cannot store the PCR 9 pin");
        }
        if (ret >= 0 && pin_reset)
                *pin_reset = a.clock.reset_count;
        free(pinned_policy);
        attestation_done(&a);
        return end(store, ret);
}
