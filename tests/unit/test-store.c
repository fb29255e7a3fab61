/* The verifier's store: a registration waits beside the activated one until it is answered, the
 * database keeps no auth_tag in clear and is the owner's only, an enrolment pins its TPM, and
 * a database of an older version is upgraded (or refused when it is newer). Each test works on
 * a database of its own in a fresh directory under /tmp. */
#include "tests/unit/unit.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/auth_tag.h"
#include "verifier/store.h"

#define AGENT "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
/* the schema version this verifier writes (STORE_SCHEMA_VERSION in verifier/store.c) */
#define SCHEMA_VERSION 7

struct fixture {
        char dir[64];
        char path[128];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/vmattest-store.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/verifier.sqlite", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char path[160];

        for (const char *const *suffix = (const char *const[]){ "", "-wal", "-shm", NULL }; *suffix; suffix++) {
                snprintf(path, sizeof(path), "%s%s", f->path, *suffix);
                unlink(path);
        }
        rmdir(f->dir);
        free(f);
        return 0;
}

static unsigned file_mode(const char *path, const char *suffix) {
        char name[160];
        struct stat st;

        snprintf(name, sizeof(name), "%s%s", path, suffix);
        if (stat(name, &st) < 0)
                fail_msg("%s: %s", name, strerror(errno));
        return (unsigned)(st.st_mode & 07777);
}

/* Whether `needle` occurs in the file path+suffix (a missing file holds nothing). */
static bool file_holds(const char *path, const char *suffix, const char *needle) {
        _cleanup_(freep) uint8_t *data = NULL;
        char name[160];
        size_t size, len = strlen(needle);
        FILE *file;

        snprintf(name, sizeof(name), "%s%s", path, suffix);
        file = fopen(name, "rb");
        if (!file)
                return false;
        fclose(file);
        data = read_vector(name, &size);
        for (size_t i = 0; i + len <= size; i++)
                if (memcmp(data + i, needle, len) == 0)
                        return true;
        return false;
}

static void registration(struct registered_agent *a, const char *ip, int port, const char *tag) {
        static uint8_t ek[] = { 0x00, 0x04, 'e', 'k', '-', '1' }, ak[] = { 0x00, 0x04, 'a', 'k', '-', '1' };

        memset(a, 0, sizeof(*a));
        snprintf(a->agent_id, sizeof(a->agent_id), AGENT);
        a->ek_tpm = ek, a->ek_tpm_size = sizeof(ek);
        a->aik_tpm = ak, a->aik_tpm_size = sizeof(ak);
        snprintf(a->ek_hash, sizeof(a->ek_hash), "%064d", 1);
        snprintf(a->ak_name, sizeof(a->ak_name), "000b%064d", 2);
        snprintf(a->pending_ip, sizeof(a->pending_ip), "%s", ip);
        a->pending_port = port;
        a->pending_mtls_cert = (char *)"-----BEGIN CERTIFICATE-----\n(the agent's)\n-----END CERTIFICATE-----\n";
        a->pending_at = 1000;
        assert_int_equal(auth_tag_digest(tag, a->pending_tag_sha256), 0);
}

/* a tag as the registrar computes it: HMAC-SHA384 under a credential */
static void tag_for(const char *credential, char tag[AUTH_TAG_HEX_SIZE]) {
        assert_int_equal(auth_tag_compute(credential, strlen(credential), AGENT, tag), 0);
}

static void test_new_database_is_private(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        mode_t old = umask(022);

        assert_int_equal(store_open(f->path, true, &store), 0);
        umask(old);
        /* open: SQLite keeps the -wal and -shm files beside it */
        assert_int_equal(file_mode(f->path, ""), 0600);
        assert_int_equal(file_mode(f->path, "-wal"), 0600);
        assert_int_equal(file_mode(f->path, "-shm"), 0600);
        store_free(store);
}

static void test_open_database_is_made_private(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(chmod(f->path, 0644), 0);
        assert_int_equal(store_open(f->path, false, &store), 0);
        assert_int_equal(file_mode(f->path, ""), 0600);
        store_free(store);
}

