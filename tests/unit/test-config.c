/* agent/config.c: the [agent] keys of agent.conf, their defaults, the agent's own value types
 * and the quoting rust-keylime uses. The loader itself (sections, line numbers, the generic
 * parsers) is lib/conf.c's, tested in test-conf.c. Each test writes its file under /tmp. */
#include "tests/unit/unit.h"

#include <unistd.h>

#include "agent/ak.h"
#include "agent/config.h"

struct fixture {
        char path[64];
        struct agent_config config;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        test_file_create(f->path, sizeof(f->path), "/tmp/vmattest-test-config-XXXXXX");
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        unlink(f->path);
        free(f);
        return 0;
}

/* Writes `text` as the config file and loads it over the defaults. */
static int load(struct fixture *f, const char *text) {
        test_file_write(f->path, text);
        agent_config_defaults(&f->config);
        vm_error_clear();
        return agent_config_load(f->path, true, &f->config);
}

/* Loading `text` fails with -EINVAL and a detail "<path>:<line>: ..." that contains `word`. */
static void assert_load_fails(struct fixture *f, const char *text, unsigned line, const char *word) {
        assert_conf_fails(load(f, text), f->path, text, line, word);
}

#define assert_config_defaults(c)                                             \
        do {                                                                  \
                assert_string_equal((c)->uuid, "hash_ek");                    \
                assert_string_equal((c)->ip, "127.0.0.1");                    \
                assert_int_equal((c)->port, 9002);                            \
                assert_string_equal((c)->contact_ip, "127.0.0.1");            \
                assert_int_equal((c)->contact_port, 9002);                    \
                assert_string_equal((c)->registrar_ip, "127.0.0.1");          \
                assert_int_equal((c)->registrar_port, 0);                     \
                assert_int_equal((c)->tpm_hash_alg, TPM2_ALG_SHA256);         \
                assert_string_equal((c)->tpm_encryption_alg, "rsa");          \
                assert_int_equal((c)->tpm_signing_alg, TPM2_ALG_RSASSA);      \
                assert_int_equal((c)->ek_handle, 0);                          \
                assert_int_equal((c)->ak_handle, AK_DEFAULT_HANDLE);          \
                assert_string_equal((c)->tcti, "");                           \
                assert_true((c)->registrar_tls);                              \
                assert_string_equal((c)->registrar_tls_ca_cert, "/etc/vmattest/registrar-ca.pem"); \
                assert_int_equal((c)->max_retries, 10);                       \
                assert_int_equal((c)->retry_interval, 1);                     \
                assert_true((c)->exponential_backoff);                        \
                assert_string_equal((c)->state_dir, "/var/lib/vmattest");     \
                assert_string_equal((c)->server_key, "server-private.pem");   \
                assert_string_equal((c)->server_cert, "server-cert.crt");     \
                assert_string_equal((c)->revocation_cert, "");                \
                assert_string_equal((c)->revocation_actions_dir, "/usr/libexec/vmattest"); \
                assert_string_equal((c)->revocation_actions, "");             \
                assert_int_equal((c)->revocation_action_timeout, 60);         \
        } while (0)

static void test_defaults(void **state) {
        struct agent_config config;

        memset(&config, 0x55, sizeof(config));
        agent_config_defaults(&config);
        /* unset until loading: then the same as ip and port, as in Keylime's agent */
        assert_string_equal(config.contact_ip, "");
        assert_int_equal(config.contact_port, 0);
        assert_int_equal(agent_config_load("/nonexistent/agent.conf", false, &config), 0);
        assert_config_defaults(&config);
}

static void test_empty_files_keep_defaults(void **state) {
        static const char *const texts[] = { "", "\n\n", "; comment\n# comment\n", "[agent]\n", "[agent]\n; nothing\n" };
        struct fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                assert_int_equal(load(f, texts[i]), 0);
                assert_config_defaults(&f->config);
        }
}

static void test_missing_file(void **state) {
        struct agent_config config;

        agent_config_defaults(&config);
        config.port = 1234;
        vm_error_clear();
        assert_int_equal(agent_config_load("/nonexistent/vmattest/agent.conf", false, &config), 0);
        assert_int_equal(config.port, 1234); /* untouched */
        assert_error(agent_config_load("/nonexistent/vmattest/agent.conf", true, &config), -ENOENT,
                     "/nonexistent/vmattest/agent.conf: cannot open");
}

