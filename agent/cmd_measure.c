/* vmattest measure: extend PCR 15 with an event and log it (docs/protocol.md §5.2), for the image's
 * own boot steps; `unlock` records its own events the same way. */
#include <stdio.h>
#include <string.h>

#include "agent/measure.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static const char measure_help[] =
        "Usage: vmattest measure --event NAME --data STR [OPTIONS]\n"
        "\n"
        "Extends PCR 15 with H(NAME || 0x00 || STR) in the tpm_hash_alg bank and appends the record\n"
        "to the agent's measurement log (vmattest_ml_path, one TCG CEL JSON record a line, under a\n"
        "lock), which the verifier replays to PCR 15. NAME: 1-32 characters a-z 0-9 -.\n"
        "The verifier releases no key once the log holds leave-initrd or any event other than\n"
        "root-identity (it counts those as a key release): never measure a custom event in the\n"
        "initrd before the unlock.\n"
        "\n"
        "      --event NAME     the event (root-identity, key-released, leave-initrd, ...)\n"
        "      --data STR       what is measured (at most 2048 bytes)\n" CLI_COMMON_HELP;

static bool event_name_valid(const char *name) {
        size_t len = strlen(name);

        if (len == 0 || len > 32)
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

int cmd_measure(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "event", required_argument, NULL, 'e' },
                { "data", required_argument, NULL, 'd' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *event = NULL, *data = NULL;
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'e':
                        event = optarg;
                        break;
                case 'd':
                        data = optarg;
                        break;
                case 'h':
                        fputs(measure_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("measure", opt, argv);
                }
        }
        if ((ret = cli_no_operands("measure", argc, argv)) != EXIT_OK)
                return ret;
        if (!event || !data)
                return cli_usage_error("measure", "--event and --data are required");
        if (!event_name_valid(event))
                return cli_usage_error("measure", "--event \"%s\" is not 1-32 characters a-z 0-9 -", event);
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        ret = cli_open_tpm(cli, &tpm);
        if (ret >= 0)
                ret = measure_event(tpm, &cli->config, event, data);
        if (ret < 0)
                return cli_fail(ret);
        printf("PCR 15 extended with %s\n", event);
        return EXIT_OK;
}