static void test_registration_waits_beside_the_active_one(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct registered_agent reg, got;
        char tag[AUTH_TAG_HEX_SIZE], other[AUTH_TAG_HEX_SIZE];

        assert_int_equal(store_open(f->path, true, &store), 0);
        tag_for("first credential", tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_false(got.active);
        assert_null(got.mtls_cert); /* nothing to poll before an activation */
        assert_string_equal(got.pending_ip, "192.0.2.1");
        assert_string_equal(got.pending_tag_sha256, reg.pending_tag_sha256);
        registered_agent_done(&got);

        /* only the challenge that is open activates */
        assert_int_equal(store_agent_activate(store, AGENT, "00", 2000), -ESTALE);
        assert_int_equal(store_agent_activate(store, AGENT, reg.pending_tag_sha256, 2000), 0);
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_true(got.active);
        assert_string_equal(got.ip, "192.0.2.1");
        assert_int_equal(got.port, 9002);
        assert_non_null(got.mtls_cert);
        assert_string_equal(got.pending_tag_sha256, "");
        assert_int_equal(got.regcount, 1);
        assert_int_equal(got.last_seen, 2000);
        registered_agent_done(&got);
        assert_int_equal(store_agent_activate(store, AGENT, reg.pending_tag_sha256, 2001), -ESTALE); /* answered once */

        /* a registration by anyone holding the public keys: the activated one stays */
        tag_for("second credential", other);
        registration(&reg, "198.51.100.7", 4444, other);
        reg.pending_mtls_cert = NULL;
        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_true(got.active);
        assert_string_equal(got.ip, "192.0.2.1");
        assert_int_equal(got.port, 9002);
        assert_non_null(got.mtls_cert);
        assert_int_equal(got.regcount, 1);
        assert_string_equal(got.pending_ip, "198.51.100.7");
        assert_int_equal(got.pending_port, 4444);
        assert_null(got.pending_mtls_cert);
        registered_agent_done(&got);

        /* a wrong answer drops that attempt and nothing else */
        assert_int_equal(store_agent_drop_pending(store, AGENT), 0);
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_true(got.active);
        assert_string_equal(got.ip, "192.0.2.1");
        assert_string_equal(got.pending_tag_sha256, "");
        assert_string_equal(got.pending_ip, "");
        registered_agent_done(&got);
        store_free(store);
}

static void test_no_auth_tag_in_clear(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct registered_agent reg;
        char tag[AUTH_TAG_HEX_SIZE];

        assert_int_equal(store_open(f->path, true, &store), 0);
        tag_for("credential", tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        assert_int_equal(store_agent_register(store, &reg), 0);
        /* the search works: the digest is there (in the WAL while the store is open) */
        assert_true(file_holds(f->path, "", reg.pending_tag_sha256) || file_holds(f->path, "-wal", reg.pending_tag_sha256));
        assert_false(file_holds(f->path, "", tag));
        assert_false(file_holds(f->path, "-wal", tag));
        store_free(store);
        assert_false(file_holds(f->path, "", tag)); /* after the checkpoint at close too */
}

static void test_tag_digest(void **state) {
        char tag[AUTH_TAG_HEX_SIZE], digest[AUTH_TAG_DIGEST_HEX_SIZE], upper[AUTH_TAG_HEX_SIZE];

        tag_for("credential", tag);
        assert_int_equal(auth_tag_digest(tag, digest), 0);
        assert_int_equal(strlen(digest), 64);
        assert_true(auth_tag_digest_equal(digest, tag));
        for (size_t i = 0; i < sizeof(upper); i++)
                upper[i] = (char)((tag[i] >= 'a' && tag[i] <= 'f') ? tag[i] - 32 : tag[i]);
        assert_true(auth_tag_digest_equal(digest, upper)); /* hex in either case */
        assert_false(auth_tag_digest_equal(digest, digest)); /* the digest is no tag */
        tag[0] = tag[0] == '0' ? '1' : '0';
        assert_false(auth_tag_digest_equal(digest, tag));
        tag[95] = '\0';
        assert_false(auth_tag_digest_equal(digest, tag));
        assert_false(auth_tag_digest_equal("", upper));
        assert_error(auth_tag_digest("abc", digest), -EINVAL, "96 hex digits");
}

static void test_hash_ek_form(void **state) {
        char id[80];

        snprintf(id, sizeof(id), "%064d", 7);
        assert_true(agent_id_is_hash_ek_form(id));
        id[10] = 'f';
        assert_true(agent_id_is_hash_ek_form(id));
        id[10] = 'F'; /* Keylime's hash_ek is lower case */
        assert_false(agent_id_is_hash_ek_form(id));
        id[10] = 'g';
        assert_false(agent_id_is_hash_ek_form(id));
        snprintf(id, sizeof(id), "%063d", 7);
        assert_false(agent_id_is_hash_ek_form(id));
        snprintf(id, sizeof(id), "%065d", 7);
        assert_false(agent_id_is_hash_ek_form(id));
        assert_false(agent_id_is_hash_ek_form(AGENT));
}

static void test_enrolment_pins_the_tpm(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct registered_agent reg, other;
        struct attestation a;
        char tag[AUTH_TAG_HEX_SIZE];

        assert_int_equal(store_open(f->path, true, &store), 0);
        tag_for("credential", tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, NULL, NULL, NULL), 0);
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.ek_hash, reg.ek_hash);
        assert_string_equal(a.ak_name, reg.ak_name);
        assert_int_equal(attestation_check_registration(&a, &reg), 0);
        other = reg;
        other.ek_hash[63] = '9';
        assert_error(attestation_check_registration(&a, &other), -EPERM, "not with the EK");
        other = reg;
        other.ak_name[10] = 'f';
        assert_error(attestation_check_registration(&a, &other), -EPERM, "not with the AK");
        a.ek_hash[0] = '\0';
        assert_error(attestation_check_registration(&a, &reg), -EPERM, "pins no EK hash");
        store_free(store);
}

