/* agent/first_boot_record.c: vmattest's record of an instance's first boot, which lives in a
 * directory the runtime agent's user owns and is parsed as hostile: every field within its
 * rule, each once, the file bounded, every line whole; what the writer makes the parser reads
 * back, and the writer makes nothing the parser would refuse. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/first_boot_record.h"

#define GOOD                                                                                          \
        "vmattest-first-boot 1\n"                                                                     \
        "instance_id iid-0123\n"                                                                      \
        "agent_id d432fbb3-d2f1-4a97-9ef7-75bd81c00000\n"                                             \
        "registrar_ip 192.0.2.10\n"                                                                   \
        "registrar_port 8891\n"                                                                       \
        "stage enrolled\n"                                                                            \
        "at 1700000000\n"

static int parse(const char *text, struct first_boot_record *out) {
        return first_boot_record_parse(text, strlen(text), out);
}

static void test_round_trip(void **state) {
        struct first_boot_record rec, again;
        char text[FIRST_BOOT_RECORD_MAX + 1];

        (void)state;
        assert_int_equal(parse(GOOD, &rec), 0);
        assert_string_equal(rec.instance_id, "iid-0123");
        assert_string_equal(rec.agent_id, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
        assert_string_equal(rec.registrar_ip, "192.0.2.10");
        assert_int_equal(rec.registrar_port, 8891);
        assert_int_equal(rec.stage, FIRST_BOOT_ENROLLED);
        assert_int_equal(rec.at, 1700000000);
        assert_int_equal(first_boot_record_format(&rec, text, sizeof(text)), 0);
        assert_string_equal(text, GOOD);

        /* no instance id given: no line; fields in another order */
        assert_int_equal(parse("vmattest-first-boot 1\nstage done\nat 0\nregistrar_port 1\nregistrar_ip h\n"
                               "agent_id a\n",
                               &again),
                         0);
        assert_string_equal(again.instance_id, "");
        assert_int_equal(again.stage, FIRST_BOOT_DONE);
        assert_int_equal(parse("vmattest-first-boot 1\nstage initrd-in-place\nat 0\nregistrar_port 1\nregistrar_ip h\n"
                               "agent_id a\n",
                               &again),
                         0);
        assert_int_equal(again.stage, FIRST_BOOT_INITRD_IN_PLACE);
        assert_int_equal(first_boot_record_format(&again, text, sizeof(text)), 0);
        assert_null(strstr(text, "instance_id"));
        assert_int_equal(parse(text, &rec), 0);
        assert_int_equal(memcmp(&rec, &again, sizeof(rec)), 0);
        /* an instance id with a blank inside (NoCloud lets the user choose it) */
        assert_int_equal(parse("vmattest-first-boot 1\ninstance_id my vm 1\nstage registering\nat 5\n"
                               "registrar_port 65535\nregistrar_ip ::1\nagent_id a\n",
                               &rec),
                         0);
        assert_string_equal(rec.instance_id, "my vm 1");
        assert_int_equal(rec.stage, FIRST_BOOT_REGISTERING);
}

/* GOOD with `field`'s line replaced by `line` ("" removes it) */
static void with_line(const char *field, const char *line, char *out, size_t size) {
        char key[32];
        const char *at, *end;

        snprintf(key, sizeof(key), "\n%s ", field);
        at = strstr(GOOD, key) + 1;
        end = strchr(at, '\n') + 1;

        snprintf(out, size, "%.*s%s%s", (int)(at - GOOD), GOOD, line, end);
}

static void test_bad_fields(void **state) {
        static const struct {
                const char *field, *line, *detail;
        } cases[] = {
                { "instance_id", "instance_id \n", "instance_id: not 1-128 printable" },
                { "instance_id", "instance_id  leading\n", "instance_id: not 1-128" },
                { "instance_id", "instance_id trailing \n", "instance_id: not 1-128" },
                { "instance_id", "instance_id tab\there\n", "instance_id: not 1-128" },
                { "instance_id", "instance_id \x1b[2Jescape\n", "instance_id: not 1-128" },
                { "instance_id", "instance_id caf\xc3\xa9\n", "instance_id: not 1-128" },
                { "agent_id", "agent_id ../../etc\n", "agent_id: not an agent id" },
                { "agent_id", "agent_id \n", "agent_id: not an agent id" },
                { "agent_id", "", "agent_id missing" },
                { "registrar_ip", "registrar_ip a\"b\n", "registrar_ip: not a host" },
                { "registrar_ip", "registrar_ip a b\n", "registrar_ip: not a host" },
                { "registrar_port", "registrar_port 0\n", "registrar_port: not a port" },
                { "registrar_port", "registrar_port 65536\n", "registrar_port: not a port" },
                { "registrar_port", "registrar_port -1\n", "registrar_port: not a port" },
                { "registrar_port", "registrar_port 0891\n", "registrar_port: not a port" },
                { "registrar_port", "registrar_port 8891 \n", "registrar_port: not a port" },
                { "stage", "stage Done\n", "stage: not registering, enrolled, initrd-in-place or done" },
                { "stage", "stage\n", "not \"field value\"" },
                { "stage", "", "stage missing" },
                { "at", "at 99999999999999999999\n", "at: not a Unix time" },
                { "at", "at 999999999999\n", "at: not a Unix time" },
                { "at", "at 0x10\n", "at: not a Unix time" },
                { "at", "at 1700000000\nat 1700000001\n", "at given twice" },
                { "at", "At 1700000000\n", "unknown field \"At\"" },
                { "at", "at 1700000000\ntoken secret\n", "unknown field \"token\"" },
                { "at", "at 1700000000\n\n", "not \"field value\"" },
        };
        struct first_boot_record rec;
        char text[2048];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                with_line(cases[i].field, cases[i].line, text, sizeof(text));
                vm_error_clear();
                if (parse(text, &rec) != -EBADMSG)
                        fail_msg("case %zu (%s) was not refused", i, cases[i].line);
                assert_detail_contains(-EBADMSG, cases[i].detail);
                assert_string_equal(rec.agent_id, ""); /* a refused record holds nothing */
        }
        assert_error(parse("vmattest-first-boot 2\n", &rec), -EBADMSG, "line 1: not \"vmattest-first-boot 1\"");
        assert_error(parse("", &rec), -EBADMSG, "line 1: truncated");
}

