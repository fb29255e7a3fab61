/* What every subcommand shares: options common to all, the loaded agent config, the TPM
 * connection, exit codes and JSON output. */
#pragma once

#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "agent/config.h"
#include "agent/tpm.h"
#include "lib/command.h"

/* Exit codes scripts can tell apart (documented in vmattest(8)). */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,     /* the operation failed */
        EXIT_USAGE = 2,      /* bad command line or config */
        EXIT_NO_TPM = 3,     /* the TPM could not be reached */
        EXIT_REFUSED = 4,    /* the verifier refused (escrow) */
};

struct cli {
        const char *config_path;
        bool config_explicit;
        const char *tcti_option;
        bool json;
        struct agent_config config;
};

/* Long options every subcommand accepts, and their handling; CLI_COMMON_SHORT lists none. */
#define CLI_OPT_TCTI 0x1000
#define CLI_OPT_CONFIG 0x1001
#define CLI_OPT_JSON 0x1002
#define CLI_COMMON_OPTIONS                                                    \
        { "tcti", required_argument, NULL, CLI_OPT_TCTI },                    \
        { "config", required_argument, NULL, CLI_OPT_CONFIG },                \
        { "json", no_argument, NULL, CLI_OPT_JSON },                          \
        { "help", no_argument, NULL, 'h' }

#define CLI_COMMON_HELP                                                                      \
        "      --tcti CONF      TPM access (default: $VMATTEST_TCTI, the config's tcti, or\n"  \
        "                       " TPM_DEFAULT_TCTI ")\n"                                      \
        "      --config FILE    agent config (default " AGENT_CONFIG_PATH ")\n"               \
        "      --json           print the result as JSON\n"                                   \
        "  -h, --help           show this help\n"

/* Handles a common option; returns false when `opt` is not one. */
bool cli_common_option(struct cli *cli, int opt, const char *arg);
/* Loads the config file; returns an exit code (EXIT_OK to go on). */
int cli_load_config(struct cli *cli);
/* The TPM named by --tcti, $VMATTEST_TCTI, the config or the default. */
const char *cli_tcti(const struct cli *cli);
/* Puts cli_tcti()'s TPM into the loaded config, for the clients that open config->tcti (escrow,
 * the PCR 9 pin): --tcti and $VMATTEST_TCTI reach them too. */
void cli_config_take_tcti(struct cli *cli);
int cli_open_tpm(const struct cli *cli, struct tpm **tpm);
/* Prints a usage error with the subcommand's name and returns EXIT_USAGE. */
#define cli_usage_error(command, ...) command_usage_error("vmattest", command, __VA_ARGS__)
/* The usage error for getopt's '?' or ':' (optstring starts with ':', so getopt stays quiet). */
#define cli_bad_option(command, opt, argv) command_bad_option("vmattest", command, opt, argv)
/* --wait SECONDS, 0 to a day: EXIT_OK, or the usage error (logged). */
#define CLI_WAIT_MAX 86400
int cli_parse_wait(const char *command, const char *arg, unsigned *seconds);
/* After getopt: EXIT_OK when no operand is left, else the usage error naming the first. */
int cli_no_operands(const char *command, int argc, char **argv);
/* --ak-handle: a persistent handle 0x81xxxxxx; a usage error (logged) otherwise. */
int cli_parse_ak_handle(const char *command, const char *arg, TPM2_HANDLE *handle);
/* Logs the recorded error detail of `ret` and returns the exit code for it. */
int cli_fail(int ret);
/* cli_fail(), but EXIT_REFUSED for the verifier's refusal (-EACCES): a request it answered no. */
int cli_fail_refused(int ret);
/* Prints `obj` pretty, newline-terminated, and releases it. */
void cli_print_json(json_object *obj);
