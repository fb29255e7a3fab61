/* agent/ima_policy.c: the policy text split into rules (comments, blanks, CRLF, the limits,
 * refused bytes and paths), then loads into a regular file standing in for the kernel's
 * policy file, whose contents must be the rules one per line; nothing is written when any line
 * is refused; the errors for a missing policy, a missing kernel file and a refused write. The
 * shipped ima-policy/vmattest.policy must pass, with the filesystems it names checked against
 * the system's <linux/magic.h> and its rules in the order that measures what runs everywhere. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdbool.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ima_policy.h"

#define SHIPPED_POLICY "ima-policy/vmattest.policy"

/* What the splitter handed over: the rules joined by newlines, and their line numbers. */
struct collected {
        char text[IMA_POLICY_FILE_MAX + 1];
        size_t size;
        unsigned lines[64], count;
        unsigned stop_at; /* return -ECANCELED for this rule (1-based); 0 = never */
};

static int collect(const char *rule, size_t len, unsigned lineno, void *user) {
        struct collected *c = user;

        assert_true(len > 0 && len <= IMA_POLICY_LINE_MAX);
        assert_true(c->size + len + 1 <= IMA_POLICY_FILE_MAX);
        memcpy(c->text + c->size, rule, len);
        c->size += len;
        c->text[c->size++] = '\n';
        c->text[c->size] = '\0';
        if (c->count < ELEMENTSOF(c->lines))
                c->lines[c->count] = lineno;
        c->count++;
        return c->stop_at == c->count ? -ECANCELED : 0;
}

static int split(const char *text, size_t len, struct collected *c) {
        memset(c, 0, sizeof(*c));
        vm_error_clear();
        return ima_policy_rules("test.policy", text, len, collect, c);
}

static void test_comments_and_blank_lines(void **state) {
        static const char text[] = "# a comment\n"
                                   "\n"
                                   "dont_measure fsmagic=0x9fa0\n"
                                   "   \t\n"
                                   "  # an indented comment\n"
                                   "\tmeasure func=BPRM_CHECK mask=MAY_EXEC  \n"
                                   "measure  func=FILE_MMAP\tmask=MAY_EXEC\n";
        struct collected *c = malloc(sizeof(*c));

        assert_non_null(c);
        assert_int_equal(split(text, strlen(text), c), 0);
        assert_string_equal(c->text, "dont_measure fsmagic=0x9fa0\n"
                                     "measure func=BPRM_CHECK mask=MAY_EXEC\n"
                                     "measure  func=FILE_MMAP\tmask=MAY_EXEC\n");
        assert_int_equal(c->count, 3);
        assert_int_equal(c->lines[0], 3);
        assert_int_equal(c->lines[1], 6);
        assert_int_equal(c->lines[2], 7);

        /* nothing at all, or only comments: no rule, no error (the loader refuses that) */
        assert_int_equal(split("", 0, c), 0);
        assert_int_equal(c->count, 0);
        assert_int_equal(split("#\n\n# x\n", 7, c), 0);
        assert_int_equal(c->count, 0);
        free(c);
}

static void test_crlf_and_last_line(void **state) {
        static const char crlf[] = "measure func=MODULE_CHECK\r\n# c\r\n\r\nmeasure func=FIRMWARE_CHECK \r\n";
        static const char unterminated[] = "measure func=MODULE_CHECK\nmeasure func=POLICY_CHECK";
        struct collected *c = malloc(sizeof(*c));

        assert_non_null(c);
        assert_int_equal(split(crlf, strlen(crlf), c), 0);
        assert_string_equal(c->text, "measure func=MODULE_CHECK\nmeasure func=FIRMWARE_CHECK\n");
        assert_int_equal(c->lines[1], 4);

        assert_int_equal(split(unterminated, strlen(unterminated), c), 0);
        assert_string_equal(c->text, "measure func=MODULE_CHECK\nmeasure func=POLICY_CHECK\n");
        assert_int_equal(c->lines[1], 2);
        /* and with a CR but no LF at the very end */
        assert_int_equal(split("measure func=POLICY_CHECK\r", 26, c), 0);
        assert_string_equal(c->text, "measure func=POLICY_CHECK\n");
        free(c);
}

