/* vmattest: the guest side of VM attestation. One binary, one subcommand per job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/command.h"
#include "lib/error.h"
#include "lib/event_wipe.h"
#include "lib/log.h"
#include "lib/process_limits.h"

static const struct subcommand {
        struct command_entry entry; /* first: lib/command.h finds the name and summary there */
        int (*run)(int argc, char **argv, struct cli *cli);
} subcommands[] = {
        { { "identity", "create or load the EK and AK; show EK certificate and AK name" }, cmd_identity },
        { { "quote", "quote PCRs with a nonce (Keylime quote string, tpm2_checkquote files)" }, cmd_quote },
        { { "pcrs", "print PCR values" }, cmd_pcrs },
        { { "extend", "extend a PCR with the hash of some data (with --reset: PCR 16)" }, cmd_extend },
        { { "register", "enroll EK, AK and mTLS certificate with the registrar, and activate" }, cmd_register },
        { { "unlock", "in the initrd: attest, receive the disk key, answer the LUKS prompt" }, cmd_unlock },
        { { "escrow", "hand this instance's own disk key (stdin) to the verifier, for the next boots" }, cmd_escrow },
        { { "measure", "extend PCR 15 with an event and log it (vmattest's measurement log)" }, cmd_measure },
        { { "serve", "register, then serve quotes and measurement lists to the verifier (mTLS)" }, cmd_serve },
        { { "provision",
            "first boot: escrow a fresh disk passphrase, re-encrypt the root, format data volumes" },
          cmd_provision },
        { { "config", "print one key of the agent's configuration as the agent reads it" }, cmd_config },
        { { "first-boot", "cloud-init's first boot: the tenant's CA and keys from user-data" }, cmd_first_boot },
        { { "pin-initrd",
            "first boot: report the next boots' PCR 9, with the rebuilt initrd, to the verifier" },
          cmd_pin_initrd },
};

static const struct command_set commands = {
        .program = "vmattest",
        .synopsis = "[--verbose] [--tcti CONF] [--config FILE] COMMAND [OPTIONS]",
        .about = "Guest agent for VM attestation with a vTPM (Keylime protocol).\n",
        .footer = "'vmattest COMMAND --help' explains one command; see vmattest(8).\n",
        COMMAND_SET_TABLE(subcommands),
        .name_width = 10,
};

int main(int argc, char **argv) {
        opterr = 0; /* subcommands report bad options themselves, with the command named */
        struct cli cli = { .config_path = AGENT_CONFIG_PATH };
        struct leading_options leading;
        const struct subcommand *cmd;
        char *help_argv[3], **run_argv = NULL;
        int first, run_argc = 0, exit_code, ret;

        /* before any libevent call: its buffers carry the enrolment token and the escrowed key */
        event_wipe_setup();
        log_setup("vmattest", LOG_LEVEL_INFO); /* again below, with --verbose's level */
        if (leading_options_parse("vmattest", argc, argv, LEADING_TCTI | LEADING_CONFIG, &leading, &first) < 0)
                return EXIT_USAGE;
        if (leading.tcti)
                cli_common_option(&cli, CLI_OPT_TCTI, leading.tcti);
        if (leading.config)
                cli_common_option(&cli, CLI_OPT_CONFIG, leading.config);
        log_setup("vmattest", leading.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
        /* the payload key, the mTLS key and released key halves live in this process's memory */
        if ((ret = process_no_dumps()) < 0)
                log_warning("%s", vm_error_detail(ret));
        /* tpm2-tss logs its own warnings to stderr; the agent reports each failure itself, once,
         * with the TPM command named. Keep the library quiet unless asked to be verbose. */
        setenv("TSS2_LOG", leading.verbose ? "all+warning" : "all+none", 0);

        cmd = (const struct subcommand *)command_select(&commands, argc, argv, first, help_argv, &run_argc, &run_argv,
                                                        &exit_code);
        if (!cmd)
                return exit_code;
        vm_error_clear(); /* each command starts without a detail left by another */
        return cmd->run(run_argc, run_argv, &cli);
}
