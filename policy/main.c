/* vmattest-policy: makes the tenant's policies from an image and a reference boot. One binary,
 * one subcommand per kind of policy. */
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "policy/commands.h"

#ifndef VMATTEST_VERSION
#define VMATTEST_VERSION "0.1.0"
#endif

static const struct command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
        { "runtime", cmd_runtime, "a Keylime runtime policy (IMA) from an image tree, an IMA list, a policy" },
        { "measured-boot", cmd_measured_boot, "vmattest-verifier's measured-boot policy from an event log or files" },
};

static void usage(FILE *out) {
        fputs("Usage: vmattest-policy COMMAND [OPTIONS]\n"
              "\n"
              "Makes the tenant's policies for vmattest-verifier (and Keylime) from an image and a\n"
              "reference boot.\n"
              "\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
        fputs("  help           list the commands, or 'help COMMAND' for one\n"
              "  version        print the version\n"
              "\n"
              "See vmattest-policy(1).\n",
              out);
}

static const struct command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

int main(int argc, char **argv) {
        const struct command *cmd;

        log_setup("vmattest-policy", LOG_LEVEL_INFO);
        if (argc < 2) {
                usage(stderr);
                return EXIT_USAGE;
        }
        if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                if (argc > 2) {
                        cmd = command_find(argv[2]);
                        if (!cmd) {
                                log_error("unknown command \"%s\" (see 'vmattest-policy help')", argv[2]);
                                return EXIT_USAGE;
                        }
                        char *help_argv[] = { argv[2], (char *)"--help", NULL };
                        return cmd->run(2, help_argv);
                }
                usage(stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
                printf("vmattest-policy %s\n", VMATTEST_VERSION);
                return EXIT_OK;
        }
        cmd = command_find(argv[1]);
        if (!cmd) {
                log_error("unknown command \"%s\" (see 'vmattest-policy help')", argv[1]);
                return EXIT_USAGE;
        }
        return cmd->run(argc - 1, argv + 1);
}
