/* vmattest serve: register, then answer the verifier's polls over mutual TLS until SIGTERM. */
#include <stdio.h>

#include "agent/agent_server.h"
#include "agent/subcommands.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/notify.h"

static const char serve_help[] =
        "Usage: vmattest serve [OPTIONS]\n"
        "\n"
        "Registers with the registrar (as 'vmattest register'), makes the payload key and binds it\n"
        "to PCR 16, then serves the agent API (Keylime API v2.1-2.6) on ip:port over mutual TLS:\n"
        "the server certificate is the registered mTLS certificate, clients must present a\n"
        "certificate from trusted_client_ca. One log line per request. Stops on SIGTERM/SIGINT.\n"
        "With mode = push it opens no port: it attests to verifier_url (Keylime API v3.0), one log\n"
        "line per accepted attestation.\n"
        "\n"
        "After 'vmattest unlock' in the initrd: takes this boot's identity from handover_path\n"
        "(removing the file) and serves it without registering again, so that the verifier keeps\n"
        "polling the agent it released the key to. The file must be a 0600 regular file of the user\n"
        "serve runs as: unlock's handover_user names that user when it is not root.\n"
        "\n"
        "      --no-register    serve without registering first\n" CLI_COMMON_HELP;

int cmd_serve(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "no-register", no_argument, NULL, 'n' },
                CLI_COMMON_OPTIONS,
                {},
        };
        struct agent_server_setup setup = { .do_register = true, .mtls = MTLS_STATE_DIR };
        struct agent_server server;
        struct handover handover;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'n':
                        setup.do_register = false;
                        break;
                case 'h':
                        fputs(serve_help, stdout);
                        return EXIT_OK;
                default:
                        return cli_bad_option("serve", opt, argv);
                }
        }
        if ((ret = cli_no_operands("serve", argc, argv)) != EXIT_OK)
                return ret;
        ret = cli_load_config(cli);
        if (ret != EXIT_OK)
                return ret;
        setup.tcti = cli_tcti(cli);
        setup.accept_keys = cli->config.runtime_release;
        payload_key_secure_heap(); /* before the hand-over's keys are read */
        ret = handover_take(cli->config.handover_path, &handover);
        if (ret >= 0) {
                log_info("taking over agent %s from the initrd (%s, removed)", handover.agent_id,
                         cli->config.handover_path);
                notify_status("taking over agent %s from the initrd's hand-over", handover.agent_id);
                setup.mtls = MTLS_HANDOVER;
                setup.handover = &handover;
                setup.do_register = false; /* `unlock` registered this boot's identity */
        } else if (ret != -ENOENT) {
                /* a damaged hand-over: this boot's identity is lost, start a new one */
                log_warning("%s; registering anew", vm_error_detail(ret));
        }
        ret = agent_server_start(&server, &cli->config, &setup);
        if (setup.handover)
                handover_free(&handover);
        if (ret < 0)
                return cli_fail(ret);
        /* the listener is bound: a verifier's connection is taken from here on */
        notify_status("serving agent %s on %s:%u", server.id.agent_id, cli->config.ip, cli->config.port);
        notify_ready();
        event_base_dispatch(server.base);
        agent_server_stop(&server);
        return EXIT_OK;
}
