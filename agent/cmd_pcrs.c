/* vmattest pcrs: the PCR values of one bank. */
#include <stdio.h>
#include <string.h>

#include "agent/pcr.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"

static const char pcrs_help[] =
        "Usage: vmattest pcrs [OPTIONS]\n"
        "\n"
        "Prints the bank's name, then one PCR a line (\"  N: hex\"); with --json an object\n"
        "{\"bank\": ..., \"pcrs\": {\"N\": hex}}.\n"
        "\n"
        "      --bank ALG       sha1, sha256, sha384 or sha512 (default: tpm_hash_alg)\n"
        "      --pcrs LIST      \"0,1,16\", \"0-9\" or \"all\" (default all)\n" CLI_COMMON_HELP;

int cmd_pcrs(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "bank", required_argument, NULL, 'b' },
                { "pcrs", required_argument, NULL, 'p' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *bank_name = NULL, *list = "all";
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        struct pcr_values values;
        TPM2_ALG_ID bank;
        uint32_t mask;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'b':
                        bank_name = optarg;
                        break;
                case 'p':
                        list = optarg;
                        break;
                case 'h':
                        fputs(pcrs_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("pcrs", opt, argv);
                }
        }
        if ((ret = cli_no_operands("pcrs", argc, argv)) != EXIT_OK)
                return ret;
        if (pcr_mask_parse(list, &mask) < 0)
                return cli_usage_error("pcrs", "--pcrs: %s", vm_error_detail(-EINVAL));
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        bank = bank_name ? hashalg_from_name(bank_name) : cli->config.tpm_hash_alg;
        if (bank == TPM2_ALG_ERROR)
                return cli_usage_error("pcrs", "--bank \"%s\" is not sha1, sha256, sha384 or sha512", bank_name);

        ret = cli_open_tpm(cli, &tpm);
        if (ret >= 0)
                ret = pcr_read(tpm, bank, mask, &values);
        if (ret < 0)
                return cli_fail(ret);

        json_object *root = cli->json ? json_object_new_object() : NULL, *pcrs = NULL;
        if (root) {
                pcrs = json_object_new_object();
                json_object_object_add(root, "bank", json_object_new_string(hashalg_name(bank)));
                json_object_object_add(root, "pcrs", pcrs);
        } else
                printf("%s:\n", hashalg_name(bank));
        for (unsigned i = 0; i < PCR_MAX; i++) {
                if (!(mask & (1u << i)))
                        continue;
                _cleanup_(freep) char *hex = hex_encode(values.value[i].buffer, values.value[i].size);
                char key[8];

                if (!hex)
                        return cli_fail(-ENOMEM);
                snprintf(key, sizeof(key), "%u", i);
                if (root)
                        json_object_object_add(pcrs, key, json_object_new_string(hex));
                else
                        printf("  %2u: %s\n", i, hex);
        }
        if (root)
                cli_print_json(root);
        return EXIT_OK;
}
