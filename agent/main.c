/* vmattest: the guest side of VM attestation. One binary, one subcommand per job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/event_wipe.h"
#include "lib/log.h"
#include "lib/process_limits.h"

#ifndef VMATTEST_VERSION
#define VMATTEST_VERSION "0.1.0"
#endif

static const struct subcommand {
        const char *name;
        int (*run)(int argc, char **argv, struct cli *cli);
        const char *summary;
} subcommands[] = {
        { "identity", cmd_identity, "create or load the EK and AK; show EK certificate and AK name" },
        { "quote", cmd_quote, "quote PCRs with a nonce (Keylime quote string, tpm2_checkquote files)" },
        { "pcrs", cmd_pcrs, "print PCR values" },
        { "extend", cmd_extend, "extend a PCR with the hash of some data (with --reset: PCR 16)" },
        { "register", cmd_register, "enroll EK, AK and mTLS certificate with the registrar, and activate" },
        { "unlock", cmd_unlock, "in the initrd: attest, receive the disk key, answer the LUKS prompt" },
        { "escrow", cmd_escrow, "hand this instance's own disk key (stdin) to the verifier, for the next boots" },
        { "measure", cmd_measure, "extend PCR 15 with an event and log it (vmattest's measurement log)" },
        { "serve", cmd_serve, "register, then serve quotes and measurement lists to the verifier (mTLS)" },
        { "provision", cmd_provision, "first boot: escrow a fresh disk passphrase, re-encrypt the root, format data volumes" },
        { "config", cmd_config, "print one key of the agent's configuration as the agent reads it" },
        { "first-boot", cmd_first_boot, "cloud-init's first boot: the tenant's CA and keys from user-data" },
        { "pin-initrd", cmd_pin_initrd, "first boot: report the next boots' PCR 9, with the rebuilt initrd, to the verifier" },
};

static void usage(FILE *out) {
        fputs("Usage: vmattest [--verbose] [--tcti CONF] [--config FILE] COMMAND [OPTIONS]\n"
              "\n"
              "Guest agent for VM attestation with a vTPM (Keylime protocol).\n"
              "\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++)
                fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
        fputs("  help       list the commands, or 'help COMMAND' for one\n"
              "  version    print the version\n"
              "\n"
              "'vmattest COMMAND --help' explains one command; see vmattest(8).\n",
              out);
}

static const struct subcommand *subcommand_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++)
                if (strcmp(subcommands[i].name, name) == 0)
                        return &subcommands[i];
        return NULL;
}

int main(int argc, char **argv) {
        opterr = 0; /* subcommands report bad options themselves, with the command named */
        struct cli cli = { .config_path = AGENT_CONFIG_PATH };
        enum log_level level = LOG_LEVEL_INFO;
        const struct subcommand *cmd;
        int first = 1, ret;

        /* before any libevent call: its buffers carry the enrolment token and the escrowed key */
        event_wipe_setup();
        log_setup("vmattest", level); /* again below, with --verbose's level */
        /* Options before the command apply to every command: --verbose, --tcti, --config. */
        while (first < argc && argv[first][0] == '-' && argv[first][1] == '-' && argv[first][2]) {
                const char *opt = argv[first] + 2, *value = NULL;
                size_t len = strcspn(opt, "=");

                if (strcmp(opt, "verbose") == 0) {
                        level = LOG_LEVEL_DEBUG;
                        first++;
                        continue;
                }
                if (!((len == 4 && strncmp(opt, "tcti", 4) == 0) || (len == 6 && strncmp(opt, "config", 6) == 0)))
                        break;
                if (opt[len] == '=')
                        value = opt + len + 1;
                else if (first + 1 < argc)
                        value = argv[++first];
                else {
                        log_error("--%s needs a value", opt);
                        return EXIT_USAGE;
                }
                cli_common_option(&cli, len == 4 ? CLI_OPT_TCTI : CLI_OPT_CONFIG, value);
                first++;
        }
        log_setup("vmattest", level);
        /* the payload key, the mTLS key and released key halves live in this process's memory */
        if ((ret = process_no_dumps()) < 0)
                log_warning("%s", vm_error_detail(ret));
        /* tpm2-tss logs its own warnings to stderr; the agent reports each failure itself, once,
         * with the TPM command named. Keep the library quiet unless asked to be verbose. */
        setenv("TSS2_LOG", level == LOG_LEVEL_DEBUG ? "all+warning" : "all+none", 0);

        if (argc <= first || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
                usage(argc <= first ? stderr : stdout);
                return argc <= first ? EXIT_USAGE : EXIT_OK;
        }
        if (strcmp(argv[first], "help") == 0) {
                if (argc > first + 1) {
                        cmd = subcommand_find(argv[first + 1]);
                        if (!cmd) {
                                log_error("unknown command \"%s\" (see 'vmattest help')", argv[first + 1]);
                                return EXIT_USAGE;
                        }
                        char *help_argv[] = { argv[first + 1], (char *)"--help", NULL };
                        return cmd->run(2, help_argv, &cli);
                }
                usage(stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[first], "version") == 0 || strcmp(argv[first], "--version") == 0) {
                printf("vmattest %s\n", VMATTEST_VERSION);
                return EXIT_OK;
        }
        cmd = subcommand_find(argv[first]);
        if (!cmd) {
                log_error("unknown command \"%s\" (see 'vmattest help')", argv[first]);
                return EXIT_USAGE;
        }
        vm_error_clear(); /* each command starts without a detail left by another */
        return cmd->run(argc - first, argv + first, &cli);
}
