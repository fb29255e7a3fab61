/* vmattest measure: extend PCR 15 with an event and log it (docs/protocol.md §5.2), for the image's
 * own boot steps; `unlock` records its own events the same way. `--list` prints the log. */
#include <stdio.h>
#include <string.h>

#include "agent/measure.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/display.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/measurement_log.h"

static const char measure_help[] =
        "Usage: vmattest measure --event NAME --data STR [OPTIONS]\n"
        "       vmattest measure --list [OPTIONS]\n"
        "\n"
        "Extends PCR 15 with H(NAME || 0x00 || STR) in each active bank and appends the record to\n"
        "the agent's measurement log (vmattest_ml_path, a TCG crypto-agile event log, under a lock),\n"
        "which the verifier replays to PCR 15. NAME: 1-32 characters a-z 0-9 -.\n"
        "The verifier releases no key once the log holds leave-initrd or any event other than\n"
        "root-identity (it counts those as a key release): never measure a custom event in the\n"
        "initrd before the unlock.\n"
        "\n"
        "      --event NAME     the event (root-identity, key-released, leave-initrd, ...)\n"
        "      --data STR       what is measured (at most 2048 bytes)\n"
        "      --list           print the log's records instead: number, event, data (escaped)\n" CLI_COMMON_HELP;

static bool event_name_valid(const char *name) {
        size_t len = strlen(name);

        if (len == 0 || len > 32)
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static int print_record(unsigned record, const char *event, const uint8_t *data, size_t size, void *user) {
        char name[4 * MEASUREMENT_EVENT_MAX + 1], shown[4 * MEASUREMENT_DATA_MAX + 1];

        /* a record is whatever was appended to the file: never print its bytes raw */
        display_escape(event ? event : "(not-a-vmattest-record)", strlen(event ? event : "(not-a-vmattest-record)"),
                       name, sizeof(name));
        display_escape((const char *)data, size, shown, sizeof(shown));
        printf("%u %s %s\n", record, name, shown);
        return 0;
}

/* The records as the verifier reads them (their digests are for the verifier to check). */
static int list_log(const struct agent_config *config) {
        _cleanup_(freep) char *log = NULL;
        size_t size;
        int ret = file_read_all(config->vmattest_ml_path, MEASUREMENT_LOG_MAX, &log, &size);

        if (ret == -ENOENT)
                return 0; /* nothing measured in this boot yet */
        if (ret >= 0)
                ret = measurement_log_foreach((const uint8_t *)log, size, print_record, NULL);
        return ret < 0 ? vm_error(ret, "%s: %s", config->vmattest_ml_path, vm_error_detail(ret)) : 0;
}

int cmd_measure(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "event", required_argument, NULL, 'e' },
                { "data", required_argument, NULL, 'd' },
                { "list", no_argument, NULL, 'l' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *event = NULL, *data = NULL;
        bool list = false;
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
                case 'l':
                        list = true;
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
        if (list && (event || data))
                return cli_usage_error("measure", "--list takes no --event or --data");
        if (list) {
                ret = cli_load_config(cli);
                if (ret != EXIT_OK)
                        return ret;
                ret = list_log(&cli->config);
                return ret < 0 ? cli_fail(ret) : EXIT_OK;
        }
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