static void test_line_length(void **state) {
        struct collected *c = malloc(sizeof(*c));
        char text[2 + IMA_POLICY_LINE_MAX + 2 + 1];

        assert_non_null(c);
        /* a rule of exactly IMA_POLICY_LINE_MAX bytes on line 2 passes ... */
        memset(text, 'a', sizeof(text));
        memcpy(text, "#\n", 2);
        text[2 + IMA_POLICY_LINE_MAX] = '\n';
        assert_int_equal(split(text, 2 + IMA_POLICY_LINE_MAX + 1, c), 0);
        assert_int_equal(c->count, 1);
        assert_int_equal(c->lines[0], 2);
        /* ... the limit is on the line as written: a CR counts (254 bytes and a CR pass) ... */
        text[2 + IMA_POLICY_LINE_MAX - 1] = '\r';
        assert_int_equal(split(text, 2 + IMA_POLICY_LINE_MAX + 1, c), 0);
        assert_int_equal(c->size, IMA_POLICY_LINE_MAX); /* 254 bytes and the collector's newline */
        /* one byte more is refused, naming the line, with or without its newline */
        memset(text, 'a', sizeof(text));
        memcpy(text, "#\n", 2);
        text[2 + IMA_POLICY_LINE_MAX + 1] = '\n';
        assert_int_equal(split(text, 2 + IMA_POLICY_LINE_MAX + 2, c), -EINVAL);
        assert_detail_contains(-EINVAL, "IMA policy test.policy line 2: longer than 255 bytes");
        assert_int_equal(c->count, 0);
        assert_int_equal(split(text, 2 + IMA_POLICY_LINE_MAX + 1, c), -EINVAL);
        assert_detail_contains(-EINVAL, "line 2: longer than 255 bytes");
        /* a long comment is a long line too */
        text[2] = '#';
        assert_int_equal(split(text, 2 + IMA_POLICY_LINE_MAX + 2, c), -EINVAL);
        free(c);
}

static void test_refused_bytes(void **state) {
        static const char nul[] = "measure func=MODULE_CHECK\n# comment\nmeasure func=BPRM\0_CHECK\n";
        static const char nul_in_comment[] = "# \0\nmeasure func=MODULE_CHECK\n";
        static const char escape[] = "measure func=MODULE_CHECK\nmeasure \x1b[31mfunc=BPRM_CHECK\n";
        static const char mid_cr[] = "measure func=MODULE_CHECK\r \n";
        static const char utf8[] = "# caf\xc3\xa9\nmeasure func=MODULE_CHECK\n";
        struct collected *c = malloc(sizeof(*c));

        assert_non_null(c);
        assert_int_equal(split(nul, sizeof(nul) - 1, c), -EINVAL);
        assert_detail_contains(-EINVAL, "IMA policy test.policy line 3: a NUL byte at byte 18");
        /* the lines are checked one by one: the rule before the bad line was handed over */
        assert_int_equal(c->count, 1);
        assert_int_equal(split(nul_in_comment, sizeof(nul_in_comment) - 1, c), -EINVAL);
        assert_detail_contains(-EINVAL, "line 1: a NUL byte");
        assert_int_equal(split(escape, sizeof(escape) - 1, c), -EINVAL);
        assert_detail_contains(-EINVAL, "line 2: control byte 0x1b at byte 9");
        assert_int_equal(split(mid_cr, sizeof(mid_cr) - 1, c), -EINVAL);
        assert_detail_contains(-EINVAL, "line 1: control byte 0x0d");
        assert_int_equal(split("measure\x7f\n", 9, c), -EINVAL);
        assert_detail_contains(-EINVAL, "control byte 0x7f");
        /* bytes above 0x7f (UTF-8 in a comment) are the kernel's business, not refused here */
        assert_int_equal(split(utf8, strlen(utf8), c), 0);
        assert_int_equal(c->count, 1);
        free(c);
}

static void test_path_refused(void **state) {
        static const char text[] = "measure func=MODULE_CHECK\n  /etc/ima/ima-policy\n";
        struct collected *c = malloc(sizeof(*c));

        assert_non_null(c);
        assert_int_equal(split(text, strlen(text), c), -EINVAL);
        assert_detail_contains(-EINVAL, "IMA policy test.policy line 2: \"/etc/ima/ima-policy\" is a path");
        free(c);
}

