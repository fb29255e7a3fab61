/* agent/cc_event_log.c: a TD's CC event log read from the ACPI log area Linux exposes, the unused
 * rest of the area (0xff, or zeros) cut off after the last event, bounded. The logs are made with
 * tests/tools/forge/tdx_forge (TDVF's layout: the Spec ID event declaring SHA-384, then
 * TCG_PCR_EVENT2 records for MR indexes 1-4). Hostile areas (cut at every length, flipped bytes,
 * a stray byte in the unused rest, a log past the bound) are refused with the event and field
 * named, or cut where they stop parsing as a log, never read past. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "agent/cc_event_log.h"
#include "lib/eventlog.h"
#include "tests/tools/forge/tdx_forge.h"

#define AREA_SIZE (64 * 1024) /* TDVF's usual LAML */

struct fixture {
        struct tdx_forge_log log;
        char dir[64];
        char path[128];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        assert_int_equal(tdx_forge_log_start(&f->log), 0);
        assert_int_equal(tdx_forge_log_event(&f->log, 1, "TDVF configuration", NULL), 0);
        assert_int_equal(tdx_forge_log_event(&f->log, 2, "boot loader", NULL), 0);
        assert_int_equal(tdx_forge_log_event(&f->log, 3, "", NULL), 0); /* empty event data */
        assert_int_equal(tdx_forge_log_event(&f->log, 3, "kernel command line", NULL), 0);
        strcpy(f->dir, "/tmp/vmattest-test.ccelXXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/CCEL", f->dir);
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

/* The log, then `fill` up to `area_size` bytes. */
static uint8_t *area_of(const struct tdx_forge_log *log, size_t log_size, uint8_t fill, size_t area_size) {
        uint8_t *area = malloc(area_size);

        assert_non_null(area);
        assert_true(log_size <= area_size);
        memcpy(area, log->data, log_size);
        memset(area + log_size, fill, area_size - log_size);
        return area;
}

static void write_file(const char *path, const uint8_t *data, size_t size) {
        FILE *file = fopen(path, "we");

        assert_non_null(file);
        assert_int_equal(fwrite(data, 1, size, file), size);
        assert_int_equal(fclose(file), 0);
}

static void test_cut(void **state) {
        struct fixture *f = *state;
        size_t used = 0;

        for (int fill = 0; fill < 2; fill++) {
                _cleanup_(freep) uint8_t *area = area_of(&f->log, f->log.size, fill ? 0xff : 0x00, AREA_SIZE);

                assert_int_equal(cc_event_log_used(area, AREA_SIZE, &used), 0);
                assert_int_equal(used, f->log.size);
                /* what is kept is the log: it replays, with no room for the rest */
                {
                        struct pcr_values values;

                        assert_int_equal(eventlog_replay(area, used, TPM2_ALG_SHA384, &values), 0);
                        assert_int_equal(values.mask, 0x0eu); /* RTMR0-2 */
                }
        }
        /* no unused rest at all */
        assert_int_equal(cc_event_log_used(f->log.data, f->log.size, &used), 0);
        assert_int_equal(used, f->log.size);
}

static void test_read(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) uint8_t *area = area_of(&f->log, f->log.size, 0xff, AREA_SIZE);
        _cleanup_(freep) uint8_t *log = NULL;
        size_t size = 0;

        assert_int_equal(cc_event_log_read(f->path, &log, &size), -ENOENT);
        assert_null(log);
        write_file(f->path, area, AREA_SIZE);
        assert_int_equal(cc_event_log_read(f->path, &log, &size), 0);
        assert_int_equal(size, f->log.size);
        assert_memory_equal(log, f->log.data, size);
        free(log);
        log = NULL;
        /* a directory is not a log */
        assert_error(cc_event_log_read(f->dir, &log, &size), -EISDIR, "CC event log /tmp/vmattest-test.ccel");
}

/* An area larger than the bound is read as far as the bound: fine when the log ends inside it,
 * refused when the log runs past it. */
