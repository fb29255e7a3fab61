/* vmattest-host provision: before a VM starts, the host TPM quotes the host's boot PCRs over
 * SHA-256("vmattest-host-binding" || Name(vTPM EK)), and the quote goes into the vTPM's NV
 * index for the guest to serve (docs/protocol.md §5.9). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ak.h"
#include "agent/cli.h"
#include "agent/ek.h"
#include "agent/quote.h"
#include "host/binding_nv.h"
#include "host/subcommands.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/host_binding.h"
#include "lib/log.h"
#include "lib/pcrblob.h"
#include "lib/tpm2b.h"

static const char provision_help[] =
        "Usage: vmattest-host provision --vtpm-tcti CONF [OPTIONS]\n"
        "\n"
        "Reads the vTPM's RSA EK (persistent at host.conf's vtpm_ek_handle, 0x81010001, or made\n"
        "from the TCG template), quotes the host TPM's PCRs with the host AK over\n"
        "SHA-256(\"vmattest-host-binding\" || Name(EK)), and writes the binding into the vTPM's NV\n"
        "index: readable without a password, write-locked. Run it before the VM starts.\n"
        "\n"
        "      --vtpm-tcti CONF the VM's vTPM (swtpm: \"swtpm:host=127.0.0.1,port=N\")\n"
        "      --tcti CONF      the host TPM (default: $VMATTEST_TCTI, host.conf's tcti or\n"
        "                       " TPM_DEFAULT_TCTI ")\n"
        "      --pcrs LIST      host PCRs to quote, sha256 bank (default: host.conf's pcrs, 0-7)\n"
        "      --nv-index H     the vTPM NV index (default: host.conf's nv_index, 0x01400100)\n"
        "      --ak-handle H    the host AK (default: host.conf's ak_handle, 0x81010010)\n"
        "      --json           print the result as JSON\n"
        "  -h, --help           show this help\n";

/* Is a key persistent at `handle`? */
static bool persistent_present(struct tpm *tpm, TPM2_HANDLE handle) {
        ESYS_TR tr = ESYS_TR_NONE;

        if (TPM_RETRYING(Esys_TR_FromTPMPublic(tpm->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr)) !=
            TSS2_RC_SUCCESS)
                return false;
        Esys_TR_Close(tpm->esys, &tr);
        return true;
}

/* Step 1: the vTPM's EK Name. */
static int vtpm_ek_name(const char *vtpm_tcti, TPM2_HANDLE ek_handle, TPM2B_NAME *name) {
        _cleanup_(tpm_freep) struct tpm *vtpm = NULL;
        struct ek *ek = NULL;
        int ret = tpm_open(vtpm_tcti, &vtpm);

        if (ret < 0)
                return ret;
        if (persistent_present(vtpm, ek_handle)) {
                log_info("provision: vTPM EK persistent at 0x%08x", ek_handle);
                ret = ek_open(vtpm, "rsa", ek_handle, &ek);
        } else {
                log_info("provision: no EK at 0x%08x: the vTPM's RSA EK from the TCG template", ek_handle);
                ret = ek_open(vtpm, "rsa", 0, &ek);
        }
        if (ret >= 0)
                ret = tpm2b_public_name(&ek->public, name);
        ek_free(vtpm, ek);
        return ret;
}

/* Step 2: the host quote, as a blob. */
static int host_quote(const char *host_tcti, TPM2_HANDLE ak_handle, uint32_t mask, const uint8_t *qualifying,
                      uint8_t *blob, size_t cap, size_t *blob_size) {
        _cleanup_(tpm_freep) struct tpm *host = NULL;
        struct ak ak = { .handle = ESYS_TR_NONE };
        struct quote_request req = {
                .nonce = qualifying,
                .nonce_size = HOST_BINDING_QUALIFYING_SIZE,
                .bank = TPM2_ALG_SHA256,
                .mask = mask,
        };
        static struct quote_parts parts;
        static struct host_binding binding;
        struct pcr_values pcrs;
        int ret = tpm_open(host_tcti, &host);

        if (ret < 0)
                return vm_error(ret, "host TPM: %s", vm_error_detail(ret));
        ret = ak_load(host, ak_handle, TPM2_ALG_RSASSA, TPM2_ALG_SHA256, &ak);
        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "no host AK at 0x%08x: run 'vmattest-host identity' first", ak_handle);
        if (ret >= 0)
                ret = quote_take(host, &ak, &req, &parts, &pcrs);
        ak_close(host, &ak);
        if (ret < 0)
                return ret;
        memset(&binding, 0, sizeof(binding));
        binding.host_ak = ak.public;
        binding.pcrs = pcrs;
        memcpy(binding.attest, parts.attest, parts.attest_size);
        binding.attest_size = parts.attest_size;
        if ((ret = tpmt_signature_unmarshal(parts.signature, parts.signature_size, &binding.signature)) < 0)
                return ret;
        return host_binding_encode(&binding, blob, cap, blob_size);
}

