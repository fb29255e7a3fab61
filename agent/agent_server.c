#include "agent/agent_server.h"

#include "agent/push_release.h"

#include <signal.h>
#include <string.h>

#include "agent/registration.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/process_limits.h"

static void on_stop_signal(evutil_socket_t sig, short events, void *user) {
        struct agent_server *s = user;

        log_info("%s: stopping", strsignal((int)sig));
        notify_stopping();
        s->stopped_by_signal = true;
        event_base_loopexit(s->base, NULL);
}

int agent_server_start(struct agent_server *s, const struct agent_config *config, const struct agent_server_setup *setup) {
        struct payload_key_job job = { 0 };
        bool in_tpm = strcmp(config->payload_key, "tpm") == 0;
        bool push = agent_config_push(config);
        static const struct http_limits api_limits = { .max_connections = AGENT_API_MAX_CONNECTIONS,
                                                       .request_deadline = HTTP_REQUEST_DEADLINE };
        struct registrar_client registrar;
        long files;
        int ret = 0, made;

        memset(s, 0, sizeof(*s));
        signal(SIGPIPE, SIG_IGN);
        files = process_files_max();
        if (files < 0)
                log_warning("%s", vm_error_detail((int)files));
        payload_key_secure_heap();
        /* a new software payload key is made while the TPM and the registrar are busy */
        if (setup->mtls != MTLS_HANDOVER && !in_tpm)
                ret = payload_key_start(&job);
        if (ret >= 0)
                ret = agent_identity_open(config, setup->tcti, setup->mtls, setup->handover, &s->id);
        if (ret >= 0 && setup->do_register) {
                ret = registrar_client_init(&registrar, config);
                registrar.deadline = setup->register_deadline;
                if (ret >= 0) {
                        notify_status("registering agent %s with %s", s->id.agent_id, registrar.base_url);
                        ret = agent_register(config, &s->id, &registrar, NULL);
                }
        }
        /* one ESAPI context, one thread: the TPM makes its key once registered, so that its
         * time does not delay the first attempt at the registrar (unlock_timeout counts) */
        if (ret >= 0 && setup->mtls != MTLS_HANDOVER && in_tpm)
                ret = payload_key_make_in_tpm(&s->payload, s->id.tpm);
        if (job.running) {
                made = payload_key_finish(&job, &s->payload); /* joined whatever happened */
                ret = ret < 0 ? ret : made;
        } else if (ret >= 0 && setup->mtls == MTLS_HANDOVER && setup->handover->payload_in_tpm) {
                /* the hand-over decides, whatever this agent.conf says: the key is the one the
                 * verifier released to */
                ret = payload_key_load_in_tpm(&s->payload, s->id.tpm, &setup->handover->payload_parent,
                                              &setup->handover->payload_public, &setup->handover->payload_private);
        } else if (ret >= 0 && setup->mtls == MTLS_HANDOVER) {
                ret = payload_key_adopt(&s->payload, setup->handover->payload_key);
                if (ret >= 0)
                        setup->handover->payload_key = NULL; /* s->payload owns it */
        }
        /* a handed-over key binds PCR 16 to the value the verifier already knows */
        if (ret >= 0)
                ret = payload_key_bind(s->id.tpm, &s->payload, config->tpm_hash_alg);
        /* the AK vouches once that the served key lives in this TPM (docs/protocol.md §5.10) */
        if (ret >= 0)
                ret = payload_key_certify(&s->payload, &s->id.ak);
        if (ret >= 0) {
                ret = agent_api_init(&s->api, config, &s->id, &s->payload);
                s->api.accept_keys = setup->accept_keys;
                s->api.released_in_initrd = setup->mtls == MTLS_HANDOVER;
                s->api_ready = true;
        }
        if (ret >= 0 && !push)
                ret = http_tls_server_context_keys(s->id.mtls.cert, s->id.mtls.key, config->trusted_client_ca, true, &s->tls);
        if (ret >= 0 && !(s->base = event_base_new()))
                ret = -ENOMEM;
        if (ret >= 0 && !push)
                ret = http_listener_new(s->base, config->ip, config->port, s->tls, &api_limits, agent_api_handle,
                                        &s->api, &s->listener);
        if (ret >= 0 && push) {
                ret = push_client_start(&s->push, config, &s->api, s->base);
                /* unlock has unlock_timeout: a verifier (or an enrolment) that comes late in it
                 * must not find the agent asleep for a minute */
                if (setup->register_deadline)
                        s->push.backoff_max = PUSH_BACKOFF_UNLOCK_MAX_S;
                /* unlock takes the key in push mode through vmattest's extension (§4.3) */
                if (ret >= 0 && setup->accept_keys) {
                        s->push.on_accepted = push_release_on_accepted;
                        s->push.user = &s->push;
                }
                s->pushing = true;
        }
        if (ret >= 0) {
                s->sigterm = evsignal_new(s->base, SIGTERM, on_stop_signal, s);
                s->sigint = evsignal_new(s->base, SIGINT, on_stop_signal, s);
                if (!s->sigterm || !s->sigint || evsignal_add(s->sigterm, NULL) < 0 || evsignal_add(s->sigint, NULL) < 0)
                        ret = -ENOMEM;
        }
        if (ret >= 0 && !push)
                log_info("agent %s serving on https://%s:%u (mutual TLS, clients from %s)", s->id.agent_id, config->ip,
                         config->port, config->trusted_client_ca);
        if (ret < 0)
                agent_server_stop(s);
        return ret;
}

void agent_server_stop(struct agent_server *s) {
        if (s->sigterm)
                event_free(s->sigterm);
        if (s->sigint)
                event_free(s->sigint);
        http_listener_free(s->listener);
        if (s->pushing)
                push_client_stop(&s->push);
        /* before the event base: a revocation action still running has events on it */
        if (s->api_ready)
                agent_api_done(&s->api);
        if (s->base)
                event_base_free(s->base);
        SSL_CTX_free(s->tls);
        payload_key_free(&s->payload);
        agent_identity_close(&s->id);
        memset(s, 0, sizeof(*s));
}
