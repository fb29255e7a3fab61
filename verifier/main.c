/* vmattest-verifier: the tenant's side. One binary, one subcommand per role or action. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cleanup.h"
#include "lib/command.h"
#include "lib/error.h"
#include "lib/event_wipe.h"
#include "lib/log.h"
#include "lib/process_limits.h"
#include "lib/secret_file.h"
#include "verifier/commands.h"

static const struct command {
        struct command_entry entry; /* first: lib/command.h finds the name and summary there */
        int (*run)(int argc, char **argv, const char *config_path);
} commands[] = {
        { { "serve", "run the registrar and poll enrolled agents until SIGTERM" }, cmd_serve },
        { { "agents", "list registered agents: id, EK hash, AK name, state, last seen" }, cmd_agents },
        { { "add", "enroll an agent for polling, with its tpm_policy and runtime/measured-boot policies" }, cmd_add },
        { { "status", "show enrolled agents' attestation state and failure reasons" }, cmd_status },
        { { "list", "list enrolled agents" }, cmd_list },
        { { "delete", "stop polling an agent" }, cmd_delete },
        { { "reactivate", "poll a failed agent again" }, cmd_reactivate },
        { { "group", "enrolment groups: policies and tokens that enrol agents at registration" }, cmd_group },
        { { "evidence",
            "verify a saved SNP report, TDX quote, HCL report, TPM quote or event log offline" },
          cmd_evidence },
};

static const struct command_set command_set = {
        .program = "vmattest-verifier",
        .synopsis = "[--verbose] [--config FILE] COMMAND [OPTIONS]",
        .about = "The tenant's registrar and verifier for vmattest (and Keylime) agents.\n",
        .footer = "Configuration: " VERIFIER_CONFIG_PATH " (see vmattest-verifier(8)).\n",
        COMMAND_SET_TABLE(commands),
        .name_width = 10,
};

int main(int argc, char **argv) {
        const char *config_path = VERIFIER_CONFIG_PATH;
        struct leading_options leading;
        const struct command *cmd;
        char *help_argv[3], **run_argv = NULL;
        int first, run_argc = 0, exit_code, ret, heap;

        /* what this program creates (the database, its -wal and -shm files, the payload vault
         * key) holds registrations, policies and sealed secrets: the owner's only */
        umask(077);
        /* before any libevent call: its buffers carry enrolment tokens and escrowed keys */
        event_wipe_setup();
        opterr = 0;
        log_setup("vmattest-verifier", LOG_LEVEL_INFO); /* again below, with --verbose's level */
        if (leading_options_parse("vmattest-verifier", argc, argv, LEADING_CONFIG, &leading, &first) < 0)
                return EXIT_USAGE;
        if (leading.config)
                config_path = leading.config;
        log_setup("vmattest-verifier", leading.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
        /* the payload vault key and tenants' key halves live in this process's memory */
        if ((ret = process_no_dumps()) < 0)
                log_warning("%s", vm_error_detail(ret));
        /* the vault key, K, U, V, opened payloads and the TLS key's text are allocated from
         * OpenSSL's secure heap: locked in memory and wiped when freed; serve refuses to run
         * without it, the tenant's commands make do */
        heap = secret_heap_setup(VERIFIER_SECRET_HEAP_SIZE);
        if (heap < 0)
                log_debug("%s: secrets use ordinary memory", vm_error_detail(heap));
        cmd = (const struct command *)command_select(&command_set, argc, argv, first, help_argv, &run_argc, &run_argv,
                                                     &exit_code);
        if (!cmd)
                return exit_code;
        vm_error_clear(); /* each command starts without a detail left by another */
        return cmd->run(run_argc, run_argv, config_path);
}