static void test_every_key(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\n"
                                 "uuid = d432fbb3-d2f1-4a97-9ef7-75bd81c00000\n"
                                 "ip = 0.0.0.0\n"
                                 "port = 9102\n"
                                 "contact_ip = 192.0.2.7\n"
                                 "contact_port = 443\n"
                                 "registrar_ip = registrar.example.org\n"
                                 "registrar_port = 65535\n"
                                 "tpm_hash_alg = sha384\n"
                                 "tpm_encryption_alg = ecc256\n"
                                 "tpm_signing_alg = ecdsa\n"
                                 "ek_handle = 0x81010001\n"
                                 "ak_handle = 0x81000100\n"
                                 "tcti = swtpm:host=127.0.0.1,port=2321\n"
                                 "registrar_tls = true\n"
                                 "registrar_tls_ca_cert = /etc/vmattest/ca.crt\n"
                                 "max_retries = 0\n"
                                 "retry_interval = 86400\n"
                                 "exponential_backoff = no\n"
                                 "state_dir = /run/vmattest\n"
                                 "server_key = /etc/vmattest/key.pem\n"
                                 "server_cert = cert.crt\n"),
                         0);
        assert_string_equal(f->config.uuid, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
        assert_string_equal(f->config.ip, "0.0.0.0");
        assert_int_equal(f->config.port, 9102);
        assert_string_equal(f->config.contact_ip, "192.0.2.7");
        assert_int_equal(f->config.contact_port, 443);
        assert_string_equal(f->config.registrar_ip, "registrar.example.org"); /* a host name is fine here */
        assert_int_equal(f->config.registrar_port, 65535);
        assert_int_equal(f->config.tpm_hash_alg, TPM2_ALG_SHA384);
        assert_string_equal(f->config.tpm_encryption_alg, "ecc256");
        assert_int_equal(f->config.tpm_signing_alg, TPM2_ALG_ECDSA);
        assert_int_equal(f->config.ek_handle, 0x81010001);
        assert_int_equal(f->config.ak_handle, 0x81000100);
        assert_string_equal(f->config.tcti, "swtpm:host=127.0.0.1,port=2321");
        assert_true(f->config.registrar_tls);
        assert_string_equal(f->config.registrar_tls_ca_cert, "/etc/vmattest/ca.crt");
        assert_int_equal(f->config.max_retries, 0);
        assert_int_equal(f->config.retry_interval, 86400);
        assert_false(f->config.exponential_backoff);
        assert_string_equal(f->config.state_dir, "/run/vmattest");
        assert_string_equal(f->config.server_key, "/etc/vmattest/key.pem");
        assert_string_equal(f->config.server_cert, "cert.crt");
}

static void test_hash_alg_names(void **state) {
        static const struct {
                const char *text;
                TPM2_ALG_ID alg;
        } names[] = {
                { "[agent]\ntpm_hash_alg = sha256\n", TPM2_ALG_SHA256 },
                { "[agent]\ntpm_hash_alg = sha384\n", TPM2_ALG_SHA384 },
                { "[agent]\ntpm_hash_alg = sha512\n", TPM2_ALG_SHA512 },
                { "[agent]\ntpm_hash_alg = \"sha512\"\n", TPM2_ALG_SHA512 },
        };
        struct fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                assert_int_equal(load(f, names[i].text), 0);
                assert_int_equal(f->config.tpm_hash_alg, names[i].alg);
        }
}

static void test_encryption_algs(void **state) {
        static const char *const algs[] = { "rsa", "ecc", "rsa2048", "ecc256", "ecc384" };
        struct fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                char text[64];

                snprintf(text, sizeof(text), "[agent]\ntpm_encryption_alg = %s\n", algs[i]);
                assert_int_equal(load(f, text), 0);
                assert_string_equal(f->config.tpm_encryption_alg, algs[i]);
        }
}

static void test_ek_handle(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\nek_handle = 0x81010001\n"), 0);
        assert_int_equal(f->config.ek_handle, 0x81010001);
        /* a later line wins: "generate" goes back to 0, a new EK at each start */
        assert_int_equal(load(f, "[agent]\nek_handle = 0x81010001\nek_handle = generate\n"), 0);
        assert_int_equal(f->config.ek_handle, 0);
}

