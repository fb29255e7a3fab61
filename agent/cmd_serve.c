/* vmattest serve: register, then answer the verifier's polls over mutual TLS until SIGTERM. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_identity.h"
#include "agent/api.h"
#include "agent/payload_key.h"
#include "agent/registration.h"
#include "agent/state.h"
#include "agent/subcommands.h"
#include "lib/error.h"
#include "lib/http_server.h"
#include "lib/log.h"

static const char serve_help[] =
        "Usage: vmattest serve [OPTIONS]\n"
        "\n"
        "Registers with the registrar (as 'vmattest register'), makes the payload key and binds it\n"
        "to PCR 16, then serves the agent API (Keylime API v2.1-2.6) on ip:port over mutual TLS:\n"
        "the server certificate is the registered mTLS certificate, clients must present a\n"
        "certificate from trusted_client_ca. One log line per request. Stops on SIGTERM/SIGINT.\n"
        "\n"
        "      --no-register    serve without registering first\n" CLI_COMMON_HELP;

static void on_stop_signal(evutil_socket_t sig, short events, void *user) {
        log_info("%s: stopping", strsignal((int)sig));
        event_base_loopexit(user, NULL);
}

int cmd_serve(int argc, char **argv, struct cli *cli) {
        static const struct option options[] = {
                { "no-register", no_argument, NULL, 'n' },
                CLI_COMMON_OPTIONS,
                {},
        };
        struct agent_identity id = { 0 };
        struct payload_key payload = { 0 };
        struct agent_api api = { 0 };
        struct registrar_client registrar;
        struct http_listener *listener = NULL;
        struct event_base *base = NULL;
        struct event *sigterm = NULL, *sigint = NULL;
        SSL_CTX *tls = NULL;
        char cert_path[512], key_path[512];
        bool do_register = true, api_ready = false;
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
        signal(SIGPIPE, SIG_IGN);

        ret = agent_identity_open(&cli->config, cli_tcti(cli), &id);
        if (ret >= 0 && do_register) {
                ret = registrar_client_init(&registrar, &cli->config);
                if (ret >= 0)
                        ret = agent_register(&cli->config, &id, &registrar);
        }
        if (ret >= 0)
                ret = payload_key_new(&payload);
        if (ret >= 0)
                ret = payload_key_bind(id.tpm, &payload, cli->config.tpm_hash_alg);
        if (ret >= 0) {
                ret = agent_api_init(&api, &cli->config, &id, &payload);
                api_ready = true;
        }
        if (ret >= 0)
                ret = state_path(&cli->config, cli->config.server_cert, cert_path, sizeof(cert_path));
        if (ret >= 0)
                ret = state_path(&cli->config, cli->config.server_key, key_path, sizeof(key_path));
        if (ret >= 0)
                ret = http_tls_server_context(cert_path, key_path, cli->config.trusted_client_ca, true, &tls);
        if (ret >= 0 && !(base = event_base_new()))
                ret = -ENOMEM;
        if (ret >= 0)
                ret = http_listener_new(base, cli->config.ip, cli->config.port, tls, agent_api_handle, &api, &listener);
        if (ret >= 0) {
                sigterm = evsignal_new(base, SIGTERM, on_stop_signal, base);
                sigint = evsignal_new(base, SIGINT, on_stop_signal, base);
                if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0)
                        ret = -ENOMEM;
        }
        if (ret >= 0) {
                log_info("agent %s serving on https://%s:%u (mutual TLS, clients from %s)", id.agent_id, cli->config.ip,
                         cli->config.port, cli->config.trusted_client_ca);
                event_base_dispatch(base);
        }

        if (sigterm)
                event_free(sigterm);
        if (sigint)
                event_free(sigint);
        http_listener_free(listener);
        if (base)
                event_base_free(base);
        SSL_CTX_free(tls);
        if (api_ready)
                agent_api_done(&api);
        payload_key_free(&payload);
        agent_identity_close(&id);
        return ret < 0 ? cli_fail(ret) : EXIT_OK;
}
