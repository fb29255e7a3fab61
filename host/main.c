/* vmattest-host: the provider's side of the host binding (docs/protocol.md §5.9): the host TPM
 * vouches for the host's boot and for each VM's vTPM. One binary, one subcommand per job. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/tpm.h"
#include "host/subcommands.h"
#include "lib/cleanup.h"
#include "lib/command.h"
#include "lib/error.h"
#include "lib/host_binding.h"
#include "lib/log.h"
#include "lib/pcr_values.h"

static const struct subcommand {
        struct command_entry entry; /* first: lib/command.h finds the name and summary there */
        int (*run)(int argc, char **argv, struct host_cli *cli);
} subcommands[] = {
        { { "identity", "create or load the host AK and print its public key, to publish" }, cmd_host_identity },
        { { "provision",
            "before a VM starts: quote the host's PCRs for its vTPM's EK, into the vTPM's NV" },
          cmd_host_provision },
        { { "serve", "the fresh mode's quote service for guests (vsock, or virtio-serial's UNIX sockets)" },
          cmd_host_serve },
};

static const struct command_set commands = {
        .program = "vmattest-host",
        .synopsis = "[--verbose] [--tcti CONF] [--config FILE] COMMAND [OPTIONS]",
        .about = "The host side of VM attestation: the host's TPM vouches for this host's boot and for\n"
                 "the vTPMs of the VMs it runs.\n",
        .footer = "'vmattest-host COMMAND --help' explains one command; see vmattest-host(8).\n",
        COMMAND_SET_TABLE(subcommands),
        .name_width = 10,
};

int host_cli_load_config(const struct host_cli *cli, const char *command, const struct host_overrides *overrides,
                         struct host_config *config) {
        int ret = host_config_load(cli->config_path, cli->config_explicit, config);

        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return EXIT_USAGE;
        }
        if (overrides->pcrs && (pcr_mask_parse(overrides->pcrs, &config->pcrs) < 0 || !config->pcrs ||
                                config->pcrs & ~HOST_BINDING_PCR_MASK))
                return host_usage_error(command, "--pcrs \"%s\" is not a list of PCRs 0-23", overrides->pcrs);
        if (overrides->ak_handle && !tpm_persistent_handle_parse(overrides->ak_handle, &config->ak_handle))
                return host_usage_error(command, "--ak-handle \"%s\" is not a persistent handle 0x81xxxxxx",
                                        overrides->ak_handle);
        return EXIT_OK;
}

const char *host_cli_tcti(const struct host_cli *cli, const struct host_config *config) {
        const char *tcti = cli->tcti_option;

        if (!tcti)
                tcti = getenv("VMATTEST_TCTI");
        if (!tcti || !*tcti)
                tcti = config->tcti[0] ? config->tcti : TPM_DEFAULT_TCTI;
        return tcti;
}

int main(int argc, char **argv) {
        struct host_cli cli = { .config_path = HOST_CONFIG_PATH };
        struct leading_options leading;
        const struct subcommand *cmd;
        char *help_argv[3], **run_argv = NULL;
        int first, run_argc = 0, exit_code;

        opterr = 0; /* subcommands report bad options themselves, with the command named */
        log_setup("vmattest-host", LOG_LEVEL_INFO);
        if (leading_options_parse("vmattest-host", argc, argv, LEADING_TCTI | LEADING_CONFIG, &leading, &first) < 0)
                return EXIT_USAGE;
        cli.tcti_option = leading.tcti;
        if (leading.config)
                cli.config_path = leading.config, cli.config_explicit = true;
        log_setup("vmattest-host", leading.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
        /* each failure is reported once, with the TPM command named; tpm2-tss stays quiet */
        setenv("TSS2_LOG", leading.verbose ? "all+warning" : "all+none", 0);

        cmd = (const struct subcommand *)command_select(&commands, argc, argv, first, help_argv, &run_argc, &run_argv,
                                                        &exit_code);
        if (!cmd)
                return exit_code;
        vm_error_clear();
        return cmd->run(run_argc, run_argv, &cli);
}
