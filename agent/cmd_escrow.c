/* vmattest escrow: hand the instance's own disk key to the verifier (agent/escrow_client.h), so
 * that the initrd of the next boots gets it released as a tenant's payload. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/escrow_client.h"
#include "agent/payload_key.h"
#include "agent/subcommands.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "lib/secret_file.h"

#define STR(x) #x
#define XSTR(x) STR(x)

static const char escrow_help[] =
        "Usage: vmattest escrow [OPTIONS] <KEY\n"
        "\n"
        "Reads a key (1 to " XSTR(ESCROW_KEY_MAX) " bytes) from stdin and escrows it with the verifier: POST\n"
        "/v2.N/agents/ID/escrow at the registrar's TLS port (registrar_ip, registrar_port; the server\n"
        "checked against registrar_tls_ca_cert), the agent's registered mTLS certificate from the\n"
        "state directory as client certificate. The verifier keeps the key as the agent's payload\n"
        "and releases it to 'vmattest unlock' in the initrd of the next boots.\n"
        "The verifier takes it once it has attested the agent ('vmattest serve' answering its\n"
        "polls): until then, and while the registrar is unreachable, it is retried, with a\n"
        "progress line, for up to --wait seconds.\n"
        "\n"
        "Exit status: 0 escrowed, 1 failed (or not attested in time), 2 usage, 4 refused by the\n"
        "verifier (not this agent's certificate, agent not enrolled, a payload already enrolled).\n"
        "\n"
        "      --wait SECONDS   how long to wait for the verifier (default " XSTR(ESCROW_WAIT_DEFAULT) ")\n" CLI_COMMON_HELP;

int cmd_escrow(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "wait", required_argument, NULL, 'w' },
                CLI_COMMON_OPTIONS,
                {},
        };
        _cleanup_(secret_freep) struct secret *key = NULL;
        unsigned wait_seconds = ESCROW_WAIT_DEFAULT;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'w':
                        if ((ret = cli_parse_wait("escrow", optarg, &wait_seconds)) != EXIT_OK)
                                return ret;
                        break;
                case 'h':
                        fputs(escrow_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("escrow", opt, argv);
                }
        }
        if ((ret = cli_no_operands("escrow", argc, argv)) != EXIT_OK)
                return ret;
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        if (!cli->config.registrar_tls) {
                log_error("a key is escrowed at the registrar's TLS port only: set registrar_tls = true (and "
                          "registrar_tls_ca_cert) in %s",
                          cli->config_path);
                return EXIT_USAGE;
        }
        cli_config_take_tcti(cli);

        payload_key_secure_heap(); /* the key lives in the secure heap */
        ret = secret_fd_read(STDIN_FILENO, "the key on stdin", ESCROW_KEY_MAX, &key);
        if (ret == -EFBIG) {
                log_error("escrow: the key on stdin is larger than %d bytes", ESCROW_KEY_MAX);
                return EXIT_USAGE;
        }
        if (ret < 0)
                return cli_fail(ret);
        if (key->size == 0) {
                log_error("escrow: stdin holds no key (give 1 to %d bytes)", ESCROW_KEY_MAX);
                return EXIT_USAGE;
        }

        ret = escrow_send(&cli->config, key->data, key->size, wait_seconds);
        if (ret < 0)
                return cli_fail_refused(ret);
        if (cli->json) {
                json_object *root = json_object_new_object();

                json_object_object_add(root, "escrowed", json_object_new_boolean(true));
                json_object_object_add(root, "key_bytes", json_object_new_int64((int64_t)key->size));
                cli_print_json(root);
        } else
                printf("key escrowed (%zu bytes): the verifier releases it to the next boots\n", key->size);
        return EXIT_OK;
}