static void test_size_limit(void **state) {
        struct collected *c = malloc(sizeof(*c));
        char *text = malloc(IMA_POLICY_FILE_MAX + 1);

        assert_non_null(c);
        assert_non_null(text);
        /* comment lines of 64 bytes fill exactly 64 KiB */
        for (size_t i = 0; i < IMA_POLICY_FILE_MAX; i += 64) {
                memset(text + i, ' ', 63);
                text[i] = '#';
                text[i + 63] = '\n';
        }
        assert_int_equal(split(text, IMA_POLICY_FILE_MAX, c), 0);
        text[IMA_POLICY_FILE_MAX] = '#';
        assert_int_equal(split(text, IMA_POLICY_FILE_MAX + 1, c), -EFBIG);
        assert_detail_contains(-EFBIG, "IMA policy test.policy: larger than 65536 bytes");
        free(text);
        free(c);
}

static void test_callback_stops_the_walk(void **state) {
        static const char text[] = "measure func=MODULE_CHECK\nmeasure func=FIRMWARE_CHECK\nmeasure func=POLICY_CHECK\n";
        struct collected *c = malloc(sizeof(*c));

        assert_non_null(c);
        memset(c, 0, sizeof(*c));
        c->stop_at = 2;
        assert_int_equal(ima_policy_rules("test.policy", text, strlen(text), collect, c), -ECANCELED);
        assert_int_equal(c->count, 2);
        free(c);
}

/* The shipped policy, in the order the README explains: IMA applies the first rule that
 * matches a file for the hook at hand, so a filesystem excluded before the exec rules runs
 * its programs unmeasured. Each rule belongs to one stage and the stages come in this order;
 * the magic numbers are the kernel's own. */
enum shipped_stage {
        STAGE_PSEUDO_FS = 1, /* dont_measure, every hook: filesystems that hold no code */
        STAGE_RUNS,          /* exec, mmap-exec, kernel loads: measured everywhere else */
        STAGE_MEMORY_FS,     /* dont_measure tmpfs and ramfs: for the reads below only */
        STAGE_READS,         /* FILE_CHECK of root */
};

static const unsigned long shipped_pseudo_fs[] = {
        PROC_SUPER_MAGIC,   SYSFS_MAGIC,         DEBUGFS_MAGIC, TRACEFS_MAGIC,  SECURITYFS_MAGIC,
        SELINUX_MAGIC,      SMACK_MAGIC,         AAFS_MAGIC,    CGROUP_SUPER_MAGIC,
        CGROUP2_SUPER_MAGIC, NSFS_MAGIC,         EFIVARFS_MAGIC, BPF_FS_MAGIC,  BINFMTFS_MAGIC,
        DEVPTS_SUPER_MAGIC, BINDERFS_SUPER_MAGIC, PSTOREFS_MAGIC,
};
static const unsigned long shipped_memory_fs[] = { TMPFS_MAGIC, RAMFS_MAGIC };
static const char *const shipped_runs[] = {
        "measure func=BPRM_CHECK mask=MAY_EXEC",
        "measure func=FILE_MMAP mask=MAY_EXEC",
        "measure func=MODULE_CHECK",
        "measure func=FIRMWARE_CHECK",
        "measure func=KEXEC_KERNEL_CHECK",
        "measure func=KEXEC_INITRAMFS_CHECK",
        "measure func=POLICY_CHECK",
};
static const char *const shipped_reads[] = {
        "measure func=FILE_CHECK mask=^MAY_READ euid=0",
        "measure func=FILE_CHECK mask=^MAY_READ uid=0",
};

static size_t magic_index(const unsigned long *magics, size_t n, unsigned long magic) {
        size_t i;

        for (i = 0; i < n && magics[i] != magic; i++)
                ;
        return i;
}

static size_t rule_index(const char *const *rules, size_t n, const char *rule) {
        size_t i;

        for (i = 0; i < n && strcmp(rules[i], rule) != 0; i++)
                ;
        return i;
}

/* The stage of one shipped rule, and which of its stage's rules it is (bit `*which`). */
static enum shipped_stage shipped_rule_stage(const char *rule, size_t *which) {
        unsigned long magic;
        char *end;