/* the poller re-reads the enrolments when another connection (the registrar's, or the tenant's
 * add in another process) changed them; its own writes do not count */
static void test_data_version_follows_other_connections(void **state) {
        struct fixture *f = *state;
        struct store *poller = NULL, *tenant = NULL;
        struct registered_agent reg;
        struct attestation a;
        char tag[AUTH_TAG_HEX_SIZE];
        int64_t before = -1, after = -1;

        assert_int_equal(store_open(f->path, true, &poller), 0);
        assert_int_equal(store_open(f->path, false, &tenant), 0);
        tag_for("credential", tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        assert_int_equal(store_data_version(poller, &before), 0);
        assert_int_equal(store_attestation_add(tenant, &reg, "{}", NULL, NULL, NULL, NULL, NULL), 0);
        assert_int_equal(store_data_version(poller, &after), 0);
        assert_true(after != before);
        assert_int_equal(store_attestation_get(poller, AGENT, false, &a), 0);
        a.polls++;
        before = after;
        assert_int_equal(store_attestation_save(poller, &a), 0);
        assert_int_equal(store_data_version(poller, &after), 0);
        assert_true(after == before);
        attestation_done(&a);
        store_free(tenant);
        store_free(poller);
}

/* the schema of the databases made before user_version was kept, with rows: a registration
 * whose challenge is open (its tag in clear), an enrolment of it, and one of an agent gone */
#define REGISTRAR_AGENTS_V0                                                                                               \
        "CREATE TABLE registrar_agents (agent_id TEXT PRIMARY KEY, ek_tpm BLOB NOT NULL, ekcert BLOB,"                   \
        " aik_tpm BLOB NOT NULL, ek_hash TEXT NOT NULL, ak_name TEXT NOT NULL, mtls_cert TEXT, ip TEXT NOT NULL,"         \
        " port INTEGER NOT NULL, active INTEGER NOT NULL, pending_tag TEXT NOT NULL, registered_at INTEGER NOT NULL,"    \
        " last_seen INTEGER NOT NULL, regcount INTEGER NOT NULL);"
#define ATTESTATIONS_V0                                                                                                   \
        "CREATE TABLE attestations (agent_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, tpm_policy TEXT NOT NULL,"     \
        " runtime_policy TEXT, mb_policy TEXT, state TEXT NOT NULL, failure TEXT NOT NULL, failed_at INTEGER NOT NULL,"  \
        " ima_next_entry INTEGER NOT NULL, ima_pcr10 BLOB, clock INTEGER NOT NULL, reset_count INTEGER NOT NULL,"        \
        " restart_count INTEGER NOT NULL, clock_valid INTEGER NOT NULL, boottime INTEGER NOT NULL,"                     \
        " last_poll INTEGER NOT NULL, last_ok INTEGER NOT NULL, added_at INTEGER NOT NULL, polls INTEGER NOT NULL,"      \
        " last_error TEXT NOT NULL"
#define ATTESTATIONS_V0_LATE_COLUMNS                                                                                      \
        ", poll_ms INTEGER NOT NULL DEFAULT 0, payload TEXT, released_reset INTEGER NOT NULL DEFAULT -1,"                 \
        " released_restart INTEGER NOT NULL DEFAULT -1, released_at INTEGER NOT NULL DEFAULT 0"
#define ROWS_V0                                                                                                           \
        "INSERT INTO registrar_agents VALUES ('" AGENT "', x'0004656b2d31', NULL, x'0004616b2d31',"                     \
        " 'ek-hash-of-the-agent', 'ak-name-of-the-agent', 'PEM', '192.0.2.1', 9002, 1, 'a-tag-in-clear', 1, 2, 3);"     \
        "INSERT INTO attestations (agent_id, revision, tpm_policy, state, failure, failed_at, ima_next_entry, clock,"    \
        " reset_count, restart_count, clock_valid, boottime, last_poll, last_ok, added_at, polls, last_error)"          \
        " VALUES ('" AGENT "', 5, '{}', 'polling', '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '');"                           \
        "INSERT INTO attestations (agent_id, revision, tpm_policy, state, failure, failed_at, ima_next_entry, clock,"    \
        " reset_count, restart_count, clock_valid, boottime, last_poll, last_ok, added_at, polls, last_error)"          \
        " VALUES ('gone', 6, '{}', 'polling', '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '');"

static int pragma_user_version(const char *path) {
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;
        int version;

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(db);
        return version;
}

static void make_database(const char *path, const char *sql) {
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
}

static void check_upgraded(const char *path) {
        struct store *store = NULL;
        struct registered_agent got;
        struct attestation a;

        assert_int_equal(pragma_user_version(path), 0);
        assert_int_equal(store_open(path, false, &store), 0);
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_true(got.active);
        assert_string_equal(got.ip, "192.0.2.1");
        assert_string_equal(got.pending_tag_sha256, ""); /* the open challenge, its tag in clear, is dropped */
        assert_string_equal(got.pending_ip, "");
        registered_agent_done(&got);
        /* the enrolments pin what is registered */
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.ek_hash, "ek-hash-of-the-agent");
        assert_string_equal(a.ak_name, "ak-name-of-the-agent");
        assert_int_equal(a.revision, 5);
        assert_int_equal(a.released_reset, -1);
        assert_int_equal(store_attestation_get(store, "gone", false, &a), 0);
        assert_string_equal(a.ek_hash, "");
        store_free(store);
        assert_int_equal(pragma_user_version(path), SCHEMA_VERSION);
        /* and again: nothing left to do */
        assert_int_equal(store_open(path, false, &store), 0);
        store_free(store);
}