/* rust-keylime's agent.conf is TOML, where strings are quoted: "value" is taken as value. */
static void test_quoted_values(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\n"
                                 "uuid = \"d432fbb3-d2f1-4a97-9ef7-75bd81c00000\"\n"
                                 "ip = \"127.0.0.2\"\n"
                                 "port = \"9003\"\n"
                                 "tpm_hash_alg = \"sha256\"\n"
                                 "ek_handle = \"generate\"\n"
                                 "ak_handle = \"0x81010003\"\n"
                                 "registrar_tls = \"true\"\n"
                                 "tcti = \"\"\n"),
                         0);
        assert_string_equal(f->config.uuid, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
        assert_string_equal(f->config.ip, "127.0.0.2");
        assert_int_equal(f->config.port, 9003);
        assert_int_equal(f->config.tpm_hash_alg, TPM2_ALG_SHA256);
        assert_int_equal(f->config.ek_handle, 0);
        assert_int_equal(f->config.ak_handle, 0x81010003);
        assert_true(f->config.registrar_tls);
        assert_string_equal(f->config.tcti, "");
        /* one quote alone is not a quoted value */
        assert_load_fails(f, "[agent]\nip = \"127.0.0.1\n", 2, "\"\"127.0.0.1\" is not an IPv4 or IPv6 address");
}

static void test_ipv6(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\nip = ::\ncontact_ip = fe80::1\n"), 0);
        assert_string_equal(f->config.ip, "::");
        assert_string_equal(f->config.contact_ip, "fe80::1");
}

static void test_value_length_limit(void **state) {
        struct fixture *f = *state;
        char text[256];

        /* uuid holds 80 characters */
        snprintf(text, sizeof(text), "[agent]\nuuid = %080d\n", 0);
        assert_int_equal(load(f, text), 0);
        assert_int_equal(strlen(f->config.uuid), 80);
        snprintf(text, sizeof(text), "[agent]\nuuid = %081d\n", 0);
        assert_load_fails(f, text, 2, "key \"uuid\": \"0000");
        assert_load_fails(f, text, 2, "an id of 1-80 characters");
}

static void test_bad_values(void **state) {
        static const struct {
                const char *line, *word;
        } bad[] = {
                { "port = 70000", "key \"port\": \"70000\" is not a port number 1-65535" },
                { "mode = poll", "key \"mode\": \"poll\" is not push or pull" },
                { "verifier_url = http://127.0.0.1:8881", "key \"verifier_url\": \"http://127.0.0.1:8881\" is not https://" },
                { "verifier_url = https://127.0.0.1:8881/v3.0", "is not https://HOST[:PORT] (no path)" },
                { "verifier_url = https://", "is not https://HOST" },
                { "attestation_interval_seconds = 0", "key \"attestation_interval_seconds\"" },
                { "port = 65536", "\"65536\" is not a port number" },
                { "port = 0", "\"0\" is not a port number 1-65535" },
                { "port = -1", "\"-1\" is not a port number" },
                /* strtoul would wrap this to 1 */
                { "port = -18446744073709551615", "is not a port number" },
                { "port = abc", "\"abc\" is not a port number" },
                { "port = 80x", "\"80x\" is not a port number" },
                { "port =", "\"\" is not a port number" },
                { "contact_port = 99999", "key \"contact_port\"" },
                { "registrar_port = 0", "key \"registrar_port\"" },
                { "tpm_hash_alg = sha1", "key \"tpm_hash_alg\": \"sha1\" is not sha256, sha384 or sha512" },
                { "tpm_hash_alg = md5", "\"md5\" is not sha256" },
                { "tpm_hash_alg = SHA256", "\"SHA256\" is not sha256" },
                { "ip = not-an-ip", "key \"ip\": \"not-an-ip\" is not an IPv4 or IPv6 address" },
                { "ip = 1.2.3", "\"1.2.3\" is not an IPv4" },
                { "ip = 256.0.0.1", "\"256.0.0.1\" is not an IPv4" },
                { "ip =", "\"\" is not an IPv4" },
                { "contact_ip = localhost", "key \"contact_ip\": \"localhost\" is not an IPv4" },
                { "tpm_encryption_alg = dsa", "key \"tpm_encryption_alg\": \"dsa\" is not rsa, ecc" },
                /* rust-keylime's other schemes: an AK vmattest-verifier could not check */
                { "tpm_signing_alg = ecschnorr",
                  "key \"tpm_signing_alg\": \"ecschnorr\" is not rsassa (an RSA-2048 AK) or ecdsa (an ECC NIST P-256 AK)" },
                { "tpm_signing_alg = rsapss", "\"rsapss\" is not rsassa" },
                { "tpm_signing_alg = ECDSA", "\"ECDSA\" is not rsassa" },
                { "tpm_signing_alg =", "\"\" is not rsassa" },
                { "ek_handle = 0x80000001", "key \"ek_handle\": \"0x80000001\" is not a persistent handle 0x81xxxxxx or \"generate\"" },
                { "ek_handle = 0x181010001", "\"0x181010001\" is not a persistent handle" },
                { "ek_handle = generated", "\"generated\" is not a persistent handle" },
                { "ek_handle =", "\"\" is not a persistent handle" },
                { "ak_handle = 0x81", "key \"ak_handle\": \"0x81\" is not a persistent handle" },
                { "registrar_tls = maybe", "key \"registrar_tls\": \"maybe\" is not true or false" },
                /* the kernel command line's rules (rd.vmattest.volume, .timeout) hold here too */
                { "unlock_volumes = /dev/sda2", "key \"unlock_volumes\": \"/dev/sda2\" is not a LUKS UUID" },
                { "unlock_volumes = 5f1e2d3c-0000-4000-8000-00000000abcd,,", "is not a LUKS UUID" },
                { "unlock_volumes = 5F1E2D3C-0000-4000-8000-00000000ABCD", "is not a LUKS UUID (lowercase)" },
                { "unlock_timeout = 0", "key \"unlock_timeout\": \"0\" is not a number of seconds 1-86400" },
                { "exponential_backoff = TRUE", "\"TRUE\" is not true or false" },
                { "max_retries = 86401", "key \"max_retries\": \"86401\" is not a number 0-86400" },
                { "retry_interval = -1", "key \"retry_interval\": \"-1\" is not a number" },
                { "retry_interval = 1s", "\"1s\" is not a number" },
        };
        struct fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char text[256];

                /* line 3, after a good line: the number counts from the file's start */
                snprintf(text, sizeof(text), "[agent]\nport = 9002\n%s\n", bad[i].line);
                assert_load_fails(f, text, 3, bad[i].word);
        }
}

