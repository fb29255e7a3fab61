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
#include "lib/error.h"
#include "lib/log.h"

#ifndef VMATTEST_VERSION
#define VMATTEST_VERSION "0.1.0"
#endif

static const struct subcommand {
        const char *name;
        int (*run)(int argc, char **argv, struct host_cli *cli);
        const char *summary;
} subcommands[] = {
        { "identity", cmd_host_identity, "create or load the host AK and print its public key, to publish" },
        { "provision", cmd_host_provision, "before a VM starts: quote the host's PCRs for its vTPM's EK, into the vTPM's NV" },
};

static void usage(FILE *out) {
        fputs("Usage: vmattest-host [--verbose] [--tcti CONF] [--config FILE] COMMAND [OPTIONS]\n"
              "\n"
              "The host side of VM attestation: the host's TPM vouches for this host's boot and for\n"
              "the vTPMs of the VMs it runs.\n"
              "\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++)
                fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
        fputs("  help       list the commands, or 'help COMMAND' for one\n"
              "  version    print the version\n"
              "\n"
              "'vmattest-host COMMAND --help' explains one command; see vmattest-host(8).\n",
              out);
}

static const struct subcommand *subcommand_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++)
                if (strcmp(subcommands[i].name, name) == 0)
                        return &subcommands[i];
        return NULL;
}

int host_cli_load_config(const struct host_cli *cli, struct host_config *config) {
        int ret = host_config_load(cli->config_path, cli->config_explicit, config);

        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return EXIT_USAGE;
        }
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

int host_usage_error(const char *command, const char *fmt, ...) {
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        log_error("%s: %s (see 'vmattest-host %s --help')", command, message, command);
        return EXIT_USAGE;
}

int host_bad_option(const char *command, int opt, char **argv) {
        const char *arg = argv[optind - 1];

        if (opt == ':')
                return host_usage_error(command, "option \"%s\" needs a value", arg);
        return host_usage_error(command, "unknown option \"%s\"", arg);
}

int main(int argc, char **argv) {
        struct host_cli cli = { .config_path = HOST_CONFIG_PATH };
        enum log_level level = LOG_LEVEL_INFO;
        const struct subcommand *cmd;
        int first = 1;

        opterr = 0; /* subcommands report bad options themselves, with the command named */
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
                        fprintf(stderr, "vmattest-host: --%s needs a value\n", opt);
                        return EXIT_USAGE;
                }
                if (len == 4)
                        cli.tcti_option = value;
                else
                        cli.config_path = value, cli.config_explicit = true;
                first++;
        }
        log_setup("vmattest-host", level);
        /* each failure is reported once, with the TPM command named; tpm2-tss stays quiet */
        setenv("TSS2_LOG", level == LOG_LEVEL_DEBUG ? "all+warning" : "all+none", 0);

        if (argc <= first || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
                usage(argc <= first ? stderr : stdout);
                return argc <= first ? EXIT_USAGE : EXIT_OK;
        }
        if (strcmp(argv[first], "help") == 0) {
                if (argc > first + 1) {
                        cmd = subcommand_find(argv[first + 1]);
                        if (!cmd) {
                                log_error("unknown command \"%s\" (see 'vmattest-host help')", argv[first + 1]);
                                return EXIT_USAGE;
                        }
                        char *help_argv[] = { argv[first + 1], (char *)"--help", NULL };
                        return cmd->run(2, help_argv, &cli);
                }
                usage(stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[first], "version") == 0 || strcmp(argv[first], "--version") == 0) {
                printf("vmattest-host %s\n", VMATTEST_VERSION);
                return EXIT_OK;
        }
        cmd = subcommand_find(argv[first]);
        if (!cmd) {
                log_error("unknown command \"%s\" (see 'vmattest-host help')", argv[first]);
                return EXIT_USAGE;
        }
        vm_error_clear();
        return cmd->run(argc - first, argv + first, &cli);
}