        if (strncmp(rule, "dont_measure fsmagic=0x", 23) == 0) {
                magic = strtoul(rule + 21, &end, 16);
                assert_int_equal(*end, '\0');
                *which = magic_index(shipped_pseudo_fs, ELEMENTSOF(shipped_pseudo_fs), magic);
                if (*which < ELEMENTSOF(shipped_pseudo_fs))
                        return STAGE_PSEUDO_FS;
                *which = magic_index(shipped_memory_fs, ELEMENTSOF(shipped_memory_fs), magic);
                if (*which < ELEMENTSOF(shipped_memory_fs))
                        return STAGE_MEMORY_FS;
                fail_msg("shipped policy: \"%s\" excludes a filesystem the test does not know", rule);
        }
        *which = rule_index(shipped_runs, ELEMENTSOF(shipped_runs), rule);
        if (*which < ELEMENTSOF(shipped_runs))
                return STAGE_RUNS;
        *which = rule_index(shipped_reads, ELEMENTSOF(shipped_reads), rule);
        if (*which < ELEMENTSOF(shipped_reads))
                return STAGE_READS;
        fail_msg("shipped policy: unexpected rule \"%s\"", rule);
        return 0;
}

static void test_shipped_policy(void **state) {
        static const size_t stage_size[] = {
                [STAGE_PSEUDO_FS] = ELEMENTSOF(shipped_pseudo_fs),
                [STAGE_RUNS] = ELEMENTSOF(shipped_runs),
                [STAGE_MEMORY_FS] = ELEMENTSOF(shipped_memory_fs),
                [STAGE_READS] = ELEMENTSOF(shipped_reads),
        };
        struct collected *c = malloc(sizeof(*c));
        _cleanup_(freep) uint8_t *text = NULL;
        uint32_t seen[STAGE_READS + 1] = { 0 };
        enum shipped_stage stage = STAGE_PSEUDO_FS, next;
        char *line, *save = NULL;
        size_t size, which;

        assert_non_null(c);
        text = read_vector(SHIPPED_POLICY, &size);
        assert_int_equal(split((const char *)text, size, c), 0);
        for (line = strtok_r(c->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                next = shipped_rule_stage(line, &which);
                /* e.g. tmpfs excluded before BPRM_CHECK: /dev/shm's programs would run unseen */
                if (next < stage)
                        fail_msg("shipped policy: \"%s\" comes after a rule of a later stage", line);
                if (seen[next] & (1u << which))
                        fail_msg("shipped policy: \"%s\" twice", line);
                seen[next] |= 1u << which;
                stage = next;
        }
        for (stage = STAGE_PSEUDO_FS; stage <= STAGE_READS; stage++)
                assert_int_equal(seen[stage], (1u << stage_size[stage]) - 1);
        assert_int_equal(c->count, ELEMENTSOF(shipped_pseudo_fs) + ELEMENTSOF(shipped_runs) +
                                           ELEMENTSOF(shipped_memory_fs) + ELEMENTSOF(shipped_reads));
        free(c);
}

/* Temporary policy and kernel files under /tmp. */
struct fixture {
        char policy[64];
        char kernel[64];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        int fd;

        assert_non_null(f);
        strcpy(f->policy, "/tmp/vmattest-test-ima-policy-XXXXXX");
        strcpy(f->kernel, "/tmp/vmattest-test-ima-kernel-XXXXXX");
        fd = mkstemp(f->policy);
        assert_true(fd >= 0);
        close(fd);
        fd = mkstemp(f->kernel);
        assert_true(fd >= 0);
        close(fd);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        unlink(f->policy);
        unlink(f->kernel);
        free(f);
        return 0;
}

static void write_file(const char *path, const void *data, size_t size) {
        _cleanup_(fclosep) FILE *file = fopen(path, "w");

        assert_non_null(file);
        assert_int_equal(fwrite(data, 1, size, file), size);
        assert_int_equal(fflush(file), 0);
}

static char *kernel_contents(const struct fixture *f, size_t *size) {
        return (char *)read_vector(f->kernel, size);
}

static void test_load_writes_the_rules(void **state) {
        static const char policy[] = "# tenant policy\r\n"
                                     "dont_measure fsmagic=0x9fa0\r\n"
                                     "\r\n"
                                     "  measure func=BPRM_CHECK mask=MAY_EXEC\r\n"
                                     "measure func=FILE_CHECK mask=^MAY_READ euid=0";
        struct fixture *f = *state;
        _cleanup_(freep) char *written = NULL;
        size_t size;

        write_file(f->policy, policy, strlen(policy));
        vm_error_clear();
        assert_int_equal(ima_policy_load(f->policy, f->kernel), 0);
        written = kernel_contents(f, &size);
        assert_string_equal(written, "dont_measure fsmagic=0x9fa0\n"
                                     "measure func=BPRM_CHECK mask=MAY_EXEC\n"
                                     "measure func=FILE_CHECK mask=^MAY_READ euid=0\n");
}

static void test_load_shipped_policy(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *written = NULL;
        size_t size, lines = 0;

        assert_int_equal(ima_policy_load(SHIPPED_POLICY, f->kernel), 0);
        written = kernel_contents(f, &size);
        for (size_t i = 0; i < size; i++)
                lines += written[i] == '\n';
        assert_int_equal(lines, 28);
        assert_null(strchr(written, '#'));
        assert_non_null(strstr(written, "\ndont_measure fsmagic=0x01021994\n"));
        assert_true(size > 0 && written[size - 1] == '\n');
}

/* A line refused anywhere in the file: the kernel file is not even opened. */
static void test_load_refuses_before_writing(void **state) {
        static const char policy[] = "measure func=MODULE_CHECK\nmeasure func=FIRMWARE_CHECK\n/etc/ima/policy\n";
        static const char comments_only[] = "# nothing to load\n\n";
        struct fixture *f = *state;
        _cleanup_(freep) char *written = NULL;
        struct stat st;
        size_t size;

        write_file(f->policy, policy, strlen(policy));
        assert_error(ima_policy_load(f->policy, f->kernel), -EINVAL, "line 3: \"/etc/ima/policy\" is a path");
        assert_detail_contains(-EINVAL, f->policy);
        written = kernel_contents(f, &size);
        assert_int_equal(size, 0);

        write_file(f->policy, comments_only, strlen(comments_only));
        assert_error(ima_policy_load(f->policy, f->kernel), -EINVAL, "no rules");
        assert_int_equal(stat(f->kernel, &st), 0);
        assert_int_equal(st.st_size, 0);
}

static void test_load_missing_policy(void **state) {
        struct fixture *f = *state;

        unlink(f->policy);
        assert_error(ima_policy_load(f->policy, f->kernel), -ENOENT, "no such file");
        assert_detail_contains(-ENOENT, f->policy);
}

static void test_load_too_big(void **state) {
        struct fixture *f = *state;
        _cleanup_(freep) char *big = malloc(IMA_POLICY_FILE_MAX + 1);

        assert_non_null(big);
        memset(big, '\n', IMA_POLICY_FILE_MAX + 1);
        write_file(f->policy, big, IMA_POLICY_FILE_MAX + 1);
        assert_error(ima_policy_load(f->policy, f->kernel), -EFBIG, "larger than 65536 bytes");
        assert_detail_contains(-EFBIG, f->policy);
}

static void test_load_missing_kernel_file(void **state) {
        static const char policy[] = "measure func=MODULE_CHECK\n";
        struct fixture *f = *state;

        write_file(f->policy, policy, strlen(policy));
        unlink(f->kernel);
        assert_error(ima_policy_load(f->policy, f->kernel), -ENOENT, "IMA has no writable policy");
        assert_detail_contains(-ENOENT, f->kernel);
        /* the kernel file is opened, never created */
        assert_int_equal(access(f->kernel, F_OK), -1);
}

/* A write the kernel refuses (here /dev/full's ENOSPC stands in for EINVAL): the detail
 * names the policy file, the line, the rule and the kernel file. */
static void test_load_refused_write(void **state) {
        static const char policy[] = "# first rule on line 2\nmeasure func=MODULE_CHECK\n";
        struct fixture *f = *state;

        if (access("/dev/full", W_OK) != 0) {
                skip();
                return;
        }
        write_file(f->policy, policy, strlen(policy));
        assert_error(ima_policy_load(f->policy, "/dev/full"), -ENOSPC,
                     "line 2: the kernel refused the rule \"measure func=MODULE_CHECK\" (No space left on device; "
                     "writing /dev/full)");
        assert_detail_contains(-ENOSPC, f->policy);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_comments_and_blank_lines),
                cmocka_unit_test(test_crlf_and_last_line),
                cmocka_unit_test(test_line_length),
                cmocka_unit_test(test_refused_bytes),
                cmocka_unit_test(test_path_refused),
                cmocka_unit_test(test_size_limit),
                cmocka_unit_test(test_callback_stops_the_walk),
                cmocka_unit_test(test_shipped_policy),
                T(test_load_writes_the_rules),
                T(test_load_shipped_policy),
                T(test_load_refuses_before_writing),
                T(test_load_missing_policy),
                T(test_load_too_big),
                T(test_load_missing_kernel_file),
                T(test_load_refused_write),
        };
#undef T
        return cmocka_run_group_tests_name("ima_policy", tests, NULL, NULL);
}