/* "generate" is only for the EK (the AK is kept, not remade): not offered for ak_handle. */
static void test_ak_handle_has_no_generate(void **state) {
        struct fixture *f = *state;

        assert_load_fails(f, "[agent]\nak_handle = generate\n", 2,
                          "key \"ak_handle\": \"generate\" is not a persistent handle 0x81xxxxxx");
        assert_null(strstr(vm_error_detail(-EINVAL), "or \"generate\""));
}

static void test_unknown_key(void **state) {
        struct fixture *f = *state;

        assert_load_fails(f, "[agent]\nip = 127.0.0.1\nregistrar_tlz = true\n", 3,
                          "unknown key \"registrar_tlz\" in [agent]");
        assert_load_fails(f, "[agent]\nPort = 9002\n", 2, "unknown key \"Port\""); /* names are exact */
}

static void test_key_outside_agent_section(void **state) {
        struct fixture *f = *state;

        assert_load_fails(f, "port = 9002\n", 1, "key \"port\" in unknown section []");
        assert_load_fails(f, "[agent]\nport = 9002\n[registrar]\nport = 8890\n", 4,
                          "key \"port\" in unknown section [registrar]");
}

/* vmattest config --get: the effective value, by the same table as the file's keys. */
static void test_get(void **state) {
        struct agent_config config;
        char value[300];

        agent_config_defaults(&config);
        assert_int_equal(agent_config_get(&config, "registrar_tls", value, sizeof(value)), 0);
        assert_string_equal(value, "true");
        assert_int_equal(agent_config_get(&config, "trusted_client_ca", value, sizeof(value)), 0);
        assert_string_equal(value, "/etc/vmattest/verifier-ca.pem");
        assert_int_equal(agent_config_get(&config, "port", value, sizeof(value)), 0);
        assert_string_equal(value, "9002");
        assert_int_equal(agent_config_get(&config, "unlock_timeout", value, sizeof(value)), 0);
        assert_string_equal(value, "300");
        assert_error(agent_config_get(&config, "tpm_hash_alg", value, sizeof(value)), -ENOTSUP, "no plain text form");
        assert_error(agent_config_get(&config, "no_such_key", value, sizeof(value)), -ENOENT, "not a key of [agent]");
        assert_int_equal(agent_config_get(&config, "trusted_client_ca", value, 8), -ENOSPC);
}

