/* vmattest-verifier serve: the registrar's listeners, until SIGTERM or SIGINT. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/secret_file.h"
#include "verifier/commands.h"
#include "verifier/store.h"
#include "lib/http_server.h"
#include "lib/process_limits.h"
#include "verifier/poller.h"
#include "verifier/push_server.h"
#include "verifier/registrar.h"

static const char serve_help[] =
        "Usage: vmattest-verifier serve [OPTIONS]\n"
        "\n"
        "Runs the registrar: Keylime's registrar API v2.0-2.6 on [registrar] ip:port (plain HTTP)\n"
        "and ip:tls_port (HTTPS with server_cert/server_key), and the verifier: every agent enrolled\n"
        "with 'add' is polled every [verifier] quote_interval seconds over mutual TLS and its\n"
        "evidence checked; state in the [store] database. Stops cleanly on SIGTERM or SIGINT.\n"
        "Refuses to start (exit 1) unless OpenSSL's secure heap can be locked in memory\n"
        "(a memory lock limit of at least 256 KiB, or CAP_IPC_LOCK).\n"
        "\n"
        "  -h, --help           show this help\n";

int command_load_config(const char *config_path, struct verifier_config *config) {
        int ret;

        verifier_config_defaults(config);
        ret = verifier_config_load(config_path, strcmp(config_path, VERIFIER_CONFIG_PATH) != 0, config);
        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

int command_open_store(const char *config_path, bool create, struct verifier_config *config, struct store **store) {
        int ret = command_load_config(config_path, config);

        if (ret != EXIT_OK)
                return ret;
        if (store_open(config->database, create, store) < 0) {
                log_error("%s", vm_error_detail(-EIO));
                return EXIT_FAILED;
        }
        return EXIT_OK;
}

/* One listener serves both: the registrar's API v2.x and the push model's v3 (push_server.h). */
struct serve_routes {
        struct registrar *registrar;
        struct push_server *push;
};

static void serve_handle(struct evhttp_request *req, void *user) {
        struct serve_routes *routes = user;

        if (routes->push && push_server_handle(routes->push, req))
                return;
        /* the TLS listener takes the push model's evidence (PUSH_EVIDENCE_BODY_MAX): the
         * registrar's bodies stay within HTTP_REQUEST_BODY_MAX */
        if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > HTTP_REQUEST_BODY_MAX) {
                http_reply_error(req, 413, "the request body is longer than %d bytes", HTTP_REQUEST_BODY_MAX);
                return;
        }
        registrar_handle(req, routes->registrar);
}

static void on_stop_signal(evutil_socket_t sig, short events, void *user) {
        log_info("%s: stopping", strsignal((int)sig));
        notify_stopping();
        event_base_loopexit(user, NULL);
}

int cmd_serve(int argc, char **argv, const char *config_path) {
        static const struct option options[] = { { "help", no_argument, NULL, 'h' }, {} };
        struct verifier_config config;
        struct registrar registrar = { .config = &config };
        struct http_limits limits;
        long files;
        struct http_listener *plain = NULL, *tls = NULL;
        struct event_base *base = NULL;
        struct event *sigterm = NULL, *sigint = NULL;
        SSL_CTX *tls_ctx = NULL;
        struct poller *poller = NULL;
        struct serve_routes routes = { .registrar = &registrar };
        int opt, ret = 0, exit_code;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (opt == 'h') {
                        fputs(serve_help, stdout);
                        return EXIT_OK;
                }
                log_error("serve: unknown option \"%s\" (see 'vmattest-verifier serve --help')", argv[optind - 1]);
                return EXIT_USAGE;
        }
        /* serve holds the payload vault key and every released K, U and V: never in memory that
         * can be swapped out or dumped (main.c set the heap up; this is its answer again) */
        ret = secret_heap_setup(VERIFIER_SECRET_HEAP_SIZE);
        if (ret < 0) {
                log_error("serve: %s: refusing to hold the payload vault key and released keys in ordinary memory",
                          vm_error_detail(ret));
                return EXIT_FAILED;
        }
        exit_code = command_load_config(config_path, &config);
        if (exit_code != EXIT_OK)
                return exit_code;
        if (!config.port && !config.tls_port) {
                log_error("%s: both port and tls_port are 0: nothing to serve", config_path);
                return EXIT_USAGE;
        }
        signal(SIGPIPE, SIG_IGN);
        limits = (struct http_limits){ .max_connections = config.max_connections,
                                       .request_deadline = config.request_deadline };

        /* each connection, to the registrar or to a polled agent, takes a descriptor */
        files = process_files_max();
        if (files < 0)
                log_warning("%s", vm_error_detail((int)files));

        ret = store_open(config.database, true, &registrar.store);
        if (ret >= 0)
                ret = ek_trust_load(config.tpm_cert_store, &registrar.trust);
        if (ret >= 0)
                ret = identity_trust_load(config.ak_cert_store, config.ek_pinned_store, &registrar.identity);
        if (ret >= 0 && config.tls_port)
                ret = http_tls_server_context(config.server_cert, config.server_key,
                                              config.trusted_client_ca[0] ? config.trusted_client_ca : NULL, false,
                                              &tls_ctx);
        if (ret >= 0 && !(base = event_base_new()))
                ret = -ENOMEM;
        if (ret >= 0 && config.port)
                ret = http_listener_new(base, config.ip, config.port, NULL, &limits, serve_handle, &routes, &plain);
        if (ret >= 0 && config.tls_port)
                ret = http_listener_new(base, config.ip, config.tls_port, tls_ctx, &limits, serve_handle, &routes,
                                        &tls);
        if (ret >= 0) {
                sigterm = evsignal_new(base, SIGTERM, on_stop_signal, base);
                sigint = evsignal_new(base, SIGINT, on_stop_signal, base);
                if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0)
                        ret = -ENOMEM;
        }
        if (ret >= 0)
                ret = poller_start(&config, &poller);
        /* the push model's API needs TLS: only with the TLS port */
        if (ret >= 0 && config.tls_port)
                ret = push_server_new(base, &config, registrar.store, poller, &routes.push);
        if (ret >= 0 && tls)
                http_listener_set_body_max(tls, PUSH_EVIDENCE_BODY_MAX);
        if (ret >= 0) {
                registrar.poller = poller;
                log_info("registrar ready: %u trusted EK CA certificate(s) from %s, %d AK CA certificate(s) from %s, "
                         "%zu pinned EK(s) from %s, database %s",
                         ek_trust_count(registrar.trust), config.tpm_cert_store, sk_X509_num(registrar.identity.ak_roots),
                         config.ak_cert_store, registrar.identity.ek_pinned_count, config.ek_pinned_store,
                         config.database);
                if (config.port)
                        log_info("registrar listening on http://%s:%u", config.ip, config.port);
                if (config.tls_port)
                        log_info("registrar listening on https://%s:%u", config.ip, config.tls_port);
                log_info("verifier polling enrolled agents every %u s", config.quote_interval);
                /* the registrar's ports are bound and the poller runs: the service is up */
                notify_ready();
                event_base_dispatch(base);
        } else
                log_error("%s", vm_error_detail(ret));

        push_server_free(routes.push);
        poller_stop(poller);
        if (sigterm)
                event_free(sigterm);
        if (sigint)
                event_free(sigint);
        http_listener_free(plain);
        http_listener_free(tls);
        if (base)
                event_base_free(base);
        SSL_CTX_free(tls_ctx);
        ek_trust_free(registrar.trust);
        identity_trust_done(&registrar.identity);
        store_free(registrar.store);
        return ret < 0 ? EXIT_FAILED : EXIT_OK;
}
