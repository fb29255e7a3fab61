/* lib/command.c: the options before the command, and what a command line asks for, with a
 * table of its own here whose entries carry more than the name and summary (as the programs'
 * tables do), so that a wrong stride would find the wrong entry. */
#include "tests/unit/unit.h"

#include "lib/command.h"

struct test_command {
        struct command_entry entry;
        int tag;
        char padding[40];
};

static const struct test_command table[] = {
        { { "alpha", "the first" }, 1, "" },
        { { "beta", "the second" }, 2, "" },
        { { "gamma-ray", "the third" }, 3, "" },
};

static const struct command_set set = {
        .program = "test-command",
        .synopsis = "COMMAND",
        .about = "A test.\n",
        .footer = "The end.\n",
        COMMAND_SET_TABLE(table),
        .name_width = 10,
};

struct selection {
        const struct test_command *cmd;
        char *help_argv[3];
        char **run_argv;
        int run_argc, exit_code;
};

static void select_from(int argc, char **argv, int first, struct selection *s) {
        memset(s, 0, sizeof(*s));
        s->exit_code = -1;
        s->cmd = (const struct test_command *)command_select(&set, argc, argv, first, s->help_argv, &s->run_argc,
                                                             &s->run_argv, &s->exit_code);
}

static void test_leading_options(void **state) {
        char *argv[] = { "prog", "--verbose", "--tcti", "swtpm:port=1", "--config=/x.conf", "beta", "--tcti", "y",
                         NULL };
        struct leading_options options;
        int first = -1;

        (void)state;
        assert_int_equal(leading_options_parse("prog", 8, argv, LEADING_TCTI | LEADING_CONFIG, &options, &first), 0);
        assert_true(options.verbose);
        assert_string_equal(options.tcti, "swtpm:port=1");
        assert_string_equal(options.config, "/x.conf");
        assert_int_equal(first, 5); /* the command's own --tcti is its own */
}

static void test_leading_options_not_accepted_stop(void **state) {
        char *argv[] = { "prog", "--tcti", "x", "beta", NULL };
        struct leading_options options;
        int first = -1;

        (void)state;
        /* a program without --tcti sees it where the command should be, and says so there */
        assert_int_equal(leading_options_parse("prog", 4, argv, LEADING_CONFIG, &options, &first), 0);
        assert_null(options.tcti);
        assert_int_equal(first, 1);
}

static void test_leading_option_without_value(void **state) {
        char *argv[] = { "prog", "--config", NULL };
        struct leading_options options;
        int first = -1;

        (void)state;
        assert_int_equal(leading_options_parse("prog", 2, argv, LEADING_CONFIG, &options, &first), -EINVAL);
}

static void test_select_runs_the_named_command(void **state) {
        char *argv[] = { "prog", "--verbose", "gamma-ray", "--x", "y", NULL };
        struct selection s;

        (void)state;
        select_from(5, argv, 2, &s);
        assert_non_null(s.cmd);
        assert_int_equal(s.cmd->tag, 3);
        assert_int_equal(s.run_argc, 3);
        assert_ptr_equal(s.run_argv, argv + 2);
}

static void test_help_command_runs_it_with_help(void **state) {
        char *argv[] = { "prog", "help", "beta", NULL };
        struct selection s;

        (void)state;
        select_from(3, argv, 1, &s);
        assert_non_null(s.cmd);
        assert_int_equal(s.cmd->tag, 2);
        assert_int_equal(s.run_argc, 2);
        assert_string_equal(s.run_argv[0], "beta");
        assert_string_equal(s.run_argv[1], "--help");
        assert_null(s.run_argv[2]);
}

static void test_answered_here(void **state) {
        char *none[] = { "prog", NULL }, *help[] = { "prog", "--help", NULL }, *version[] = { "prog", "version", NULL };
        char *unknown[] = { "prog", "delta", NULL }, *help_unknown[] = { "prog", "help", "delta", NULL };
        struct selection s;

        (void)state;
        select_from(1, none, 1, &s);
        assert_null(s.cmd);
        assert_int_equal(s.exit_code, 2);
        select_from(2, help, 1, &s);
        assert_null(s.cmd);
        assert_int_equal(s.exit_code, 0);
        select_from(2, version, 1, &s);
        assert_null(s.cmd);
        assert_int_equal(s.exit_code, 0);
        select_from(2, unknown, 1, &s);
        assert_null(s.cmd);
        assert_int_equal(s.exit_code, 2);
        select_from(3, help_unknown, 1, &s);
        assert_null(s.cmd);
        assert_int_equal(s.exit_code, 2);
}

static void test_usage_error_code(void **state) {
        (void)state;
        assert_int_equal(command_usage_error("prog", "beta", "bad %s", "thing"), 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_leading_options),
                cmocka_unit_test(test_leading_options_not_accepted_stop),
                cmocka_unit_test(test_leading_option_without_value),
                cmocka_unit_test(test_select_runs_the_named_command),
                cmocka_unit_test(test_help_command_runs_it_with_help),
                cmocka_unit_test(test_answered_here),
                cmocka_unit_test(test_usage_error_code),
        };

        return cmocka_run_group_tests_name("command", tests, NULL, NULL);
}
