/* vmattest extend: extend a PCR with the hash of some data, optionally resetting it first
 * (the PCR 16 payload-key binding of docs/protocol.md §2 is a reset followed by one extend). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pcr.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/hashalg.h"

#define EXTEND_DATA_MAX (1 << 20)

static const char extend_help[] =
        "Usage: vmattest extend --pcr N (--data STR | --data-file FILE) [OPTIONS]\n"
        "\n"
        "Extends PCR N with H(data) in each active bank (or only --bank), as the kernel and Keylime\n"
        "do, and prints the PCR's new value per bank (\"bank:N: hex\"; --json: {\"bank\": hex}). With --reset the PCR is reset first; the TPM allows\n"
        "that for the debug PCR 16 (and 23) only.\n"
        "\n"
        "      --pcr N          PCR index 0-23\n"
        "      --data STR       the data (its bytes, without a terminating NUL)\n"
        "      --data-file FILE the data, read from FILE (at most 1 MiB)\n"
        "      --bank ALG       extend only this bank\n"
        "      --reset          reset the PCR first\n" CLI_COMMON_HELP;

int cmd_extend(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "pcr", required_argument, NULL, 'p' },
                { "data", required_argument, NULL, 'd' },
                { "data-file", required_argument, NULL, 'f' },
                { "bank", required_argument, NULL, 'b' },
                { "reset", no_argument, NULL, 'r' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *pcr_arg = NULL, *data_arg = NULL, *data_file = NULL, *bank_name = NULL;
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        _cleanup_(freep) char *file_data = NULL;
        TPM2_ALG_ID banks[8];
        size_t nbanks = 0, data_size = 0;
        const void *data;
        bool reset = false;
        unsigned long pcr;
        char *end;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'p':
                        pcr_arg = optarg;
                        break;
                case 'd':
                        data_arg = optarg;
                        break;
                case 'f':
                        data_file = optarg;
                        break;
                case 'b':
                        bank_name = optarg;
                        break;
                case 'r':
                        reset = true;
                        break;
                case 'h':
                        fputs(extend_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("extend", opt, argv);
                }
        }
        if ((ret = cli_no_operands("extend", argc, argv)) != EXIT_OK)
                return ret;
        if (!pcr_arg)
                return cli_usage_error("extend", "--pcr is required");
        pcr = strtoul(pcr_arg, &end, 10);
        if (!*pcr_arg || *end || pcr > 23)
                return cli_usage_error("extend", "--pcr \"%s\" is not 0-23", pcr_arg);
        if (!data_arg == !data_file)
                return cli_usage_error("extend", "give exactly one of --data and --data-file");
        if (bank_name) {
                banks[0] = hashalg_from_name(bank_name);
                if (banks[0] == TPM2_ALG_ERROR)
                        return cli_usage_error("extend", "--bank \"%s\" is not sha1, sha256, sha384 or sha512",
                                               bank_name);
                nbanks = 1;
        }
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        if (data_file) {
                ret = file_read_all(data_file, EXTEND_DATA_MAX, &file_data, &data_size);
                if (ret == -ENOENT)
                        ret = vm_error(-ENOENT, "%s: no such file", data_file);
                if (ret < 0)
                        return cli_fail(ret);
                data = file_data;
        } else {
                data = data_arg;
                data_size = strlen(data_arg);
        }

        ret = cli_open_tpm(cli, &tpm);
        if (ret >= 0 && nbanks == 0)
                ret = pcr_active_banks(tpm, banks, ELEMENTSOF(banks), &nbanks);
        if (ret >= 0 && reset)
                ret = pcr_reset(tpm, (unsigned)pcr);
        if (ret >= 0)
                ret = pcr_extend_data(tpm, (unsigned)pcr, banks, nbanks, data, data_size);
        json_object *root = cli->json ? json_object_new_object() : NULL;
        for (size_t i = 0; ret >= 0 && i < nbanks; i++) {
                struct pcr_values values;

                ret = pcr_read(tpm, banks[i], 1u << pcr, &values);
                if (ret >= 0) {
                        _cleanup_(freep) char *hex = hex_encode(values.value[pcr].buffer, values.value[pcr].size);

                        if (!hex)
                                ret = -ENOMEM;
                        else if (root)
                                json_object_object_add(root, hashalg_name(banks[i]), json_object_new_string(hex));
                        else
                                printf("%s:%lu: %s\n", hashalg_name(banks[i]), pcr, hex);
                }
        }
        if (ret < 0) {
                json_object_put(root);
                return cli_fail(ret);
        }
        if (root)
                cli_print_json(root);
        return EXIT_OK;
}
