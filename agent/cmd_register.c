/* vmattest register: enroll this TPM's identity with the tenant's registrar and prove, by
 * activating the registrar's credential, that the AK lives in the TPM whose EK it checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/enrol_token.h"
#include "agent/payload_key.h"
#include "agent/registration.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secret.h"

static const char register_help[] =
        "Usage: vmattest register [OPTIONS]\n"
        "\n"
        "Registers the TPM's EK (with its certificate), the AK and the agent's mTLS certificate with\n"
        "the registrar named by registrar_ip/registrar_port (Keylime registrar API v2.0-2.6), then\n"
        "activates the registrar's credential in the TPM and sends the auth_tag that proves it.\n"
        "An unreachable registrar and 5xx answers are retried (max_retries, retry_interval,\n"
        "exponential_backoff); any other answer or a TLS failure is final.\n"
        "\n"
        "      --enrol-token-stdin  read the tenant's enrolment token (one line of 16-256 printable\n"
        "                       ASCII characters) from stdin and send it with the registration, to\n"
        "                       the registrar's TLS port only: the registrar enrols the agent in\n"
        "                       the token's group once it is activated\n" CLI_COMMON_HELP;

int cmd_register(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "enrol-token-stdin", no_argument, NULL, 't' },
                CLI_COMMON_OPTIONS,
                {},
        };
        _cleanup_(secret_freep) struct secret *enrol_token = NULL;
        bool token_stdin = false;
        struct registrar_client registrar;
        struct agent_identity id;
        uint64_t start = tpm_clock_ns();
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                if (opt == 't') {
                        token_stdin = true;
                        continue;
                }
                if (opt == 'h') {
                        fputs(register_help, stdout);
                        return EXIT_OK;
                }
                return cli_bad_option("register", opt, argv);
        }
        if ((ret = cli_no_operands("register", argc, argv)) != EXIT_OK)
                return ret;
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        if (token_stdin && !cli->config.registrar_tls) {
                log_error("an enrolment token goes to the registrar's TLS port only: set registrar_tls = true "
                          "(and registrar_tls_ca_cert) in %s", cli->config_path);
                return EXIT_USAGE;
        }
        ret = registrar_client_init(&registrar, &cli->config);
        if (ret < 0)
                return cli_fail(ret);
        if (token_stdin) {
                payload_key_secure_heap(); /* the token lives in the secure heap */
                ret = enrol_token_read(STDIN_FILENO, &enrol_token);
                if (ret < 0)
                        return cli_fail(ret);
        }

        ret = agent_identity_open(&cli->config, cli_tcti(cli), MTLS_STATE_DIR, NULL, &id);
        if (ret < 0)
                return cli_fail(ret);
        ret = agent_register(&cli->config, &id, &registrar, enrol_token);
        if (ret < 0) {
                agent_identity_close(&id);
                return cli_fail(ret);
        }

        if (cli->json) {
                json_object *root = json_object_new_object();

                json_object_object_add(root, "agent_id", json_object_new_string(id.agent_id));
                json_object_object_add(root, "registrar", json_object_new_string(registrar.base_url));
                json_object_object_add(root, "api_version", json_object_new_string(registrar.api_version));
                json_object_object_add(root, "active", json_object_new_boolean(true));
                /* where the time went: waiting for the TPM, and everything else */
                json_object_object_add(root, "total_ms", json_object_new_double((double)(tpm_clock_ns() - start) / 1e6));
                json_object_object_add(root, "tpm_ms", json_object_new_double((double)tpm_time_total_ns() / 1e6));
                cli_print_json(root);
        } else
                printf("agent %s registered and activated at %s (API v%s)\n", id.agent_id, registrar.base_url,
                       registrar.api_version);
        agent_identity_close(&id);
        return EXIT_OK;
}
