/* vmattest identity: the TPM's EK (and its certificate) and the AK, created on first use. */
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ak.h"
#include "agent/platform_ak.h"
#include "agent/ek.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

static const char identity_help[] =
        "Usage: vmattest identity [OPTIONS]\n"
        "\n"
        "Creates or loads the TPM's Endorsement Key (TCG EK Credential Profile template), reads its\n"
        "certificate from the template's NV index, and creates or loads the Attestation Key at its\n"
        "persistent handle. Prints the EK hash (Keylime's hash_ek), the certificate's subject and\n"
        "issuer, and the AK name.\n"
        "\n"
        "      --ek-alg ALG     rsa (default), ecc, rsa2048, ecc256 or ecc384\n"
        "      --ak-handle H    persistent AK handle (default: the config's ak_handle, 0x81010002)\n" CLI_COMMON_HELP;

struct identity {
        char hash_ek[65];
        char *ek_public_b64;
        char *ak_public_b64;
        char *ak_name_hex;
        char *cert_subject;
        char *cert_issuer;
        bool ak_created;
};

static void identity_done(struct identity *id) {
        free(id->ek_public_b64);
        free(id->ak_public_b64);
        free(id->ak_name_hex);
        free(id->cert_subject);
        free(id->cert_issuer);
}

static char *x509_name_string(const X509_NAME *name) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *result = NULL;
        long size;

        if (!bio)
                return NULL;
        if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
                size = BIO_get_mem_data(bio, &data);
                result = strndup(data, (size_t)size);
        }
        BIO_free(bio);
        return result;
}

static int identity_describe(const struct ek *ek, const struct ak *ak, struct identity *id) {
        int ret = tpmkey_hash_ek(&ek->public.publicArea, id->hash_ek);

        if (ret < 0)
                return ret;
        id->ek_public_b64 = tpm2b_public_base64(&ek->public);
        id->ak_public_b64 = tpm2b_public_base64(&ak->public);
        id->ak_name_hex = hex_encode(ak->name.name, ak->name.size);
        if (!id->ek_public_b64 || !id->ak_public_b64 || !id->ak_name_hex)
                return -ENOMEM;
        if (ek->cert_der) {
                const uint8_t *p = ek->cert_der;
                X509 *cert = d2i_X509(NULL, &p, (long)ek->cert_size);

                if (!cert)
                        return vm_error(-EBADMSG, "EK certificate does not parse");
                id->cert_subject = x509_name_string(X509_get_subject_name(cert));
                id->cert_issuer = x509_name_string(X509_get_issuer_name(cert));
                X509_free(cert);
                if (!id->cert_subject || !id->cert_issuer)
                        return -ENOMEM;
        }
        return 0;
}

static void identity_print(const struct cli *cli, const struct ek *ek, const struct ak *ak,
                           const struct platform_ak *platform, const struct identity *id) {
        char handle[16], cert_index[16];

        snprintf(handle, sizeof(handle), "0x%08x", ak->persistent);
        snprintf(cert_index, sizeof(cert_index), "0x%08x", ek->cert_index);
        if (cli->json) {
                json_object *root = json_object_new_object(), *ek_obj = json_object_new_object();
                json_object *ak_obj = json_object_new_object(), *cert = NULL;

                json_object_object_add(ek_obj, "template", json_object_new_string(ek_template_name(ek)));
                json_object_object_add(ek_obj, "hash_ek", json_object_new_string(id->hash_ek));
                json_object_object_add(ek_obj, "ek_tpm", json_object_new_string(id->ek_public_b64));
                if (ek->cert_der) {
                        cert = json_object_new_object();
                        json_object_object_add(cert, "nv_index", json_object_new_string(cert_index));
                        json_object_object_add(cert, "subject", json_object_new_string(id->cert_subject));
                        json_object_object_add(cert, "issuer", json_object_new_string(id->cert_issuer));
                }
                json_object_object_add(ek_obj, "certificate", cert);
                json_object_object_add(ak_obj, "handle", json_object_new_string(handle));
                json_object_object_add(ak_obj, "name", json_object_new_string(id->ak_name_hex));
                json_object_object_add(ak_obj, "aik_tpm", json_object_new_string(id->ak_public_b64));
                json_object_object_add(ak_obj, "created", json_object_new_boolean(id->ak_created));
                json_object_object_add(ak_obj, "sign_alg", json_object_new_string(ak_sign_alg_name(ak)));
                json_object_object_add(ak_obj, "source", json_object_new_string(platform->source ? platform->source
                                                                                                 : "agent"));
                json_object_object_add(root, "ek", ek_obj);
                json_object_object_add(root, "ak", ak_obj);
                cli_print_json(root);
                return;
        }
        printf("ek template:      %s\n", ek_template_name(ek));
        printf("ek hash:          %s\n", id->hash_ek);
        if (ek->cert_der) {
                printf("ek certificate:   NV index %s\n", cert_index);
                printf("  subject:        %s\n", id->cert_subject);
                printf("  issuer:         %s\n", id->cert_issuer);
        } else
                printf("ek certificate:   none in this TPM\n");
        printf("ak handle:        %s%s\n", handle, id->ak_created ? " (created now)" : "");
        printf("ak name:          %s\n", id->ak_name_hex);
        printf("ak sign alg:      %s\n", ak_sign_alg_name(ak));
        printf("ak source:        %s\n", platform->source ? platform->source : "agent (its own, under the EK)");
}

