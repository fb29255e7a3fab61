/* agent/tsm_evidence.c: the platform_evidence object the agent serves for a configfs-tsm report
 * (docs/protocol.md §5.7). With a TDX quote (provider tdx_guest) the TD's CC event log from
 * cc_event_log_path comes along as cc_event_log, without the unused rest of its ACPI area; no
 * file, no member; a log that cannot be cut fails, naming the file; another provider's report
 * never carries one. */
#include "tests/unit/unit.h"

#include <json-c/json.h>

#include "agent/tsm_evidence.h"
#include "lib/encoding.h"
#include "tests/tools/forge/tdx_forge.h"

struct fixture {
        struct tdx_forge_log log;
        char dir[64];
        char path[128];
        uint8_t outblob[64];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        FILE *file;
        uint8_t fill[4096];

        assert_non_null(f);
        assert_int_equal(tdx_forge_log_start(&f->log), 0);
        assert_int_equal(tdx_forge_log_event(&f->log, 1, "TDVF configuration", NULL), 0);
        assert_int_equal(tdx_forge_log_event(&f->log, 3, "kernel command line", NULL), 0);
        strcpy(f->dir, "/tmp/vmattest-test.tsmevXXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/CCEL", f->dir);
        /* the ACPI log area as Linux exposes it: the log, then what the firmware left */
        memset(fill, 0xff, sizeof(fill));
        file = fopen(f->path, "we");
        assert_true(file && fwrite(f->log.data, 1, f->log.size, file) == f->log.size &&
                    fwrite(fill, 1, sizeof(fill), file) == sizeof(fill) && fclose(file) == 0);
        memset(f->outblob, 0x42, sizeof(f->outblob));
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir); /* this test's own directory only */
        assert_int_equal(system(cmd), 0);
        tdx_forge_log_done(&f->log);
        free(f);
        return 0;
}

static struct tsm_report report_of(struct fixture *f, const char *provider) {
        struct tsm_report report = { .generation = 7, .outblob = f->outblob, .outblob_size = sizeof(f->outblob) };

        snprintf(report.provider, sizeof(report.provider), "%s", provider);
        return report;
}

static void test_tdx_with_log(void **state) {
        struct fixture *f = *state;
        struct tsm_report report = report_of(f, "tdx_guest");
        json_object *evidence = NULL, *member;
        _cleanup_(freep) uint8_t *log = NULL;
        size_t size = 0;

        assert_int_equal(tsm_evidence_json(&report, f->path, false, &evidence), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(evidence, "provider")), "tdx_guest");
        assert_true(json_object_object_get_ex(evidence, "cc_event_log", &member));
        assert_int_equal(base64_decode(json_object_get_string(member), (size_t)json_object_get_string_len(member),
                                       &log, &size),
                         0);
        assert_int_equal(size, f->log.size); /* the unused rest cut off */
        assert_memory_equal(log, f->log.data, size);
        json_object_put(evidence);
}

static void test_tdx_without_log(void **state) {
        struct fixture *f = *state;
        struct tsm_report report = report_of(f, "tdx_guest");
        json_object *evidence = NULL;
        char missing[160];

        snprintf(missing, sizeof(missing), "%s/none", f->dir);
        assert_int_equal(tsm_evidence_json(&report, missing, true, &evidence), 0);
        assert_non_null(json_object_object_get(evidence, "outblob"));
        assert_false(json_object_object_get_ex(evidence, "cc_event_log", NULL));
        json_object_put(evidence);
}

static void test_tdx_bad_log(void **state) {
        struct fixture *f = *state;
        struct tsm_report report = report_of(f, "tdx_guest");
        json_object *evidence = NULL;
        FILE *file = fopen(f->path, "r+e");

        /* a stray byte in the unused rest: read as a record, refused */
        assert_non_null(file);
        assert_int_equal(fseek(file, (long)f->log.size + 100, SEEK_SET), 0);
        assert_int_equal(fputc(1, file), 1);
        assert_int_equal(fclose(file), 0);
        assert_error(tsm_evidence_json(&report, f->path, true, &evidence), -EBADMSG,
                     "platform report (required): CC event log: event log event 3");
        assert_null(evidence);
        assert_error(tsm_evidence_json(&report, f->path, false, &evidence), -EBADMSG, f->path);
        /* a directory */
        assert_error(tsm_evidence_json(&report, f->dir, false, &evidence), -EISDIR, "platform report: CC event log");
}

static void test_snp_never_carries_it(void **state) {
        struct fixture *f = *state;
        struct tsm_report report = report_of(f, "sev_guest");
        json_object *evidence = NULL;

        assert_int_equal(tsm_evidence_json(&report, f->path, false, &evidence), 0);
        assert_false(json_object_object_get_ex(evidence, "cc_event_log", NULL));
        assert_false(json_object_object_get_ex(evidence, "auxblob", NULL));
        assert_int_equal(json_object_get_int(json_object_object_get(evidence, "generation")), 7);
        json_object_put(evidence);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_tdx_with_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tdx_without_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tdx_bad_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_snp_never_carries_it, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
