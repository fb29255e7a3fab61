/* vmattest quote: a TPM2_Quote over chosen PCRs with the verifier's nonce, as Keylime's quote
 * string, and optionally as the files tpm2_checkquote reads. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ak.h"
#include "agent/platform_ak.h"
#include "agent/quote.h"
#include "agent/subcommands.h"
#include "agent/tsm_evidence.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/tpm2b.h"

static const char quote_help[] =
        "Usage: vmattest quote --nonce STR --pcrs LIST [OPTIONS]\n"
        "\n"
        "Quotes the PCRs in LIST (\"0,1,16\", \"0-9\" or \"all\") of one bank with the AK, using STR's\n"
        "bytes as the quote's extraData, and prints Keylime's quote string\n"
        "(r<TPMS_ATTEST>:<TPMT_SIGNATURE>:<pcrblob>, each base64). On a confidential VM (the\n"
        "config's platform_report), the hardware report bound to STR, the AK and the EK follows as\n"
        "platform_evidence (a second line of JSON, or a member with --json).\n"
        "\n"
        "      --nonce STR      the verifier's nonce (1-64 bytes)\n"
        "      --pcrs LIST      PCRs to quote\n"
        "      --bank ALG       PCR bank, equal to the AK's signing hash (default: tpm_hash_alg)\n"
        "      --ak-handle H    persistent AK handle (default: the config's ak_handle, 0x81010002)\n"
        "      --out DIR        also write DIR/quote.msg (TPMS_ATTEST), DIR/quote.sig\n"
        "                       (TPMT_SIGNATURE), DIR/quote.pcrs (pcrblob) and DIR/ak.pub\n"
        "                       (TPM2B_PUBLIC), as tpm2_checkquote reads them\n" CLI_COMMON_HELP;

static int write_file(const char *dir, const char *name, const void *data, size_t size) {
        char path[4096];
        _cleanup_(closep) int fd = -1;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return vm_error(-ENAMETOOLONG, "%s: path too long", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return vm_error(-errno, "%s: cannot create: %m", path);
        if (write(fd, data, size) != (ssize_t)size)
                return vm_error(-EIO, "%s: cannot write: %m", path);
        return 0;
}

static int write_checkquote_files(const char *dir, const struct quote_parts *parts, const struct ak *ak) {
        uint8_t ak_public[sizeof(TPM2B_PUBLIC)];
        size_t ak_public_size;
        int ret;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return vm_error(-errno, "%s: cannot create directory: %m", dir);
        ret = tpm2b_public_marshal(&ak->public, ak_public, sizeof(ak_public), &ak_public_size);
        if (ret >= 0)
                ret = write_file(dir, "quote.msg", parts->attest, parts->attest_size);
        if (ret >= 0)
                ret = write_file(dir, "quote.sig", parts->signature, parts->signature_size);
        if (ret >= 0)
                ret = write_file(dir, "quote.pcrs", parts->pcrblob, parts->pcrblob_size);
        if (ret >= 0)
                ret = write_file(dir, "ak.pub", ak_public, ak_public_size);
        return ret;
}

/* The hardware report for this nonce, as the agent serves it (NULL: none). The EK is needed for
 * its Name only. */
static int take_platform_evidence(struct tpm *tpm, const struct agent_config *config, const struct ak *ak,
                                  const char *nonce, json_object **evidence) {
        struct ek *ek = NULL;
        TPM2B_NAME ek_name;
        int ret;

        *evidence = NULL;
        if (!tsm_evidence_wanted(config, tpm))
                return 0;
        ret = ek_open(tpm, config->tpm_encryption_alg, config->ek_handle, &ek);
        if (ret >= 0)
                ret = tpm2b_public_name(&ek->public, &ek_name);
        if (ek)
                ek_free(tpm, ek);
        if (ret < 0)
                return vm_error(ret, "platform report: the EK's Name: %s", vm_error_detail(ret));
        return tsm_evidence_take(config, tpm, (const uint8_t *)nonce, strlen(nonce), &ak->name, &ek_name, evidence);
}

