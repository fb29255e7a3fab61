/* The subcommands of vmattest-policy; the table is in main.c. */
#pragma once

#include <getopt.h>
#include <stdio.h>

#include "lib/command.h"
#include "lib/log.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1, /* the policy could not be made */
        EXIT_USAGE = 2,  /* bad command line */
};

/* Logs "COMMAND: message (see 'vmattest-policy COMMAND --help')" and returns EXIT_USAGE. */
#define policy_usage_error(command, ...) command_usage_error("vmattest-policy", command, __VA_ARGS__)
/* The usage error for getopt's '?' or ':' (optstring starts with ':'). */
#define policy_bad_option(command, opt, argv) command_bad_option("vmattest-policy", command, opt, argv)

/* The options every command takes (its optstring has POLICY_COMMON_SHORT), and their handling:
 * an option of these, or getopt's '?' or ':', gives EXIT_OK to go on, -1 after --help (`help`
 * printed) or EXIT_USAGE (logged). */
#define POLICY_COMMON_OPTIONS                                 \
        { "output", required_argument, NULL, 'o' },           \
        { "quiet", no_argument, NULL, 'q' },                  \
        { "verbose", no_argument, NULL, 'v' },                \
        { "help", no_argument, NULL, 'h' }
#define POLICY_COMMON_SHORT "o:qvh"
int policy_common_option(const char *command, const char *help, int opt, char **argv, const char **output,
                         enum log_level *level);
/* The exit code of a command whose work returned `ret`: EXIT_OK, or EXIT_FAILED with the error
 * logged. */
int policy_exit_code(int ret);

int cmd_runtime(int argc, char **argv);
int cmd_measured_boot(int argc, char **argv);

/* Writes what `write` produces to `path` through a temporary file renamed over it, so that a
 * failed run leaves no half-written policy (stdout when `path` is NULL or "-"; a path that
 * exists and is no regular file, /dev/null or a FIFO, is written as it is). */
int output_write(const char *path, int (*write)(FILE *out, const void *data), const void *data);
