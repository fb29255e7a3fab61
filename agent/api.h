/* The agent API the verifier polls (docs/protocol.md §2, Keylime API v2.1-2.6, pull model):
 * version, agent info, the payload key, identity and integrity quotes with the IMA, firmware and
 * vmattest measurement lists, and the verifier's revocation notifications (§2.8). Served over
 * mutual TLS by `vmattest serve`. */
#pragma once

#include <event2/http.h>
#include <openssl/evp.h>

#include "agent/agent_identity.h"
#include "agent/config.h"
#include "agent/host_binding_evidence.h"
#include "agent/ima_source.h"
#include "agent/keys.h"
#include "agent/payload_key.h"
#include "agent/revocation_actions.h"
#include "lib/quote_string.h"

#define AGENT_API_MIN_MINOR 1
#define AGENT_API_MAX_MINOR 6

struct agent_api {
        const struct agent_config *config;
        struct agent_identity *id;
        struct payload_key *payload;
        struct ima_source ima;
        uint8_t pcr16[TPM2_MAX_DIGEST_BUFFER]; /* what PCR 16 holds while the payload key is bound */
        struct key_release keys;
        bool keys_verified; /* the verifier had K proved (GET /keys/verify answered) */
        /* who waits for the release (unlock): told once when K authenticated (the payload
         * opened), and each time the verifier had K proved; called from the request handler */
        void (*on_key_released)(void *user);
        void (*on_key_verified)(void *user);
        void *release_user;
        bool key_released_told;
        bool banks_warned;            /* the firmware log and ours declare different banks: said once */
        bool accept_keys;   /* a key release is served (unlock; serve with runtime_release) */
        /* serve took this boot's identity over from `unlock`, which hands over only after the
         * boot's key was released: a V posted again is Keylime's re-send, not a release */
        bool released_in_initrd;
        /* revocation notifications: the key of revocation_cert (NULL: none configured, or it
         * could not be loaded, as revocation_unusable says) and the agent's own actions */
        EVP_PKEY *revocation_key;
        char revocation_unusable[320];
        struct revocation_actions revocation_actions;
        struct host_binding_evidence host_binding; /* docs/protocol.md §5.9 */
        unsigned long requests;
};

int agent_api_init(struct agent_api *api, const struct agent_config *config, struct agent_identity *id,
                   struct payload_key *payload);
/* Kills a revocation action still running: before the event base is freed. */
void agent_api_done(struct agent_api *api);
/* What the push model (agent/push_evidence.h) gives from the same code as the pull model's
 * answers: a quote over `mask` and PCR 16 with `nonce` as qualifying data (PCR 16 bound again
 * when something moved it, docs/protocol.md §2.5); the event log served as mb_measurement_list,
 * base64 (*base64 NULL when there is none, §8); the boot time in seconds since 1970. */
int agent_api_quote(struct agent_api *api, const uint8_t *nonce, size_t nonce_size, uint32_t mask,
                    struct quote_parts *parts);
int agent_api_event_log(struct agent_api *api, char **base64);
long agent_boot_time(void);
/* The evhttp callback; `user` is the struct agent_api. */
void agent_api_handle(struct evhttp_request *req, void *user);