static void test_upgrade_from_version_0(void **state) {
        struct fixture *f = *state;

        make_database(f->path, REGISTRAR_AGENTS_V0 ATTESTATIONS_V0 ATTESTATIONS_V0_LATE_COLUMNS ");" ROWS_V0);
        check_upgraded(f->path);
}

/* a database older still, from before the payload columns (which have defaults) */
static void test_upgrade_from_before_the_payload(void **state) {
        struct fixture *f = *state;

        make_database(f->path, REGISTRAR_AGENTS_V0 ATTESTATIONS_V0 ");" ROWS_V0);
        check_upgraded(f->path);
}

static void test_newer_database_refused(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;

        make_database(f->path, "CREATE TABLE future (x); PRAGMA user_version = 99;");
        assert_error(store_open(f->path, true, &store), -EPROTO, "schema version 99 is newer than");
        assert_detail_contains(-EPROTO, f->path);
        assert_null(store);
}


/* ---- enrolment groups, tokens, escrow (vmattest extension) ---- */

#define TOKEN_HASH "aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44"

static void group_with_token(struct store *store, int64_t uses, int64_t expires_at) {
        struct enrolment_token t = { .sha256 = TOKEN_HASH, .group = "web", .uses_left = uses, .expires_at = expires_at,
                                     .created_at = 1000 };

        assert_int_equal(store_group_add(store, "web", "{\"9\": []}", NULL, "{\"mb\": 1}", false, 1000, NULL, NULL), 0);
        assert_int_equal(store_token_add(store, &t), 0);
}

