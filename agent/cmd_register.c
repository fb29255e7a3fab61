/* vmattest register: enroll this TPM's identity with the tenant's registrar and prove, by
 * activating the registrar's credential, that the AK lives in the TPM whose EK it checked. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/activate.h"
#include "agent/agent_uuid.h"
#include "agent/ak.h"
#include "agent/ek.h"
#include "agent/mtls.h"
#include "agent/registrar_client.h"
#include "agent/subcommands.h"
#include "lib/auth_tag.h"
#include "lib/cleanup.h"
#include "lib/credential.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tpm2b.h"

static const char register_help[] =
        "Usage: vmattest register [OPTIONS]\n"
        "\n"
        "Registers the TPM's EK (with its certificate), the AK and the agent's mTLS certificate with\n"
        "the registrar named by registrar_ip/registrar_port (Keylime registrar API v2.0-2.6), then\n"
        "activates the registrar's credential in the TPM and sends the auth_tag that proves it.\n"
        "Unreachable registrars and 5xx answers are retried (max_retries, retry_interval); a 4xx\n"
        "answer is final.\n"
        "\n" CLI_COMMON_HELP;

static char *public_b64(const TPM2B_PUBLIC *pub) {
        uint8_t bytes[sizeof(TPM2B_PUBLIC)];
        size_t size;

        if (tpm2b_public_marshal(pub, bytes, sizeof(bytes), &size) < 0)
                return NULL;
        return base64_encode(bytes, size);
}

static json_object *registration_body(const struct agent_config *config, const struct ek *ek, const struct ak *ak,
                                      const char *mtls_cert) {
        _cleanup_(freep) char *ek_tpm = public_b64(&ek->public);
        _cleanup_(freep) char *aik_tpm = public_b64(&ak->public);
        _cleanup_(freep) char *ekcert = ek->cert_der ? base64_encode(ek->cert_der, ek->cert_size) : NULL;
        json_object *body;

        if (!ek_tpm || !aik_tpm || (ek->cert_der && !ekcert))
                return NULL;
        body = json_object_new_object();
        if (!body)
                return NULL;
        json_object_object_add(body, "ek_tpm", json_object_new_string(ek_tpm));
        /* SPEC §1: the leaf certificate only, or null when the TPM has none */
        json_object_object_add(body, "ekcert", ekcert ? json_object_new_string(ekcert) : NULL);
        json_object_object_add(body, "aik_tpm", json_object_new_string(aik_tpm));
        json_object_object_add(body, "mtls_cert", json_object_new_string(mtls_cert));
        json_object_object_add(body, "ip", json_object_new_string(config->contact_ip));
        json_object_object_add(body, "port", json_object_new_int(config->contact_port));
        return body;
}

/* Activates the blob in the TPM and computes the auth_tag from the recovered credential. */
static int activation_tag(struct tpm *tpm, const struct ek *ek, const struct ak *ak, const char *agent_id,
                          const char *blob_b64, char tag[AUTH_TAG_HEX_SIZE]) {
        _cleanup_(freep) uint8_t *blob = NULL;
        TPM2B_ID_OBJECT id_object;
        TPM2B_ENCRYPTED_SECRET secret;
        TPM2B_DIGEST credential;
        char *credential_b64;
        size_t blob_size;
        int ret;

        ret = base64_decode(blob_b64, strlen(blob_b64), &blob, &blob_size);
        if (ret < 0)
                return vm_error(ret, "registrar's blob: %s", vm_error_detail(ret));
        ret = credential_blob_parse(blob, blob_size, &id_object, &secret);
        if (ret < 0)
                return vm_error(ret, "registrar's blob: %s", vm_error_detail(ret));
        ret = credential_activate(tpm, ek, ak, &id_object, &secret, &credential);
        if (ret < 0)
                return ret;
        /* SPEC §1: the HMAC key is the base64 text of the credential */
        credential_b64 = base64_encode(credential.buffer, credential.size);
        OPENSSL_cleanse(&credential, sizeof(credential));
        if (!credential_b64)
                return -ENOMEM;
        ret = auth_tag_compute(credential_b64, strlen(credential_b64), agent_id, tag);
        OPENSSL_cleanse(credential_b64, strlen(credential_b64));
        free(credential_b64);
        return ret;
}

