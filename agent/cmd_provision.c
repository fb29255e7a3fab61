/* vmattest provision: the first boot's disk work (vmattest(8), PROVISION). A fresh instance
 * passphrase, escrowed with the verifier before any disk changes (agent/escrow_client.h), then
 * the root re-encrypted under a fresh volume key and data volumes formatted, in the order of
 * agent/luks_provision.h, so that an interruption leaves every volume openable and a rerun
 * converges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/escrow_client.h"
#include "agent/provision.h"
#include "agent/subcommands.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secret_file.h"

#define SECURE_HEAP_SIZE (256 * 1024) /* the passphrases, and the escrow's mTLS key and TLS session */

static const char provision_help[] =
        "Usage: vmattest provision [OPTIONS] VOLUME...\n"
        "\n"
        "The first boot's disk work. Makes a fresh instance passphrase, escrows it with the verifier\n"
        "(the registrar's TLS port, the agent's mTLS identity), then: the root (VOLUME \"root\": the\n"
        "LUKS2 volume / is mounted from) is re-encrypted online under a fresh volume key and keeps\n"
        "one keyslot, the instance passphrase's; a data volume (a device path) is formatted LUKS2\n"
        "with it. An interrupted run is resumed by running it again. Exit 0 when every volume is\n"
        "provisioned (also when an earlier run finished: nothing is escrowed then).\n"
        "\n"
        "      --provisioning-key-file FILE  the image's provisioning passphrase, its bytes as they\n"
        "                       are (default " PROVISIONING_KEY_PATH ")\n"
        "      --wait SECONDS   how long the escrow retries until the verifier attested this\n"
        "                       boot (default 180)\n" CLI_COMMON_HELP;

/* Every failure after the command line is exit status 1 (vmattest(8), PROVISION), but the
 * verifier's refusal of the escrow (4): a refused volume or a bad header is not a usage error. */
static int provision_fail(int ret) {
        log_error("%s", vm_error_detail(ret));
        return EXIT_FAILED;
}

int cmd_provision(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "provisioning-key-file", required_argument, NULL, 'p' },
                { "wait", required_argument, NULL, 'w' },
                CLI_COMMON_OPTIONS,
                {},
        };
        struct provisioned_volume done[PROVISION_VOLUMES_MAX];
        struct provision_request request = { .provisioning_key_path = PROVISIONING_KEY_PATH,
                                             .wait_seconds = ESCROW_WAIT_DEFAULT };
        unsigned long wait_seconds;
        bool escrowed;
        char *end;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'p':
                        request.provisioning_key_path = optarg;
                        break;
                case 'w':
                        wait_seconds = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || wait_seconds > 86400)
                                return cli_usage_error("provision", "--wait \"%s\" is not 0-86400 seconds", optarg);
                        request.wait_seconds = (unsigned)wait_seconds;
                        break;
                case 'h':
                        fputs(provision_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("provision", opt, argv);
                }
        }
        if (optind == argc)
                return cli_usage_error("provision", "name the volumes: root and/or data volume devices");
        if (argc - optind > PROVISION_VOLUMES_MAX)
                return cli_usage_error("provision", "more than %d volumes", PROVISION_VOLUMES_MAX);
        for (int i = optind; i < argc; i++) {
                for (int j = optind; j < i; j++)
                        if (strcmp(argv[i], argv[j]) == 0)
                                return cli_usage_error("provision", "volume \"%s\" named twice", argv[i]);
                if (strcmp(argv[i], "root") != 0 && argv[i][0] != '/')
                        return cli_usage_error("provision", "volume \"%s\" is neither root nor a device path", argv[i]);
        }
        request.volumes = (const char *const *)&argv[optind];
        request.count = (size_t)(argc - optind);
        if ((ret = cli_load_config(cli)) != EXIT_OK)
                return ret;
        /* the passphrases live in locked memory only */
        if ((ret = secret_heap_setup(SECURE_HEAP_SIZE)) < 0)
                return provision_fail(ret);
        ret = provision_run(&cli->config, &request, done, &escrowed);
        if (ret == -EACCES) {
                log_error("provision: %s; no disk changed", vm_error_detail(ret));
                return EXIT_REFUSED;
        }
        if (ret >= 0)
                ret = provision_drop_provisioning(&request);
        if (ret < 0)
                return provision_fail(ret);
        return EXIT_OK;
}
