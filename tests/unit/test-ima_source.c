/* ima_source: serving the IMA list from entry n, on a regular file the test grows. */
#include "tests/unit/unit.h"

#include <unistd.h>

#include "agent/ima_source.h"

struct fixture {
        char path[64];
        struct ima_source src;
        unsigned lines;
};

static void append(struct fixture *f, unsigned count) {
        FILE *log = fopen(f->path, "a");

        assert_non_null(log);
        for (unsigned i = 0; i < count; i++, f->lines++)
                fprintf(log, "10 %040u ima-ng sha256:%064u /entry/%u\n", f->lines, f->lines, f->lines);
        fclose(log);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        int fd;

        strcpy(f->path, "/tmp/vmattest-test-ima-XXXXXX");
        fd = mkstemp(f->path);
        assert_true(fd >= 0);
        close(fd);
        ima_source_init(&f->src, f->path);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        ima_source_done(&f->src);
        unlink(f->path);
        free(f);
        return 0;
}

/* The text must start at entry `first` and hold the entries up to the end, in order. */
static void expect_read(struct fixture *f, uint64_t from, uint64_t first) {
        _cleanup_(freep) char *text = NULL;
        char want[64];
        size_t size;
        uint64_t start;
        unsigned lines = 0;

        assert_int_equal(ima_source_read(&f->src, from, &text, &size, &start), 0);
        assert_int_equal(start, first);
        assert_int_equal(strlen(text), size);
        snprintf(want, sizeof(want), "/entry/%llu\n", (unsigned long long)first);
        if (first < f->lines)
                assert_non_null(strstr(text, want));
        for (const char *p = text; (p = strchr(p, '\n')); p++)
                lines++;
        assert_int_equal(lines, f->lines - first);
        if (size)
                assert_int_equal(strncmp(strstr(text, "/entry/"), want, strlen(want)), 0);
}

static void test_grows_and_serves_the_delta(void **state) {
        struct fixture *f = *state;

        append(f, 10);
        expect_read(f, 0, 0);
        expect_read(f, 4, 4);
        append(f, 5);
        expect_read(f, 10, 10);
        expect_read(f, 15, 15); /* nothing new: empty, from the end */
}

static void test_beyond_the_end_means_a_new_boot(void **state) {
        struct fixture *f = *state;

        append(f, 3);
        expect_read(f, 1000, 0); /* docs/protocol.md §2: from 0, never silently from elsewhere */
}

static void test_older_than_the_kept_tail(void **state) {
        struct fixture *f = *state;

        append(f, 2 * IMA_CHECKPOINT_EVERY + 7);
        expect_read(f, 2 * IMA_CHECKPOINT_EVERY, 2 * IMA_CHECKPOINT_EVERY); /* the tail now starts there */
        expect_read(f, 3, 3); /* older: re-read from the checkpoint before it */
        expect_read(f, IMA_CHECKPOINT_EVERY + 1, IMA_CHECKPOINT_EVERY + 1);
}

static void test_replaced_list_starts_over(void **state) {
        struct fixture *f = *state;

        append(f, 20);
        expect_read(f, 20, 20);
        assert_int_equal(truncate(f->path, 0), 0);
        f->lines = 0;
        append(f, 2);
        expect_read(f, 1, 1); /* read from the start of the new file */
        expect_read(f, 2, 2);
}

static void test_partial_last_line_waits(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        size_t size;
        uint64_t start;
        FILE *log;

        append(f, 2);
        log = fopen(f->path, "a");
        fputs("10 0000 ima-ng sha256:00 /half", log); /* no newline yet */
        fclose(log);
        assert_int_equal(ima_source_read(&f->src, 0, &text, &size, &start), 0);
        assert_null(strstr(text, "/half"));
}

static void test_missing_list(void **state) {
        struct ima_source src;
        char *text;
        size_t size;
        uint64_t start;

        ima_source_init(&src, "/nonexistent/ima");
        assert_int_equal(ima_source_read(&src, 0, &text, &size, &start), -ENOENT);
        ima_source_done(&src);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_grows_and_serves_the_delta), T(test_beyond_the_end_means_a_new_boot),
                T(test_older_than_the_kept_tail),   T(test_replaced_list_starts_over),
                T(test_partial_last_line_waits),    cmocka_unit_test(test_missing_list),
        };
#undef T
        return cmocka_run_group_tests_name("ima_source", tests, NULL, NULL);
}