/* registration `id` (another agent than AGENT for the race) with the token, its challenge open */
static void register_with_token(struct store *store, const char *id, const char *tag_sha256_out_credential,
                                char tag_sha256[AUTH_TAG_DIGEST_HEX_SIZE]) {
        struct registered_agent reg;
        char tag[AUTH_TAG_HEX_SIZE];

        tag_for(tag_sha256_out_credential, tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        snprintf(reg.agent_id, sizeof(reg.agent_id), "%s", id);
        snprintf(reg.pending_token_sha256, sizeof(reg.pending_token_sha256), "%s", TOKEN_HASH);
        assert_int_equal(store_agent_register(store, &reg), 0);
        snprintf(tag_sha256, AUTH_TAG_DIGEST_HEX_SIZE, "%s", reg.pending_tag_sha256);
}

static void test_groups_and_tokens(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct enrolment_group g;
        struct enrolment_token other = { .sha256 = "ab", .group = "nogroup", .uses_left = 1 };
        char group[GROUP_NAME_MAX + 1];

        assert_int_equal(store_open(f->path, true, &store), 0);
        group_with_token(store, 1, 5000);
        assert_error(store_group_add(store, "web", "{}", NULL, NULL, false, 1, NULL, NULL), -EEXIST, "group web exists");
        assert_error(store_token_add(store, &other), -ENOENT, "no group nogroup");
        assert_int_equal(store_group_get(store, "web", &g), 0);
        assert_string_equal(g.tpm_policy, "{\"9\": []}");
        assert_null(g.runtime_policy);
        assert_string_equal(g.mb_policy, "{\"mb\": 1}");
        enrolment_group_done(&g);
        assert_int_equal(store_token_check(store, TOKEN_HASH, 4999, group), 0);
        assert_string_equal(group, "web");
        assert_error(store_token_check(store, TOKEN_HASH, 5000, group), -EACCES, "enrolment token expired");
        assert_error(store_token_check(store, "00", 1, group), -EACCES, "enrolment token unknown");
        assert_error(store_token_revoke(store, "web", "ff"), -ENOENT, "no token whose hash starts with ff");
        assert_error(store_token_revoke(store, "web", "AA"), -EINVAL, "lower-case hex");
        assert_int_equal(store_token_revoke(store, "web", "aa11"), 0);
        assert_error(store_token_check(store, TOKEN_HASH, 1, group), -EACCES, "enrolment token unknown");
        /* a group goes with its tokens */
        other = (struct enrolment_token){ .sha256 = TOKEN_HASH, .group = "web", .uses_left = -1 };
        assert_int_equal(store_token_add(store, &other), 0);
        assert_int_equal(store_group_delete(store, "web"), 0);
        assert_error(store_token_check(store, TOKEN_HASH, 1, group), -EACCES, "enrolment token unknown");
        assert_error(store_group_delete(store, "web"), -ENOENT, "no group web");
        store_free(store);
}

static void test_activation_enrols_with_the_token(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct attestation a;
        char tag_sha256[AUTH_TAG_DIGEST_HEX_SIZE], group[GROUP_NAME_MAX + 1];

        assert_int_equal(store_open(f->path, true, &store), 0);
        group_with_token(store, 1, 0);
        register_with_token(store, AGENT, "credential", tag_sha256);
        assert_int_equal(store_agent_activate_enrol(store, AGENT, tag_sha256, 2000, group), 0);
        assert_string_equal(group, "web");
        assert_int_equal(store_attestation_get(store, AGENT, true, &a), 0);
        assert_string_equal(a.group, "web");
        assert_string_equal(a.tpm_policy, "{\"9\": []}");
        assert_string_equal(a.mb_policy, "{\"mb\": 1}");
        assert_null(a.payload);
        assert_string_equal(a.payload_origin, "");
        assert_string_equal(a.ek_hash, "0000000000000000000000000000000000000000000000000000000000000001");
        attestation_done(&a);
        assert_error(store_token_check(store, TOKEN_HASH, 2001, group), -EACCES, "enrolment token used up");
        /* enrolled already: it keeps its enrolment, a used-up token does not matter */
        register_with_token(store, AGENT, "again", tag_sha256);
        assert_int_equal(store_agent_activate_enrol(store, AGENT, tag_sha256, 3000, group), 0);
        assert_string_equal(group, "");
        store_free(store);
}

struct racer {
        const char *path, *id;
        char tag_sha256[AUTH_TAG_DIGEST_HEX_SIZE];
        pthread_barrier_t *start;
        int ret;
};

static void *race(void *user) {
        struct racer *r = user;
        struct store *store = NULL;
        char group[GROUP_NAME_MAX + 1];

        r->ret = store_open(r->path, false, &store);
        pthread_barrier_wait(r->start);
        if (r->ret >= 0)
                r->ret = store_agent_activate_enrol(store, r->id, r->tag_sha256, 2000, group);
        store_free(store);
        return NULL;
}

/* two registrations with a single-use token, activated at once from two connections: exactly
 * one is enrolled, the other refused (and not activated) */
static void test_single_use_token_race(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct registered_agent got;
        struct attestation a;
        pthread_barrier_t start;
        struct racer racers[2] = { { .path = f->path, .id = "agent-one", .start = &start },
                                   { .path = f->path, .id = "agent-two", .start = &start } };
        pthread_t threads[2];
        int enrolled = 0;

        assert_int_equal(store_open(f->path, true, &store), 0);
        group_with_token(store, 1, 0);
        register_with_token(store, racers[0].id, "one", racers[0].tag_sha256);
        register_with_token(store, racers[1].id, "two", racers[1].tag_sha256);
        pthread_barrier_init(&start, NULL, 2);
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
        for (int i = 0; i < 2; i++)
                pthread_join(threads[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < 2; i++) {
                if (racers[i].ret == 0) {
                        enrolled++;
                        assert_int_equal(store_attestation_get(store, racers[i].id, false, &a), 0);
                } else {
                        assert_int_equal(racers[i].ret, -EACCES);
                        assert_int_equal(store_attestation_get(store, racers[i].id, false, &a), -ENOENT);
                        assert_int_equal(store_agent_get(store, racers[i].id, &got), 0);
                        assert_false(got.active);
                        registered_agent_done(&got);
                }
        }
        assert_int_equal(enrolled, 1);
        store_free(store);
}

static void quoted(struct store *store, const char *id, int64_t last_ok, uint32_t reset_count) {
        struct attestation a;

        assert_int_equal(store_attestation_get(store, id, false, &a), 0);
        a.last_ok = last_ok;
        a.clock = (struct quote_clock){ .clock = 1, .reset_count = reset_count, .restart_count = 0, .valid = true };
        assert_int_equal(store_attestation_save(store, &a), 0);
}

static void test_escrow(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct registered_agent reg;
        struct attestation a, before;
        char tag[AUTH_TAG_HEX_SIZE];
        int64_t reset = 0;

        assert_int_equal(store_open(f->path, true, &store), 0);
        assert_error(store_attestation_escrow(store, AGENT, 2000, "sealed-1", 3000, &reset), -ENOENT, "not enrolled");
        tag_for("credential", tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, NULL, NULL, NULL), 0);
        assert_error(store_attestation_escrow(store, AGENT, 2000, "sealed-1", 3000, &reset), -EAGAIN, "not attested yet");
        quoted(store, AGENT, 1999, 7); /* before the activation */
        assert_error(store_attestation_escrow(store, AGENT, 2000, "sealed-1", 3000, &reset), -EAGAIN, "not attested yet");
        quoted(store, AGENT, 2500, 7);
        assert_int_equal(store_attestation_get(store, AGENT, false, &before), 0);
        assert_int_equal(store_attestation_escrow(store, AGENT, 2000, "sealed-1", 3000, &reset), 0);
        assert_int_equal(reset, 7);
        assert_int_equal(store_attestation_get(store, AGENT, true, &a), 0);
        assert_string_equal(a.payload, "sealed-1");
        assert_string_equal(a.payload_origin, "escrow");
        assert_int_equal(a.escrowed_at, 3000);
        assert_int_equal(a.released_reset, 7); /* the escrowing boot had its key */
        assert_true(a.revision != before.revision); /* the poller reloads */
        assert_int_equal(a.last_ok, 2500);       /* its polling state stays */
        attestation_done(&a);
        /* no boot received it yet: replaced */
        assert_int_equal(store_attestation_escrow(store, AGENT, 2000, "sealed-2", 3100, &reset), 0);
        /* a release to the next boot: write-once from then on */
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        a.released_reset = 8;
        assert_int_equal(store_attestation_save(store, &a), 0);
        assert_error(store_attestation_escrow(store, AGENT, 2000, "sealed-3", 3200, &reset), -EEXIST, "was released");
        /* a tenant's payload is never replaced */
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, "tenant-sealed", NULL, NULL), 0);
        quoted(store, AGENT, 2600, 9);
        assert_error(store_attestation_escrow(store, AGENT, 2000, "sealed-4", 3300, &reset), -EEXIST, "the tenant's");
        store_free(store);
}

