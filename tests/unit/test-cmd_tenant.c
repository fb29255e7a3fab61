/* The tenant's commands on the store (verifier/cmd_tenant.c): what `status` prints of an
 * enrolment. Its failure reason and last error quote what the agent sent; a row may hold
 * them raw (written by an older version, or by hand), and status must not pass a control
 * byte to the tenant's terminal. Each test works in a fresh directory under /tmp. */
#include "tests/unit/unit.h"

#include <getopt.h>
#include <json-c/json.h>
#include <unistd.h>

#include "lib/auth_tag.h"
#include "verifier/commands.h"
#include "verifier/store.h"

#define AGENT "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define RAW_FAILURE "\"/tmp/\x1b]0;owned\x07\" sha256:00: not in the runtime policy's digests\nagent " AGENT " passed"
#define RAW_LAST_ERROR "HTTP 500: \x1b[2J\r\n\xc2\x9b" "31m"

struct fixture {
        char dir[64];
        char database[128];
        char config[128];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        FILE *conf;

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/vmattest-tenant.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->database, sizeof(f->database), "%s/verifier.sqlite", f->dir);
        snprintf(f->config, sizeof(f->config), "%s/verifier.conf", f->dir);
        conf = fopen(f->config, "w");
        assert_non_null(conf);
        fprintf(conf, "[store]\ndatabase = %s\n", f->database);
        fclose(conf);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char path[160];

        for (const char *const *suffix = (const char *const[]){ "", "-wal", "-shm", NULL }; *suffix; suffix++) {
                snprintf(path, sizeof(path), "%s%s", f->database, *suffix);
                unlink(path);
        }
        unlink(f->config);
        rmdir(f->dir);
        free(f);
        return 0;
}

/* An enrolment that failed, its reason and last error raw in the database. */
static void enrol_failed(const struct fixture *f) {
        static uint8_t ek[] = { 0x00, 0x04, 'e', 'k', '-', '1' }, ak[] = { 0x00, 0x04, 'a', 'k', '-', '1' };
        struct registered_agent reg = { 0 };
        struct attestation a;
        struct store *store = NULL;

        snprintf(reg.agent_id, sizeof(reg.agent_id), AGENT);
        reg.ek_tpm = ek, reg.ek_tpm_size = sizeof(ek);
        reg.aik_tpm = ak, reg.aik_tpm_size = sizeof(ak);
        snprintf(reg.ek_hash, sizeof(reg.ek_hash), "%064d", 1);
        snprintf(reg.ak_name, sizeof(reg.ak_name), "000b%064d", 2);
        assert_int_equal(store_open(f->database, true, &store), 0);
        assert_int_equal(store_attestation_add(store, &reg, "{}", NULL, NULL, NULL, NULL, NULL), 0);
        assert_int_equal(store_attestation_get(store, AGENT, false, &a), 0);
        snprintf(a.state, sizeof(a.state), "failed");
        snprintf(a.failure, sizeof(a.failure), "%s", RAW_FAILURE);
        snprintf(a.last_error, sizeof(a.last_error), "%s", RAW_LAST_ERROR);
        a.failed_at = 1700000000;
        assert_int_equal(store_attestation_save(store, &a), 0);
        attestation_done(&a);
        store_free(store);
}

/* What `vmattest-verifier status ARGS...` printed on stdout, and its exit code. */
static char *run_status(const struct fixture *f, char **argv, int argc, int *exit_code) {
        FILE *tmp = tmpfile();
        int saved = dup(STDOUT_FILENO);

        assert_non_null(tmp);
        fflush(stdout);
        assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
        optind = 0; /* getopt starts over */
        *exit_code = cmd_status(argc, argv, f->config);
        fflush(stdout);
        assert_true(dup2(saved, STDOUT_FILENO) >= 0);
        close(saved);
        return read_back(tmp);
}

/* No byte outside printable ASCII but the newlines that end status's own lines. */
static void assert_printable(const char *text) {
        for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                if (*p != '\n' && (*p < 0x20 || *p > 0x7e))
                        fail_msg("status printed byte 0x%02x at offset %td", *p, (const char *)p - text);
}

static void test_status_escapes_peer_text(void **state) {
        struct fixture *f = *state;
        char *argv[] = { (char *)"status", NULL };
        _cleanup_(freep) char *text = NULL;
        int exit_code;

        enrol_failed(f);
        text = run_status(f, argv, 1, &exit_code);
        assert_int_equal(exit_code, EXIT_FAILED);
        assert_printable(text);
        if (!strstr(text, "failure:       \"/tmp/\\x1b]0;owned\\x07\" sha256:00: not in the runtime policy's digests"
                          "\\x0aagent " AGENT " passed\n  at "))
                fail_msg("failure line not as expected:\n%s", text);
        if (!strstr(text, "unreachable:   HTTP 500: \\x1b[2J\\x0d\\x0a\\xc2\\x9b31m\n"))
                fail_msg("unreachable line not as expected:\n%s", text);
}

static void test_status_json_escapes_peer_text(void **state) {
        struct fixture *f = *state;
        char *argv[] = { (char *)"status", (char *)"--json", NULL };
        _cleanup_(freep) char *text = NULL;
        json_object *array, *agent, *member;
        int exit_code;

        enrol_failed(f);
        text = run_status(f, argv, 2, &exit_code);
        assert_int_equal(exit_code, EXIT_FAILED);
        array = json_tokener_parse(text);
        assert_non_null(array);
        agent = json_object_array_get_idx(array, 0);
        assert_true(json_object_object_get_ex(agent, "failure", &member));
        assert_string_equal(json_object_get_string(member), "\"/tmp/\\x1b]0;owned\\x07\" sha256:00: not in the "
                                                            "runtime policy's digests\\x0aagent " AGENT " passed");
        assert_true(json_object_object_get_ex(agent, "last_error", &member));
        assert_string_equal(json_object_get_string(member), "HTTP 500: \\x1b[2J\\x0d\\x0a\\xc2\\x9b31m");
        json_object_put(array);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_status_escapes_peer_text, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_json_escapes_peer_text, setup, teardown),
        };

        return cmocka_run_group_tests_name("cmd_tenant", tests, NULL, NULL);
}
