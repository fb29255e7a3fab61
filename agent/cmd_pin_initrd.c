/* vmattest pin-initrd: the step of `vmattest first-boot` that reports the PCR 9 of the next
 * boots, with the initrd it rebuilt, to the verifier (agent/initrd_pin.h), run on its own: to
 * finish a first boot's pin by hand, and for the tests (--initrd names the file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/first_boot_steps.h"
#include "agent/initrd_pin.h"
#include "agent/subcommands.h"
#include "lib/error.h"
#include "lib/log.h"

#define STR(x) #x
#define XSTR(x) STR(x)
#define PIN_WAIT_DEFAULT 180

static const char pin_initrd_help[] =
        "Usage: vmattest pin-initrd [--initrd FILE] [--wait SECONDS] [OPTIONS]\n"
        "\n"
        "Predicts the PCR 9 of the next boots with the initrd FILE (default: the one dracut writes for\n"
        "the running kernel, " FIRST_BOOT_INITRD_DEFAULTS "): this boot's UEFI event log\n"
        "(measuredboot_ml_path) replayed with the initrd event's digest replaced by FILE's, in each\n"
        "bank the TPM has active of sha256, sha384 and sha512, once the log replays to the TPM's PCR 9.\n"
        "Then reports it to the verifier: POST /v2.N/agents/ID/pcr9 at the registrar's TLS port, the\n"
        "agent's registered mTLS certificate as client certificate. The verifier takes it only from\n"
        "an agent of a group with --pin-first-boot-initrd, in the boot that escrowed its key, before any\n"
        "boot received that key. `vmattest first-boot` runs this after it rebuilt the initrd.\n"
        "\n"
        "Exit status: 0 pinned, 1 failed (or not attested in time, or no UEFI event log), 2 usage,\n"
        "4 refused by the verifier.\n"
        "\n"
        "      --initrd FILE    the initrd the next boots load\n"
        "      --wait SECONDS   how long to wait for the verifier (default " XSTR(PIN_WAIT_DEFAULT) ")\n" CLI_COMMON_HELP;

int cmd_pin_initrd(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "initrd", required_argument, NULL, 'i' },
                { "wait", required_argument, NULL, 'w' },
                CLI_COMMON_OPTIONS,
                {},
        };
        char initrd[4096] = "";
        unsigned wait_seconds = PIN_WAIT_DEFAULT;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'i':
                        snprintf(initrd, sizeof(initrd), "%s", optarg);
                        break;
                case 'w':
                        if ((ret = cli_parse_wait("pin-initrd", optarg, &wait_seconds)) != EXIT_OK)
                                return ret;
                        break;
                case 'h':
                        fputs(pin_initrd_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("pin-initrd", opt, argv);
                }
        }
        if ((ret = cli_no_operands("pin-initrd", argc, argv)) != EXIT_OK)
                return ret;
        if ((ret = cli_load_config(cli)) != EXIT_OK)
                return ret;
        cli_config_take_tcti(cli);
        if (!initrd[0] && (ret = first_boot_initrd_path(initrd, sizeof(initrd))) < 0)
                return cli_fail(ret);

        ret = initrd_pin_send(&cli->config, initrd, wait_seconds);
        /* -EINVAL (the config's registrar_tls is off) is a usage error, as cli_fail() makes it */
        if (ret < 0)
                return cli_fail_refused(ret);
        if (cli->json) {
                json_object *root = json_object_new_object();

                json_object_object_add(root, "pinned", json_object_new_boolean(true));
                json_object_object_add(root, "initrd", json_object_new_string(initrd));
                cli_print_json(root);
        } else
                printf("PCR 9 pinned with initrd %s: the verifier releases the key only to a boot with it\n", initrd);
        return EXIT_OK;
}