/* A new database, and the agent's registration, not stored yet. */
static struct store *new_store(const char *path, struct registered_agent *reg) {
        struct store *store = NULL;
        char tag[AUTH_TAG_HEX_SIZE];

        assert_int_equal(store_open(path, true, &store), 0);
        tag_for("credential", tag);
        registration(reg, "192.0.2.1", 9002, tag);
        return store;
}

/* The database taken back to an older version by `downgrade` (the columns that version lacked
 * dropped, its user_version set), then opened again: upgraded. */
static struct store *reopen_downgraded(const char *path, struct store *store, const char *downgrade) {
        store_free(store);
        make_database(path, downgrade);
        store = NULL;
        assert_int_equal(store_open(path, false, &store), 0);
        return store;
}

/* The upgraded store closed: the database is of this version's schema now. */
static void close_upgraded(const char *path, struct store *store) {
        store_free(store);
        assert_int_equal(pragma_user_version(path), SCHEMA_VERSION);
}

/* a version 1 database: the new columns are added, its payloads are the tenant's */
static void test_upgrade_from_version_1(void **state) {
        struct fixture *f = *state;
        struct registered_agent reg;
        struct attestation a;
        struct store *store = new_store(f->path, &reg);

        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, "sealed", NULL, NULL), 0);
        store = reopen_downgraded(f->path, store,
                                  "ALTER TABLE attestations DROP COLUMN group_name;"
                                  "ALTER TABLE attestations DROP COLUMN payload_origin;"
                                  "ALTER TABLE attestations DROP COLUMN escrowed_at;"
                                  "ALTER TABLE attestations DROP COLUMN escrow_reset;"
                                  "ALTER TABLE registrar_agents DROP COLUMN pending_token_sha256;"
                                  "DROP TABLE enrolment_groups; DROP TABLE enrolment_tokens; PRAGMA user_version = 1;");
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.payload_origin, "tenant");
        assert_int_equal(a.escrow_reset, -1);
        assert_int_equal(store_group_add(store, "web", "{}", NULL, NULL, false, 1, NULL, NULL), 0);
        close_upgraded(f->path, store);
}

/* a version 2 database: its groups and enrolments get the PCR 9 pin's columns, unset */
static void test_upgrade_from_version_2(void **state) {
        struct fixture *f = *state;
        struct enrolment_group g;
        struct registered_agent reg;
        struct attestation a;
        struct store *store = new_store(f->path, &reg);

        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, "sealed", NULL, NULL), 0);
        assert_int_equal(store_group_add(store, "web", "{}", NULL, NULL, false, 1, NULL, NULL), 0);
        store = reopen_downgraded(f->path, store,
                                  "ALTER TABLE attestations DROP COLUMN pcr9_pin_required;"
                                  "ALTER TABLE attestations DROP COLUMN pcr9_pinned_by;"
                                  "ALTER TABLE attestations DROP COLUMN pcr9_pin_reset;"
                                  "ALTER TABLE attestations DROP COLUMN pcr9_pinned_at;"
                                  "ALTER TABLE enrolment_groups DROP COLUMN pin_first_boot_initrd;"
                                  "PRAGMA user_version = 2;");
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_false(a.pcr9_pin_required);
        assert_string_equal(a.pcr9_pinned_by, "");
        assert_int_equal(a.pcr9_pin_reset, -1);
        assert_int_equal(store_group_get(store, "web", &g), 0);
        assert_false(g.pin_first_boot_initrd);
        enrolment_group_done(&g);
        close_upgraded(f->path, store);
}

