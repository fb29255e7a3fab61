/* vmattest serve: register, then answer the verifier's polls over mutual TLS until SIGTERM. */
#include <stdio.h>

#include "agent/agent_server.h"
#include "agent/subcommands.h"

static const char serve_help[] =
        "Usage: vmattest serve [OPTIONS]\n"
        "\n"
        "Registers with the registrar (as 'vmattest register'), makes the payload key and binds it\n"
        "to PCR 16, then serves the agent API (Keylime API v2.1-2.6) on ip:port over mutual TLS:\n"
        "the server certificate is the registered mTLS certificate, clients must present a\n"
        "certificate from trusted_client_ca. One log line per request. Stops on SIGTERM/SIGINT.\n"
        "\n"
        "      --no-register    serve without registering first\n" CLI_COMMON_HELP;

int cmd_serve(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "no-register", no_argument, NULL, 'n' },
                CLI_COMMON_OPTIONS,
                {},
        };
        struct agent_server server;
        bool do_register = true;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'n':
                        do_register = false;
                        break;
                case 'h':
                        fputs(serve_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("serve", opt, argv);
                }
        }
        if (optind != argc)
                return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        ret = agent_server_start(&server, &cli->config, cli_tcti(cli), do_register);
        if (ret < 0)
                return cli_fail(ret);
        event_base_dispatch(server.base);
        agent_server_stop(&server);
        return EXIT_OK;
}