int cmd_quote(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "nonce", required_argument, NULL, 'n' },
                { "pcrs", required_argument, NULL, 'p' },
                { "bank", required_argument, NULL, 'b' },
                { "ak-handle", required_argument, NULL, 'a' },
                { "out", required_argument, NULL, 'o' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *nonce = NULL, *pcrs = NULL, *bank_name = NULL, *out_dir = NULL, *ak_handle_arg = NULL;
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        _cleanup_(freep) char *quote_string = NULL;
        json_object *evidence = NULL;
        struct ak ak = { .handle = ESYS_TR_NONE };
        struct platform_ak platform = { 0 };
        bool from_platform = false;
        struct quote_parts parts;
        struct quote_request req = { 0 };
        TPM2_HANDLE ak_handle;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'n':
                        nonce = optarg;
                        break;
                case 'p':
                        pcrs = optarg;
                        break;
                case 'b':
                        bank_name = optarg;
                        break;
                case 'a':
                        ak_handle_arg = optarg;
                        break;
                case 'o':
                        out_dir = optarg;
                        break;
                case 'h':
                        fputs(quote_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("quote", opt, argv);
                }
        }
        if ((ret = cli_no_operands("quote", argc, argv)) != EXIT_OK)
                return ret;
        if (!nonce || !pcrs)
                return cli_usage_error("quote", "--nonce and --pcrs are required");
        if (strlen(nonce) == 0 || strlen(nonce) > QUOTE_NONCE_MAX)
                return cli_usage_error("quote", "--nonce must be 1-%d bytes", QUOTE_NONCE_MAX);
        if (pcr_mask_parse(pcrs, &req.mask) < 0)
                return cli_usage_error("quote", "--pcrs: %s", vm_error_detail(-EINVAL));
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        req.bank = bank_name ? hashalg_for_quotes(bank_name) : cli->config.tpm_hash_alg;
        if (req.bank == TPM2_ALG_ERROR)
                return cli_usage_error("quote", "--bank \"%s\" is not sha256, sha384 or sha512", bank_name);
        ak_handle = cli->config.ak_handle;
        if (ak_handle_arg && cli_parse_ak_handle("quote", ak_handle_arg, &ak_handle) < 0)
                return EXIT_USAGE;
        req.nonce = (const uint8_t *)nonce;
        req.nonce_size = strlen(nonce);

        ret = cli_open_tpm(cli, &tpm);
        /* --ak-handle names the agent's own AK; without it, ak_source says whose */
        if (ret >= 0 && !ak_handle_arg) {
                ret = platform_ak_open(tpm, cli->config.ak_source, ak_handle, cli->config.tpm_signing_alg,
                                       cli->config.tpm_hash_alg, &ak, &platform);
                from_platform = platform.source != NULL;
                platform_ak_done(&platform);
        }
        if (ret >= 0 && !from_platform) {
                ret = ak_load(tpm, ak_handle, cli->config.tpm_signing_alg, cli->config.tpm_hash_alg, &ak);
                if (ret == -ENOENT)
                        ret = vm_error(-ENOENT, "no AK at handle 0x%08x: run 'vmattest identity' first", ak_handle);
        }
        if (ret >= 0)
                ret = quote_take(tpm, &ak, &req, &parts, NULL);
        if (ret >= 0)
                ret = quote_string_encode(&parts, &quote_string);
        if (ret >= 0 && out_dir)
                ret = write_checkquote_files(out_dir, &parts, &ak);
        if (ret >= 0)
                ret = take_platform_evidence(tpm, &cli->config, &ak, nonce, &evidence);
        if (tpm)
                ak_close(tpm, &ak);
        if (ret < 0)
                return cli_fail(ret);

        if (cli->json) {
                json_object *root = json_object_new_object();

                json_object_object_add(root, "quote", json_object_new_string(quote_string));
                json_object_object_add(root, "hash_alg", json_object_new_string(hashalg_name(req.bank)));
                json_object_object_add(root, "sign_alg", json_object_new_string(ak_sign_alg_name(&ak)));
                if (evidence)
                        json_object_object_add(root, "platform_evidence", evidence);
                cli_print_json(root);
        } else {
                puts(quote_string);
                if (evidence)
                        printf("platform_evidence %s\n",
                               json_object_to_json_string_ext(evidence, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(evidence);
        }
        return EXIT_OK;
}