/* Every cut of a good record, and a NUL byte anywhere, is refused. */
static void test_truncated_and_nul(void **state) {
        struct first_boot_record rec;
        char text[sizeof(GOOD)];
        size_t size = strlen(GOOD);

        (void)state;
        for (size_t cut = 0; cut < size; cut++) {
                vm_error_clear();
                if (first_boot_record_parse(GOOD, cut, &rec) != -EBADMSG)
                        fail_msg("the record cut at %zu bytes was accepted", cut);
        }
        for (size_t at = 0; at < size; at++) {
                memcpy(text, GOOD, sizeof(text));
                text[at] = '\0';
                if (first_boot_record_parse(text, size, &rec) == 0)
                        fail_msg("a NUL at %zu was accepted", at);
        }
        assert_error(first_boot_record_parse(GOOD, size - 1, &rec), -EBADMSG, "truncated (no newline");
}

static void test_overlong(void **state) {
        struct first_boot_record rec;
        char text[4096], long_id[200];

        (void)state;
        memset(long_id, 'i', 129);
        long_id[129] = '\0';
        with_line("instance_id", "", text, sizeof(text));
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "instance_id %s\n", long_id);
        assert_error(parse(text, &rec), -EBADMSG, "instance_id: not 1-128 printable characters");
        long_id[128] = '\0';
        with_line("instance_id", "", text, sizeof(text));
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "instance_id %s\n", long_id);
        assert_int_equal(parse(text, &rec), 0);
        assert_int_equal(strlen(rec.instance_id), 128);

        /* a line beyond any field's length, and a file beyond the record's */
        memset(long_id, 'h', 199);
        long_id[199] = '\0';
        snprintf(text, sizeof(text), "vmattest-first-boot 1\nregistrar_ip %s%s\n", long_id, long_id);
        assert_error(parse(text, &rec), -EBADMSG, "line 2: longer than 300 bytes");
        memset(text, '\n', sizeof(text));
        assert_error(first_boot_record_parse(text, FIRST_BOOT_RECORD_MAX + 1, &rec), -EBADMSG, "longer than 1024 bytes");
}

static void test_format_refuses(void **state) {
        struct first_boot_record rec;
        char text[FIRST_BOOT_RECORD_MAX + 1];

        (void)state;
        assert_int_equal(parse(GOOD, &rec), 0);
        strcpy(rec.instance_id, "bad\nline");
        assert_error(first_boot_record_format(&rec, text, sizeof(text)), -EINVAL, "outside its rule");
        assert_int_equal(parse(GOOD, &rec), 0);
        rec.stage = 0;
        assert_error(first_boot_record_format(&rec, text, sizeof(text)), -EINVAL, "outside its rule");
        assert_int_equal(parse(GOOD, &rec), 0);
        assert_error(first_boot_record_format(&rec, text, 20), -ENOSPC, "more than 20 bytes");
}

/* The file: absent, a symbolic link, not a regular file. */
static void test_read_file(void **state) {
        char dir[] = "/tmp/test-first_boot_record.XXXXXX", path[256], link_path[256];
        struct first_boot_record rec;
        int fd;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/first-boot", dir);
        snprintf(link_path, sizeof(link_path), "%s/link", dir);
        assert_int_equal(first_boot_record_read(path, &rec), -ENOENT);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, GOOD, strlen(GOOD)), (ssize_t)strlen(GOOD));
        close(fd);
        assert_int_equal(first_boot_record_read(path, &rec), 0);
        assert_int_equal(rec.stage, FIRST_BOOT_ENROLLED);
        assert_int_equal(symlink(path, link_path), 0);
        vm_error_clear();
        assert_true(first_boot_record_read(link_path, &rec) < 0);
        assert_string_equal(rec.agent_id, "");
        assert_int_equal(unlink(link_path), 0);
        assert_int_equal(mkfifo(link_path, 0600), 0);
        assert_error(first_boot_record_read(link_path, &rec), -EBADMSG, "not a regular file");
        unlink(link_path);
        unlink(path);
        rmdir(dir);
}

/* Random and mutated input: never a crash, and what is accepted formats back to itself. */
static void test_hostile(void **state) {
        uint64_t seed = FUZZ_SEED;
        struct first_boot_record rec;
        char text[FIRST_BOOT_RECORD_MAX + 1], again[FIRST_BOOT_RECORD_MAX + 1];

        (void)state;
        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t size = strlen(GOOD);

                memcpy(text, GOOD, size);
                if (i % 4 == 0) {
                        size = prng_next(&seed) % sizeof(text);
                        prng_fill(&seed, text, size);
                } else {
                        prng_mutate(&seed, (uint8_t *)text, size);
                }
                if (first_boot_record_parse(text, size, &rec) < 0)
                        continue;
                assert_int_equal(first_boot_record_format(&rec, again, sizeof(again)), 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_bad_fields),
                cmocka_unit_test(test_truncated_and_nul), cmocka_unit_test(test_overlong),
                cmocka_unit_test(test_format_refuses),   cmocka_unit_test(test_read_file),
                cmocka_unit_test(test_hostile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
