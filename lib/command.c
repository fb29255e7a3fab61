#include "lib/command.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#ifndef VMATTEST_VERSION
#define VMATTEST_VERSION "0.1.0"
#endif

/* Every program's exit codes agree on these two (vmattest(8), vmattest-verifier(8), ...). */
#define COMMAND_EXIT_OK 0
#define COMMAND_EXIT_USAGE 2

static const struct command_entry *entry_at(const struct command_set *set, size_t i) {
        return (const struct command_entry *)((const char *)set->table + i * set->stride);
}

static void usage(const struct command_set *set, FILE *out) {
        fprintf(out, "Usage: %s %s\n\n%s\nCommands:\n", set->program, set->synopsis, set->about);
        for (size_t i = 0; i < set->count; i++)
                fprintf(out, "  %-*s %s\n", set->name_width, entry_at(set, i)->name, entry_at(set, i)->summary);
        fprintf(out, "  %-*s list the commands, or 'help COMMAND' for one\n", set->name_width, "help");
        fprintf(out, "  %-*s print the version\n\n%s", set->name_width, "version", set->footer);
}

static const struct command_entry *command_find(const struct command_set *set, const char *name) {
        for (size_t i = 0; i < set->count; i++)
                if (strcmp(entry_at(set, i)->name, name) == 0)
                        return entry_at(set, i);
        log_error("unknown command \"%s\" (see '%s help')", name, set->program);
        return NULL;
}

int leading_options_parse(const char *program, int argc, char **argv, unsigned accepted,
                          struct leading_options *options, int *first) {
        int i = 1;

        memset(options, 0, sizeof(*options));
        while (i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]) {
                const char *opt = argv[i] + 2, *value = NULL;
                size_t len = strcspn(opt, "=");
                bool tcti = (accepted & LEADING_TCTI) && len == 4 && strncmp(opt, "tcti", 4) == 0;
                bool config = (accepted & LEADING_CONFIG) && len == 6 && strncmp(opt, "config", 6) == 0;

                if (strcmp(opt, "verbose") == 0) {
                        options->verbose = true;
                        i++;
                        continue;
                }
                if (!tcti && !config)
                        break;
                if (opt[len] == '=')
                        value = opt + len + 1;
                else if (i + 1 < argc)
                        value = argv[++i];
                else {
                        log_error("--%s needs a value (see '%s --help')", opt, program);
                        return -EINVAL;
                }
                *(tcti ? &options->tcti : &options->config) = value;
                i++;
        }
        *first = i;
        return 0;
}

const struct command_entry *command_select(const struct command_set *set, int argc, char **argv, int first,
                                           char *help_argv[3], int *run_argc, char ***run_argv, int *exit_code) {
        const char *word = first < argc ? argv[first] : NULL;
        const struct command_entry *cmd;

        *exit_code = COMMAND_EXIT_USAGE;
        if (!word) {
                usage(set, stderr);
                return NULL;
        }
        if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 || strcmp(word, "help") == 0) {
                if (strcmp(word, "help") != 0 || first + 1 >= argc) {
                        usage(set, stdout);
                        *exit_code = COMMAND_EXIT_OK;
                        return NULL;
                }
                cmd = command_find(set, argv[first + 1]);
                if (cmd) {
                        help_argv[0] = argv[first + 1];
                        help_argv[1] = (char *)"--help";
                        help_argv[2] = NULL;
                        *run_argc = 2;
                        *run_argv = help_argv;
                }
                return cmd;
        }
        if (strcmp(word, "version") == 0 || strcmp(word, "--version") == 0) {
                printf("%s %s\n", set->program, VMATTEST_VERSION);
                *exit_code = COMMAND_EXIT_OK;
                return NULL;
        }
        cmd = command_find(set, word);
        if (cmd) {
                *run_argc = argc - first;
                *run_argv = argv + first;
        }
        return cmd;
}

int command_usage_error(const char *program, const char *command, const char *fmt, ...) {
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        log_error("%s: %s (see '%s %s --help')", command, message, program, command);
        return COMMAND_EXIT_USAGE;
}

int command_bad_option(const char *program, const char *command, int opt, char **argv) {
        const char *arg = argv[optind - 1];

        if (opt == ':')
                return command_usage_error(program, command, "option \"%s\" needs a value", arg);
        return command_usage_error(program, command, "unknown option \"%s\"", arg);
}