/* Version 3 had no AK certificate and no identity proof: a registration of then was accepted on
 * its EK certificate or its allow-listed EK hash, and keeps no AK certificate. A registration
 * of now keeps both. */
static void test_upgrade_from_version_3(void **state) {
        struct fixture *f = *state;
        struct registered_agent reg, got;
        static uint8_t ak_cert[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
        struct store *store = new_store(f->path, &reg);

        reg.ak_cert = ak_cert, reg.ak_cert_size = sizeof(ak_cert);
        snprintf(reg.identity_proof, sizeof(reg.identity_proof), "ak-certificate");
        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_string_equal(got.identity_proof, "ak-certificate");
        assert_int_equal(got.ak_cert_size, sizeof(ak_cert));
        assert_memory_equal(got.ak_cert, ak_cert, sizeof(ak_cert));
        registered_agent_done(&got);
        store = reopen_downgraded(f->path, store,
                                  "ALTER TABLE registrar_agents DROP COLUMN ak_cert;"
                                  "ALTER TABLE registrar_agents DROP COLUMN identity_proof;"
                                  "PRAGMA user_version = 3;");
        assert_int_equal(store_agent_get(store, AGENT, &got), 0);
        assert_string_equal(got.identity_proof, "ek-allowlist"); /* it had no EK certificate */
        assert_null(got.ak_cert);
        registered_agent_done(&got);
        close_upgraded(f->path, store);
}

/* Version 5 had no host policy and kept no host: an enrolment of then has none, and one of now
 * keeps both, the host saved with the polling state (docs/protocol.md §5.9). */
static void test_upgrade_from_version_5(void **state) {
        struct fixture *f = *state;
        struct registered_agent reg;
        struct enrolment_group g;
        struct attestation a;
        struct store *store = new_store(f->path, &reg);

        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, NULL, NULL, "{\"required\": true}"), 0);
        assert_int_equal(store_group_add(store, "web", "{}", NULL, NULL, false, 1, NULL, "{\"pcrs\": {}}"), 0);
        assert_int_equal(store_attestation_get(store, AGENT, true, &a), 0);
        assert_string_equal(a.host_policy, "{\"required\": true}");
        assert_string_equal(a.host, "");
        snprintf(a.host, sizeof(a.host), "000bfeed");
        snprintf(a.previous_host, sizeof(a.previous_host), "000bbeef");
        a.host_changed_at = 1234;
        assert_int_equal(store_attestation_save(store, &a), 0);
        attestation_done(&a);
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.host, "000bfeed");
        assert_string_equal(a.previous_host, "000bbeef");
        assert_int_equal(a.host_changed_at, 1234);
        assert_int_equal(store_group_get(store, "web", &g), 0);
        assert_string_equal(g.host_policy, "{\"pcrs\": {}}");
        enrolment_group_done(&g);
        store = reopen_downgraded(f->path, store,
                                  "ALTER TABLE attestations DROP COLUMN host_policy;"
                                  "ALTER TABLE attestations DROP COLUMN host;"
                                  "ALTER TABLE attestations DROP COLUMN previous_host;"
                                  "ALTER TABLE attestations DROP COLUMN host_changed_at;"
                                  "ALTER TABLE enrolment_groups DROP COLUMN host_policy;"
                                  "PRAGMA user_version = 5;");
        assert_int_equal(store_attestation_get(store, AGENT, true, &a), 0);
        assert_null(a.host_policy);
        assert_string_equal(a.host, "");
        assert_int_equal(a.host_changed_at, 0);
        attestation_done(&a);
        assert_int_equal(store_group_get(store, "web", &g), 0);
        assert_null(g.host_policy);
        enrolment_group_done(&g);
        close_upgraded(f->path, store);
}

/* Version 6 kept no host class: an enrolment of then has none, and one of now keeps the class
 * its host matched with the polling state (verifier/host_policy.h, host_classes). */
static void test_upgrade_from_version_6(void **state) {
        struct fixture *f = *state;
        struct registered_agent reg;
        struct attestation a;
        struct store *store = new_store(f->path, &reg);

        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, NULL, NULL, "{\"required\": true}"), 0);
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.host_class, "");
        snprintf(a.host, sizeof(a.host), "000bfeed");
        snprintf(a.host_class, sizeof(a.host_class), "gen2");
        assert_int_equal(store_attestation_save(store, &a), 0);
        attestation_done(&a);
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.host_class, "gen2");
        attestation_done(&a);
        store = reopen_downgraded(f->path, store,
                                  "ALTER TABLE attestations DROP COLUMN host_class; PRAGMA user_version = 6;");
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_string_equal(a.host, "000bfeed");
        assert_string_equal(a.host_class, "");
        attestation_done(&a);
        close_upgraded(f->path, store);
}

#define PCR9_A "aa00000000000000000000000000000000000000000000000000000000000001"
#define PCR9_B "bb00000000000000000000000000000000000000000000000000000000000002"

