/* What the main() of every vmattest program does alike: the options before the command, the
 * command table's usage text, `help`, `version`, and usage errors that name the command. Each
 * program keeps its own table and calls its commands with its own arguments. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The first member of each entry of a program's command table. */
struct command_entry {
        const char *name;
        const char *summary;
};

/* A program's commands: `table` is an array of `count` structs of `stride` bytes, each
 * starting with a struct command_entry. */
struct command_set {
        const char *program;  /* "vmattest" */
        const char *synopsis; /* what follows "Usage: PROGRAM " */
        const char *about;    /* the lines between the usage line and "Commands:" */
        const char *footer;   /* the lines after the command list */
        const void *table;
        size_t count, stride;
        int name_width; /* the width of the name column */
};

#define COMMAND_SET_TABLE(t) .table = (t), .count = sizeof(t) / sizeof((t)[0]), .stride = sizeof((t)[0])

/* The options that come before the command and apply to every command. */
struct leading_options {
        bool verbose;
        const char *tcti;   /* --tcti, or NULL */
        const char *config; /* --config, or NULL */
};

enum {
        LEADING_TCTI = 1u << 0,
        LEADING_CONFIG = 1u << 1,
};

/* Reads --verbose and, as `accepted` allows, --tcti and --config ("--opt VALUE" or
 * "--opt=VALUE") from argv[1]; *first becomes the index of the command. Anything else that
 * starts with "--" is left for command_select (--help, --version). -EINVAL, logged, for an
 * option without its value. */
int leading_options_parse(const char *program, int argc, char **argv, unsigned accepted,
                          struct leading_options *options, int *first);

/* What argv[first] asks for. Returns the command to run, with *run_argc and *run_argv set to
 * its arguments (its own name first; "help CMD" runs "CMD --help", built in help_argv). The
 * caller's table entry is the struct whose first member the result points to.
 * Returns NULL with *exit_code set when it answered itself: no command (the usage on stderr,
 * 2), --help/-h/help (the usage, 0), version/--version (0), an unknown command (logged, 2). */
const struct command_entry *command_select(const struct command_set *set, int argc, char **argv, int first,
                                           char *help_argv[3], int *run_argc, char ***run_argv, int *exit_code);

/* Logs "COMMAND: MESSAGE (see 'PROGRAM COMMAND --help')" and returns the usage exit code, 2. */
int command_usage_error(const char *program, const char *command, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The usage error for getopt's '?' or ':' (optstring starts with ':', so getopt stays quiet). */
int command_bad_option(const char *program, const char *command, int opt, char **argv);