/* handover_user: a uid or a name /etc/passwd knows; the hand-over then needs a directory of its
 * own, not the PCR 15 log's. */
static void test_handover_user(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\n"), 0);
        assert_int_equal(f->config.handover_uid, 0); /* root's, as before */
        assert_int_equal(load(f, "[agent]\nhandover_user = nobody\nhandover_path = /run/vmattest/handover.d/handover\n"), 0);
        assert_int_equal(f->config.handover_uid, 65534);
        assert_int_equal(load(f, "[agent]\nhandover_user = \"991\"\nhandover_path = /run/vmattest-handover/handover\n"), 0);
        assert_int_equal(f->config.handover_uid, 991);
        assert_int_equal(load(f, "[agent]\nhandover_user = root\n"), 0);
        assert_int_equal(f->config.handover_uid, 0);
        assert_load_fails(f, "[agent]\nhandover_user = no-such-user-here\n", 2, "no user \"no-such-user-here\"");
        assert_load_fails(f, "[agent]\nhandover_user = 4294967295\n", 2, "is not a uid");
        /* the default handover_path shares /run/vmattest with the PCR 15 log */
        assert_int_equal(load(f, "[agent]\nhandover_user = nobody\n"), -EINVAL);
        assert_detail_contains(-EINVAL, "handover_path /run/vmattest/handover is in the directory of vmattest_ml_path");
}

/* Revocation actions are names of files in revocation_actions_dir, never paths: nothing the
 * key names can lie outside that directory. */
static void test_revocation_keys(void **state) {
        struct fixture *f = *state;
        char value[300];

        assert_int_equal(load(f, "[agent]\n"
                                 "revocation_cert = /etc/vmattest/RevocationNotifier-cert.crt\n"
                                 "revocation_actions_dir = /usr/lib/vmattest/actions\n"
                                 "revocation_actions = \"local_action_hello.sh, block-agent\"\n"
                                 "revocation_actions = notify_mail\n"
                                 "revocation_action_timeout = 5\n"),
                         0);
        assert_string_equal(f->config.revocation_cert, "/etc/vmattest/RevocationNotifier-cert.crt");
        assert_string_equal(f->config.revocation_actions_dir, "/usr/lib/vmattest/actions");
        assert_string_equal(f->config.revocation_actions, "local_action_hello.sh,block-agent,notify_mail");
        assert_int_equal(f->config.revocation_action_timeout, 5);
        assert_int_equal(agent_config_get(&f->config, "revocation_actions", value, sizeof(value)), 0);
        assert_string_equal(value, "local_action_hello.sh,block-agent,notify_mail");
        assert_int_equal(load(f, "[agent]\nrevocation_actions = \"\"\n"), 0);
        assert_string_equal(f->config.revocation_actions, "");
        assert_load_fails(f, "[agent]\nrevocation_actions = ../../bin/sh\n", 2, "is not the name of a file in revocation_actions_dir");
        assert_load_fails(f, "[agent]\nrevocation_actions = /bin/sh\n", 2, "\"/bin/sh\" is not the name of a file");
        assert_load_fails(f, "[agent]\nrevocation_actions = a,,b\n", 2, "is not the name of a file");
        assert_load_fails(f, "[agent]\nrevocation_actions = .hidden\n", 2, "not starting with '.'");
        assert_load_fails(f, "[agent]\nrevocation_actions = run this\n", 2, "\"run this\" is not the name");
        assert_load_fails(f, "[agent]\nrevocation_action_timeout = 0\n", 2, "1-86400");
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_get),
                cmocka_unit_test(test_defaults),
                T(test_empty_files_keep_defaults),
                cmocka_unit_test(test_missing_file),
                T(test_every_key),
                T(test_hash_alg_names),
                T(test_encryption_algs),
                T(test_ek_handle),
                T(test_quoted_values),
                T(test_ipv6),
                T(test_value_length_limit),
                T(test_bad_values),
                T(test_ak_handle_has_no_generate),
                T(test_unknown_key),
                T(test_key_outside_agent_section),
                T(test_handover_user),
                T(test_revocation_keys),
        };
#undef T

        return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
