#include "agent/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"

bool cli_common_option(struct cli *cli, int opt, const char *arg) {
        switch (opt) {
        case CLI_OPT_TCTI:
                cli->tcti_option = arg;
                return true;
        case CLI_OPT_CONFIG:
                cli->config_path = arg;
                cli->config_explicit = true;
                return true;
        case CLI_OPT_JSON:
                cli->json = true;
                return true;
        default:
                return false;
        }
}

int cli_load_config(struct cli *cli) {
        int ret;

        agent_config_defaults(&cli->config);
        ret = agent_config_load(cli->config_path, cli->config_explicit, &cli->config);
        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

const char *cli_tcti(const struct cli *cli) {
        const char *tcti = cli->tcti_option;

        if (!tcti)
                tcti = getenv("VMATTEST_TCTI");
        if (!tcti || !*tcti)
                tcti = cli->config.tcti[0] ? cli->config.tcti : TPM_DEFAULT_TCTI;
        return tcti;
}

void cli_config_take_tcti(struct cli *cli) {
        const char *tcti = cli_tcti(cli);

        if (tcti != cli->config.tcti)
                snprintf(cli->config.tcti, sizeof(cli->config.tcti), "%s", tcti);
}

int cli_open_tpm(const struct cli *cli, struct tpm **tpm) {
        return tpm_open(cli_tcti(cli), tpm);
}

int cli_parse_ak_handle(const char *command, const char *arg, TPM2_HANDLE *handle) {
        if (!tpm_persistent_handle_parse(arg, handle)) {
                cli_usage_error(command, "--ak-handle \"%s\" is not a persistent handle 0x81xxxxxx", arg);
                return -EINVAL;
        }
        return 0;
}

int cli_parse_wait(const char *command, const char *arg, unsigned *seconds) {
        char *end;
        long value;

        errno = 0;
        value = strtol(arg, &end, 10);
        if (errno || end == arg || *end || value < 0 || value > CLI_WAIT_MAX)
                return cli_usage_error(command, "--wait \"%s\" is not a number of seconds (0-%d)", arg, CLI_WAIT_MAX);
        *seconds = (unsigned)value;
        return EXIT_OK;
}

int cli_no_operands(const char *command, int argc, char **argv) {
        if (optind != argc)
                return cli_usage_error(command, "unexpected argument \"%s\"", argv[optind]);
        return EXIT_OK;
}

int cli_fail(int ret) {
        log_error("%s", vm_error_detail(ret));
        if (ret == -ENODEV)
                return EXIT_NO_TPM;
        return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

int cli_fail_refused(int ret) {
        if (ret != -EACCES)
                return cli_fail(ret);
        log_error("%s", vm_error_detail(ret));
        return EXIT_REFUSED;
}

void cli_print_json(json_object *obj) {
        puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
}