int cmd_identity(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "ek-alg", required_argument, NULL, 'e' },
                { "ak-handle", required_argument, NULL, 'a' },
                CLI_COMMON_OPTIONS,
                {},
        };
        const char *ek_alg = NULL, *ak_handle_arg = NULL;
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        struct identity id = { 0 };
        struct ek *ek = NULL;
        struct ak ak = { .handle = ESYS_TR_NONE };
        struct platform_ak platform = { 0 };
        TPM2_HANDLE ak_handle;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'e':
                        ek_alg = optarg;
                        break;
                case 'a':
                        ak_handle_arg = optarg;
                        break;
                case 'h':
                        fputs(identity_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("identity", opt, argv);
                }
        }
        if ((ret = cli_no_operands("identity", argc, argv)) != EXIT_OK)
                return ret;
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        if (!ek_alg)
                ek_alg = cli->config.tpm_encryption_alg;
        if (!ek_alg_valid(ek_alg))
                return cli_usage_error("identity", "--ek-alg \"%s\" is not rsa, ecc, rsa2048, ecc256 or ecc384", ek_alg);
        ak_handle = cli->config.ak_handle;
        if (ak_handle_arg && cli_parse_ak_handle("identity", ak_handle_arg, &ak_handle) < 0)
                return EXIT_USAGE;

        ret = cli_open_tpm(cli, &tpm);
        if (ret >= 0)
                ret = ek_open(tpm, ek_alg, cli->config.ek_handle, &ek);
        /* --ak-handle names the agent's own AK; without it, ak_source says whose */
        if (ret >= 0 && !ak_handle_arg)
                ret = platform_ak_open(tpm, cli->config.ak_source, ak_handle, cli->config.tpm_signing_alg,
                                       cli->config.tpm_hash_alg, &ak, &platform);
        if (ret >= 0 && !platform.source) {
                ret = ak_load(tpm, ak_handle, cli->config.tpm_signing_alg, cli->config.tpm_hash_alg, &ak);
                if (ret == -ENOENT) {
                        log_info("no AK at handle 0x%08x yet: creating one under the EK", ak_handle);
                        ret = ak_create(tpm, ek, ak_handle, cli->config.tpm_signing_alg, cli->config.tpm_hash_alg, &ak);
                        id.ak_created = ret >= 0;
                }
        }
        if (ret >= 0)
                ret = identity_describe(ek, &ak, &id);
        if (ret >= 0)
                identity_print(cli, ek, &ak, &platform, &id);
        identity_done(&id);
        platform_ak_done(&platform);
        if (tpm) {
                ak_close(tpm, &ak);
                ek_free(tpm, ek);
        }
        return ret < 0 ? cli_fail(ret) : EXIT_OK;
}