/* docs/protocol.md §5.6: the first boot's PCR 9 pin, under escrow's rules */
static void test_pcr9_pin(void **state) {
        struct fixture *f = *state;
        struct store *store = NULL;
        struct enrolment_token t = { .sha256 = TOKEN_HASH, .group = "pinned", .uses_left = 1, .created_at = 1000 };
        struct registered_agent reg;
        struct attestation a, before;
        char tag[AUTH_TAG_HEX_SIZE], tag_sha256[AUTH_TAG_DIGEST_HEX_SIZE], group[GROUP_NAME_MAX + 1];
        int64_t reset = 0;

        assert_int_equal(store_open(f->path, true, &store), 0);
        assert_error(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_A, 3000, &reset), -ENOENT, "not enrolled");
        /* enrolled by the tenant (add): its PCR 9 is the tenant's */
        tag_for("credential", tag);
        registration(&reg, "192.0.2.1", 9002, tag);
        assert_int_equal(store_agent_register(store, &reg), 0);
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, NULL, NULL, NULL), 0);
        quoted(store, AGENT, 2500, 7);
        assert_error(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_A, 3000, &reset), -EACCES,
                     "not enrolled by a group with --pin-first-boot-initrd");
        assert_int_equal(store_attestation_delete(store, AGENT), 0);

        /* enrolled by a group that pins PCR 9 by the first boot */
        assert_int_equal(store_group_add(store, "pinned", "{\"9\": [\"" PCR9_B "\"], \"0\": [\"" PCR9_B "\"], \"mask\": \"0x201\"}",
                                         NULL, NULL, true, 1000, NULL, NULL),
                         0);
        assert_int_equal(store_token_add(store, &t), 0);
        register_with_token(store, AGENT, "credential", tag_sha256);
        assert_int_equal(store_agent_activate_enrol(store, AGENT, tag_sha256, 2000, group), 0);
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        assert_true(a.pcr9_pin_required);
        assert_string_equal(a.pcr9_pinned_by, "");
        assert_error(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_A, 3000, &reset), -EAGAIN, "not attested yet");
        quoted(store, AGENT, 1999, 7); /* before the activation */
        assert_error(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_A, 3000, &reset), -EAGAIN, "not attested yet");
        quoted(store, AGENT, 2500, 7);
        assert_int_equal(store_attestation_escrow(store, AGENT, 2000, "sealed-1", 3000, &reset), 0);
        /* another boot than the escrowing one, before any boot received the key: a first boot
         * resumed in a later boot pins */
        quoted(store, AGENT, 2600, 8);
        assert_int_equal(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_B, 3000, &reset), 0);
        assert_int_equal(reset, 8);
        quoted(store, AGENT, 2700, 7);
        assert_int_equal(store_attestation_get(store, AGENT, false, &before), 0);
        assert_int_equal(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_A, 3100, &reset), 0);
        assert_int_equal(reset, 7);
        assert_int_equal(store_attestation_get(store, AGENT, true, &a), 0);
        /* PCR 9 replaced, the rest kept, the derived mask dropped */
        assert_string_equal(a.tpm_policy, "{\"9\":[\"" PCR9_A "\"],\"0\":[\"" PCR9_B "\"]}");
        assert_string_equal(a.pcr9_pinned_by, "first-boot");
        assert_int_equal(a.pcr9_pin_reset, 7);
        assert_int_equal(a.pcr9_pinned_at, 3100);
        assert_true(a.revision != before.revision); /* the poller reloads */
        assert_string_equal(a.payload, "sealed-1");
        attestation_done(&a);
        /* no boot received the key yet: pinned again */
        assert_int_equal(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_B, 3200, &reset), 0);
        /* a release to the next boot: no pin from then on */
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        a.released_reset = 8;
        assert_int_equal(store_attestation_save(store, &a), 0);
        assert_error(store_attestation_pin_pcr9(store, AGENT, 2000, PCR9_A, 3300, &reset), -EEXIST,
                     "released to a boot already");
        store_free(store);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_new_database_is_private, setup, teardown),
                cmocka_unit_test_setup_teardown(test_open_database_is_made_private, setup, teardown),
                cmocka_unit_test_setup_teardown(test_registration_waits_beside_the_active_one, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_auth_tag_in_clear, setup, teardown),
                cmocka_unit_test(test_tag_digest),
                cmocka_unit_test(test_hash_ek_form),
                cmocka_unit_test_setup_teardown(test_enrolment_pins_the_tpm, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_version_0, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_before_the_payload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_newer_database_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_groups_and_tokens, setup, teardown),
                cmocka_unit_test_setup_teardown(test_activation_enrols_with_the_token, setup, teardown),
                cmocka_unit_test_setup_teardown(test_single_use_token_race, setup, teardown),
                cmocka_unit_test_setup_teardown(test_escrow, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_version_1, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_version_2, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_version_3, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_version_5, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upgrade_from_version_6, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pcr9_pin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_data_version_follows_other_connections, setup, teardown),
        };

        return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
