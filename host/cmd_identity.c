/* vmattest-host identity: the host AK, created under the host's EK on first use and kept at its
 * persistent handle; its public key is what tenants put in their verifier's trusted host AKs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/ak.h"
#include "agent/cli.h"
#include "agent/ek.h"
#include "host/subcommands.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

static const char identity_help[] =
        "Usage: vmattest-host identity [OPTIONS]\n"
        "\n"
        "Loads the host AK from its persistent handle, or creates it under the host TPM's RSA EK\n"
        "(a restricted RSASSA-SHA256 signing key) and makes it persistent there. Prints its handle,\n"
        "its Name, its public key as PEM (what a verifier's host AK store holds) and as a base64\n"
        "TPM2B_PUBLIC.\n"
        "\n"
        "      --tcti CONF      the host TPM (default: $VMATTEST_TCTI, host.conf's tcti or\n"
        "                       " TPM_DEFAULT_TCTI ")\n"
        "      --ak-handle H    persistent handle (default: host.conf's ak_handle, 0x81010010)\n"
        "      --json           print the result as JSON\n"
        "  -h, --help           show this help\n";

struct identity {
        char *pem;
        char *public_b64;
        char *name_hex;
};

static void identity_done(struct identity *id) {
        free(id->pem);
        free(id->public_b64);
        free(id->name_hex);
}

static void identity_print(bool json, const struct ak *ak, bool created, const struct identity *id) {
        char handle[16];

        snprintf(handle, sizeof(handle), "0x%08x", ak->persistent);
        if (json) {
                json_object *root = json_object_new_object();

                json_object_object_add(root, "handle", json_object_new_string(handle));
                json_object_object_add(root, "name", json_object_new_string(id->name_hex));
                json_object_object_add(root, "created", json_object_new_boolean(created));
                json_object_object_add(root, "pem", json_object_new_string(id->pem));
                json_object_object_add(root, "tpm2b_public", json_object_new_string(id->public_b64));
                cli_print_json(root);
                return;
        }
        printf("host ak handle:   %s%s\n", handle, created ? " (created now)" : "");
        printf("host ak name:     %s\n", id->name_hex);
        printf("host ak public (TPM2B_PUBLIC, base64):\n%s\n", id->public_b64);
        printf("host ak public key (for the verifier's host AK store):\n%s", id->pem);
}

int cmd_host_identity(int argc, char **argv, struct host_cli *cli) {
        static const struct option options[] = {
                { "tcti", required_argument, NULL, 't' },
                { "ak-handle", required_argument, NULL, 'a' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        struct ak ak = { .handle = ESYS_TR_NONE };
        struct host_config config;
        struct identity id = { 0 };
        const char *ak_handle_arg = NULL;
        struct ek *ek = NULL;
        bool json = false, created = false;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                switch (opt) {
                case 't':
                        cli->tcti_option = optarg;
                        break;
                case 'a':
                        ak_handle_arg = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        fputs(identity_help, stdout);
                        return EXIT_OK;
                default:
                        return host_bad_option("identity", opt, argv);
                }
        }
        if (optind != argc)
                return host_usage_error("identity", "unexpected argument \"%s\"", argv[optind]);
        if ((ret = host_cli_load_config(cli, "identity", &(struct host_overrides){ .ak_handle = ak_handle_arg },
                                        &config)) != EXIT_OK)
                return ret;

        ret = tpm_open(host_cli_tcti(cli, &config), &tpm);
        if (ret >= 0) {
                ret = ak_load(tpm, config.ak_handle, TPM2_ALG_RSASSA, TPM2_ALG_SHA256, &ak);
                if (ret == -ENOENT) {
                        log_info("no host AK at handle 0x%08x yet: creating one under the host's EK", config.ak_handle);
                        ret = ek_open(tpm, "rsa", 0, &ek);
                        if (ret >= 0)
                                ret = ak_create(tpm, ek, config.ak_handle, TPM2_ALG_RSASSA, TPM2_ALG_SHA256, &ak);
                        created = ret >= 0;
                }
        }
        if (ret >= 0 && (ret = tpmkey_spki_pem(&ak.public.publicArea, &id.pem)) >= 0) {
                id.public_b64 = tpm2b_public_base64(&ak.public);
                id.name_hex = hex_encode(ak.name.name, ak.name.size);
                if (!id.public_b64 || !id.name_hex)
                        ret = -ENOMEM;
        }
        if (ret >= 0)
                identity_print(json, &ak, created, &id);
        identity_done(&id);
        if (tpm) {
                ak_close(tpm, &ak);
                ek_free(tpm, ek);
        }
        if (ret < 0) {
                log_error("identity: %s", vm_error_detail(ret));
                return ret == -ENODEV ? EXIT_NO_TPM : EXIT_FAILED;
        }
        return EXIT_OK;
}
