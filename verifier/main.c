/* vmattest-verifier: the tenant's side. One binary, one subcommand per role or action. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/event_wipe.h"
#include "lib/log.h"
#include "lib/process_limits.h"
#include "lib/secret_file.h"
#include "verifier/commands.h"

#ifndef VMATTEST_VERSION
#define VMATTEST_VERSION "0.1.0"
#endif

static const struct command {
        const char *name;
        int (*run)(int argc, char **argv, const char *config_path);
        const char *summary;
} commands[] = {
        { "serve", cmd_serve, "run the registrar and poll enrolled agents until SIGTERM" },
        { "agents", cmd_agents, "list registered agents: id, EK hash, AK name, state, last seen" },
        { "add", cmd_add, "enroll an agent for polling, with its tpm_policy and runtime/measured-boot policies" },
        { "status", cmd_status, "show enrolled agents' attestation state and failure reasons" },
        { "list", cmd_list, "list enrolled agents" },
        { "delete", cmd_delete, "stop polling an agent" },
        { "reactivate", cmd_reactivate, "poll a failed agent again" },
        { "group", cmd_group, "enrolment groups: policies and tokens that enrol agents at registration" },
        { "evidence", cmd_evidence, "verify a saved SNP report, TDX quote, HCL report, TPM quote or event log offline" },
};

static void usage(FILE *out) {
        fputs("Usage: vmattest-verifier [--verbose] [--config FILE] COMMAND [OPTIONS]\n"
              "\n"
              "The tenant's registrar and verifier for vmattest (and Keylime) agents.\n"
              "\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fputs("  help       list the commands, or 'help COMMAND' for one\n"
              "  version    print the version\n"
              "\n"
              "Configuration: " VERIFIER_CONFIG_PATH " (see vmattest-verifier(8)).\n",
              out);
}

static const struct command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

int main(int argc, char **argv) {
        const char *config_path = VERIFIER_CONFIG_PATH;
        enum log_level level = LOG_LEVEL_INFO;
        const struct command *cmd;
        int first = 1, ret, heap;

        /* what this program creates (the database, its -wal and -shm files, the payload vault
         * key) holds registrations, policies and sealed secrets: the owner's only */
        umask(077);
        /* before any libevent call: its buffers carry enrolment tokens and escrowed keys */
        event_wipe_setup();
        opterr = 0;
        while (first < argc) {
                if (strcmp(argv[first], "--verbose") == 0)
                        level = LOG_LEVEL_DEBUG, first++;
                else if (strcmp(argv[first], "--config") == 0 && first + 1 < argc)
                        config_path = argv[first + 1], first += 2;
                else if (strncmp(argv[first], "--config=", 9) == 0)
                        config_path = argv[first] + 9, first++;
                else
                        break;
        }
        log_setup("vmattest-verifier", level);
        /* the payload vault key and tenants' key halves live in this process's memory */
        if ((ret = process_no_dumps()) < 0)
                log_warning("%s", vm_error_detail(ret));
        /* the vault key, K, U, V, opened payloads and the TLS key's text are allocated from
         * OpenSSL's secure heap: locked in memory and wiped when freed; serve refuses to run
         * without it, the tenant's commands make do */
        heap = secret_heap_setup(VERIFIER_SECRET_HEAP_SIZE);
        if (heap < 0)
                log_debug("%s: secrets use ordinary memory", vm_error_detail(heap));
        if (first >= argc) {
                usage(stderr);
                return EXIT_USAGE;
        }
        if (strcmp(argv[first], "help") == 0 || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
                if (first + 1 < argc) {
                        cmd = command_find(argv[first + 1]);
                        if (!cmd) {
                                log_error("unknown command \"%s\" (see 'vmattest-verifier help')", argv[first + 1]);
                                return EXIT_USAGE;
                        }
                        char *help_argv[] = { argv[first + 1], (char *)"--help", NULL };
                        return cmd->run(2, help_argv, config_path);
                }
                usage(stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[first], "version") == 0 || strcmp(argv[first], "--version") == 0) {
                printf("vmattest-verifier %s\n", VMATTEST_VERSION);
                return EXIT_OK;
        }
        cmd = command_find(argv[first]);
        if (!cmd) {
                log_error("unknown command \"%s\" (see 'vmattest-verifier help')", argv[first]);
                return EXIT_USAGE;
        }
        vm_error_clear(); /* each command starts without a detail left by another */
        return cmd->run(argc - first, argv + first, config_path);
}