static void test_bound(void **state) {
        struct fixture *f = *state;
        size_t big = CC_EVENT_LOG_MAX + 4096;
        _cleanup_(freep) uint8_t *area = area_of(&f->log, f->log.size, 0xff, big);
        _cleanup_(freep) uint8_t *log = NULL;
        struct tdx_forge_log long_log = { 0 };
        _cleanup_(freep) char *text = malloc(CC_EVENT_LOG_MAX - 1024);
        size_t size = 0;

        write_file(f->path, area, big);
        assert_int_equal(cc_event_log_read(f->path, &log, &size), 0);
        assert_int_equal(size, f->log.size);
        free(log);
        log = NULL;

        /* an event whose data ends past the first MiB */
        assert_non_null(text);
        memset(text, 'x', CC_EVENT_LOG_MAX - 1025);
        text[CC_EVENT_LOG_MAX - 1025] = 0;
        assert_int_equal(tdx_forge_log_start(&long_log), 0);
        for (int i = 0; i < 2; i++)
                assert_int_equal(tdx_forge_log_event(&long_log, 1, i ? text : "first", NULL), 0);
        assert_int_equal(tdx_forge_log_event(&long_log, 1, text + 8192, NULL), 0);
        assert_true(long_log.size > CC_EVENT_LOG_MAX);
        write_file(f->path, long_log.data, long_log.size);
        assert_error(cc_event_log_read(f->path, &log, &size), -EFBIG, "the log runs past 1048576 bytes");
        assert_null(log);
        /* exactly the bound, nothing after: read whole */
        write_file(f->path, long_log.data, CC_EVENT_LOG_MAX);
        assert_error(cc_event_log_read(f->path, &log, &size), -EBADMSG, "CC event log: event log event 3");
        tdx_forge_log_done(&long_log);
}

/* Cut at every length, with and without the unused rest after the cut: a cut at a record's end
 * is a shorter log, any other is refused, naming the event (the verifier's replay refuses what
 * the fill made of a cut record). */
static void test_truncated(void **state) {
        struct fixture *f = *state;
        size_t boundaries = 0, used = 0;

        for (size_t cut = 0; cut <= f->log.size; cut++) {
                _cleanup_(freep) uint8_t *bare = area_of(&f->log, cut, 0xff, cut ? cut : 1);
                _cleanup_(freep) uint8_t *padded = area_of(&f->log, cut, 0xff, cut + 256);
                int ret;

                vm_error_clear();
                ret = cc_event_log_used(bare, cut, &used);
                if (ret == 0) {
                        assert_int_equal(used, cut);
                        boundaries++;
                } else {
                        assert_int_equal(ret, -EBADMSG);
                        assert_detail_contains(ret, "CC event log: event log event");
                }
                /* padded, a cut record may read the fill as its own bytes: whatever is kept, only
                 * the fill is left out */
                vm_error_clear();
                ret = cc_event_log_used(padded, cut + 256, &used);
                if (ret == 0) {
                        assert_true(used >= cut && used <= cut + 256);
                        for (size_t i = used; i < cut + 256; i++)
                                assert_int_equal(padded[i], 0xff);
                } else {
                        assert_int_equal(ret, -EBADMSG);
                        assert_detail_contains(ret, "CC event log: event log event");
                }
        }
        assert_int_equal(boundaries, 5); /* after each of the 5 records */
}

static void test_hostile(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) uint8_t *area = area_of(&f->log, f->log.size, 0xff, 4096);
        _cleanup_(freep) uint8_t *mutated = malloc(4096);
        uint64_t prng = FUZZ_SEED;
        size_t used = 0;

        /* a stray byte in the unused rest: it is read as a record, and refused */
        area[3000] = 0x01;
        assert_error(cc_event_log_used(area, 4096, &used), -EBADMSG,
                     "CC event log: event log event 5: pcrIndex 4294967295 is not a PCR");
        area[3000] = 0xff;
        /* a record's eventSize past the area */
        {
                size_t size_at = f->log.size - strlen("kernel command line") - 4;

                area[size_at + 3] = 0x7f;
                assert_error(cc_event_log_used(area, 4096, &used), -EBADMSG, "eventSize");
                area[size_at + 3] = 0;
        }
        /* an area of only the unused rest: no Spec ID event, no log */
        assert_non_null(mutated);
        memset(mutated, 0xff, 4096);
        assert_error(cc_event_log_used(mutated, 4096, &used), -EBADMSG, "CC event log: event log event 1");
        /* flipped bytes anywhere: a clear answer, the cut inside the area */
        for (int i = 0; i < 2000; i++) {
                int ret;

                memcpy(mutated, area, 4096);
                prng_mutate(&prng, mutated, f->log.size);
                vm_error_clear();
                ret = cc_event_log_used(mutated, 4096, &used);
                assert_true(ret == 0 || ret == -EBADMSG);
                if (ret == 0)
                        assert_true(used <= 4096);
                else
                        assert_detail_contains(ret, "CC event log: ");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_cut, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