int cmd_host_provision(int argc, char **argv, struct host_cli *cli) {
        static const struct option options[] = {
                { "vtpm-tcti", required_argument, NULL, 'v' },
                { "tcti", required_argument, NULL, 't' },
                { "pcrs", required_argument, NULL, 'p' },
                { "nv-index", required_argument, NULL, 'n' },
                { "ak-handle", required_argument, NULL, 'a' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *vtpm_tcti = NULL, *pcrs_arg = NULL, *nv_arg = NULL, *ak_arg = NULL;
        uint8_t qualifying[HOST_BINDING_QUALIFYING_SIZE];
        static uint8_t blob[HOST_BINDING_MAX_SIZE];
        _cleanup_(freep) char *ek_name_hex = NULL;
        _cleanup_(tpm_freep) struct tpm *vtpm = NULL;
        struct host_config config;
        TPM2B_NAME ek_name;
        size_t blob_size = 0;
        bool json = false;
        char pcr_list[128];
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                switch (opt) {
                case 'v':
                        vtpm_tcti = optarg;
                        break;
                case 't':
                        cli->tcti_option = optarg;
                        break;
                case 'p':
                        pcrs_arg = optarg;
                        break;
                case 'n':
                        nv_arg = optarg;
                        break;
                case 'a':
                        ak_arg = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        fputs(provision_help, stdout);
                        return EXIT_OK;
                default:
                        return host_bad_option("provision", opt, argv);
                }
        }
        if (optind != argc)
                return host_usage_error("provision", "unexpected argument \"%s\"", argv[optind]);
        if (!vtpm_tcti)
                return host_usage_error("provision", "--vtpm-tcti is required (the VM's vTPM)");
        if ((ret = host_cli_load_config(cli, "provision", &(struct host_overrides){ .pcrs = pcrs_arg, .ak_handle = ak_arg },
                                        &config)) != EXIT_OK)
                return ret;
        if (nv_arg && !host_nv_index_parse(nv_arg, &config.nv_index))
                return host_usage_error("provision", "--nv-index \"%s\" is not an NV index 0x01xxxxxx", nv_arg);
        pcr_mask_format(config.pcrs, pcr_list, sizeof(pcr_list));

        log_info("provision: step 1/3: reading the vTPM's EK");
        ret = vtpm_ek_name(vtpm_tcti, config.vtpm_ek_handle, &ek_name);
        if (ret < 0) {
                log_error("provision: step 1/3 (the vTPM's EK): %s", vm_error_detail(ret));
                return ret == -ENODEV ? EXIT_NO_TPM : EXIT_FAILED;
        }
        if ((ret = host_binding_qualifying_data(&ek_name, qualifying)) < 0 ||
            !(ek_name_hex = hex_encode(ek_name.name, ek_name.size))) {
                log_error("provision: step 1/3 (the vTPM's EK): %s", vm_error_detail(ret < 0 ? ret : -ENOMEM));
                return EXIT_FAILED;
        }
        log_info("provision: vTPM EK name %s", ek_name_hex);

        log_info("provision: step 2/3: quoting host PCRs %s (sha256) with the host AK 0x%08x", pcr_list,
                 config.ak_handle);
        ret = host_quote(host_cli_tcti(cli, &config), config.ak_handle, config.pcrs, qualifying, blob, sizeof(blob),
                         &blob_size);
        if (ret < 0) {
                log_error("provision: step 2/3 (the host quote): %s", vm_error_detail(ret));
                return ret == -ENODEV ? EXIT_NO_TPM : EXIT_FAILED;
        }

        log_info("provision: step 3/3: writing %zu bytes to the vTPM's NV index 0x%08x", blob_size, config.nv_index);
        ret = tpm_open(vtpm_tcti, &vtpm);
        if (ret >= 0)
                ret = binding_nv_write(vtpm, config.nv_index, blob, blob_size);
        if (ret < 0) {
                log_error("provision: step 3/3 (the vTPM's NV index): %s", vm_error_detail(ret));
                return ret == -ENODEV ? EXIT_NO_TPM : EXIT_FAILED;
        }
        if (json) {
                json_object *root = json_object_new_object();
                char index[16];

                snprintf(index, sizeof(index), "0x%08x", config.nv_index);
                json_object_object_add(root, "nv_index", json_object_new_string(index));
                json_object_object_add(root, "size", json_object_new_int((int)blob_size));
                json_object_object_add(root, "ek_name", json_object_new_string(ek_name_hex));
                json_object_object_add(root, "pcrs", json_object_new_string(pcr_list));
                cli_print_json(root);
        } else
                printf("host binding: %zu bytes in vTPM NV 0x%08x, for EK %s, host PCRs %s\n", blob_size,
                       config.nv_index, ek_name_hex, pcr_list);
        return EXIT_OK;
}
