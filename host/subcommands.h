/* The subcommands of `vmattest-host`; the table is in main.c. Exit codes are the agent's
 * (agent/cli.h, documented in vmattest-host(8)). */
#pragma once

#include <stdbool.h>

#include "host/host_config.h"
#include "lib/command.h"

struct host_cli {
        const char *config_path;
        bool config_explicit;
        const char *tcti_option; /* --tcti before the command: the host TPM */
};

/* The command line's --pcrs and --ak-handle, over host.conf's (NULL: the file's). */
struct host_overrides {
        const char *pcrs;
        const char *ak_handle;
};

/* Loads the configuration and applies `overrides`; an exit code (EXIT_OK to go on), a usage
 * error naming `command` and the option for an override that does not parse. */
int host_cli_load_config(const struct host_cli *cli, const char *command, const struct host_overrides *overrides,
                         struct host_config *config);
/* The host TPM named by --tcti, $VMATTEST_TCTI, host.conf's tcti or the default. */
const char *host_cli_tcti(const struct host_cli *cli, const struct host_config *config);

/* Logs "COMMAND: message (see 'vmattest-host COMMAND --help')" and returns EXIT_USAGE. */
#define host_usage_error(command, ...) command_usage_error("vmattest-host", command, __VA_ARGS__)
/* The usage error for getopt's '?' or ':' (optstring starts with ':'). */
#define host_bad_option(command, opt, argv) command_bad_option("vmattest-host", command, opt, argv)

int cmd_host_identity(int argc, char **argv, struct host_cli *cli);
int cmd_host_provision(int argc, char **argv, struct host_cli *cli);
int cmd_host_serve(int argc, char **argv, struct host_cli *cli);