int cmd_register(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                CLI_COMMON_OPTIONS,
                {},
        };
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        _cleanup_(freep) char *mtls_cert = NULL;
        _cleanup_(freep) char *blob_b64 = NULL;
        struct registrar_client registrar;
        char agent_id[AGENT_ID_MAX + 1] = "", tag[AUTH_TAG_HEX_SIZE];
        struct ek *ek = NULL;
        struct ak ak = { .handle = ESYS_TR_NONE };
        json_object *body = NULL;
        uint64_t start = tpm_clock_ns();
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                if (opt == 'h') {
                        fputs(register_help, stdout);
                        return EXIT_OK;
                }
                return cli_bad_option("register", opt, argv);
        }
        if (optind != argc)
                return cli_usage_error("register", "unexpected argument \"%s\"", argv[optind]);
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        ret = registrar_client_init(&registrar, &cli->config);
        if (ret < 0)
                return cli_fail(ret);

        ret = cli_open_tpm(cli, &tpm);
        if (ret >= 0)
                ret = ek_open(tpm, cli->config.tpm_encryption_alg, cli->config.ek_handle, &ek);
        if (ret >= 0) {
                ret = ak_load(tpm, cli->config.ak_handle, cli->config.tpm_hash_alg, &ak);
                if (ret == -ENOENT) {
                        log_info("no AK at handle 0x%08x yet: creating one under the EK", cli->config.ak_handle);
                        ret = ak_create(tpm, ek, cli->config.ak_handle, cli->config.tpm_hash_alg, &ak);
                }
        }
        if (ret >= 0)
                ret = agent_uuid_resolve(&cli->config, ek, agent_id);
        if (ret >= 0)
                ret = mtls_identity_ensure(&cli->config, agent_id, &mtls_cert);
        if (ret >= 0) {
                body = registration_body(&cli->config, ek, &ak, mtls_cert);
                if (!body)
                        ret = -ENOMEM;
        }
        if (ret >= 0)
                ret = registrar_negotiate(&registrar);
        if (ret >= 0) {
                log_info("registering agent %s with %s (API v%s)", agent_id, registrar.base_url, registrar.api_version);
                ret = registrar_register(&registrar, agent_id, body, &blob_b64);
        }
        if (ret >= 0)
                ret = activation_tag(tpm, ek, &ak, agent_id, blob_b64, tag);
        if (ret >= 0)
                ret = registrar_activate(&registrar, agent_id, tag);
        json_object_put(body);
        if (tpm) {
                ak_close(tpm, &ak);
                ek_free(tpm, ek);
        }
        if (ret < 0)
                return cli_fail(ret);

        if (cli->json) {
                json_object *root = json_object_new_object();

                json_object_object_add(root, "agent_id", json_object_new_string(agent_id));
                json_object_object_add(root, "registrar", json_object_new_string(registrar.base_url));
                json_object_object_add(root, "api_version", json_object_new_string(registrar.api_version));
                json_object_object_add(root, "active", json_object_new_boolean(true));
                /* where the time went: waiting for the TPM, and everything else */
                json_object_object_add(root, "total_ms", json_object_new_double((double)(tpm_clock_ns() - start) / 1e6));
                json_object_object_add(root, "tpm_ms", json_object_new_double((double)tpm_time_total_ns() / 1e6));
                cli_print_json(root);
        } else
                printf("agent %s registered and activated at %s (API v%s)\n", agent_id, registrar.base_url,
                       registrar.api_version);
        return EXIT_OK;
}
