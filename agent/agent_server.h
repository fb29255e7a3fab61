/* The running agent, as `serve` and `unlock` both bring it up: identity (TPM, EK, AK, id, mTLS
 * certificate), registration, the payload key bound to PCR 16, and the agent API over mutual
 * TLS on an event loop that stops on SIGTERM or SIGINT; with mode = push, no listener: the push
 * client (agent/push_client.h) attests to the verifier on that loop instead. */
#pragma once

#include <event2/event.h>
#include <openssl/ssl.h>
#include <time.h>

#include "agent/agent_identity.h"
#include "agent/api.h"
#include "agent/payload_key.h"
#include "agent/push_client.h"
#include "lib/http_server.h"

/* Connections open at once on the agent API: its clients are a verifier or two, one connection
 * per poll; more are closed on accept, so a stranger cannot take the agent's descriptors. */
#define AGENT_API_MAX_CONNECTIONS 64

struct agent_server {
        struct agent_identity id;
        struct payload_key payload;
        struct agent_api api;
        bool api_ready;
        struct http_listener *listener;
        struct event_base *base;
        struct event *sigterm, *sigint;
        SSL_CTX *tls;
        /* mode = push: no listener; the client attests on the event loop (docs/protocol.md §4) */
        struct push_client push;
        bool pushing;
        bool stopped_by_signal;
};

/* How `serve` and `unlock` differ in bringing the agent up. */
struct agent_server_setup {
        const char *tcti;
        bool do_register;
        /* CLOCK_MONOTONIC second after which registration stops retrying (0: config's max_retries) */
        time_t register_deadline;
        enum mtls_source mtls;
        struct handover *handover; /* MTLS_HANDOVER: this boot's identity from `unlock` (consumed) */
        bool accept_keys;          /* serve POST /keys/ukey, /keys/vkey and GET /keys/verify */
};

int agent_server_start(struct agent_server *s, const struct agent_config *config, const struct agent_server_setup *setup);
void agent_server_stop(struct agent_server *s);
