/* The registrar role of vmattest-verifier: Keylime's registrar API v2.0-2.6 (docs/protocol.md §1),
 * with the checks Keylime leaves to its tenant done here before anything is answered: the EK
 * certificate certifies ek_tpm and chains to the tenant's CA store (or a cloud's AK certificate
 * certifies aik_tpm and chains to ak_cert_store, or the EK hash is allow-listed, or the EK is
 * pinned: verifier/identity_proof.h), the AK is a restricted signing key, a known id keeps its keys, a hash_ek id is the
 * hash of its EK. A registration of a known id waits beside the activated one until its challenge
 * is answered; a wrong answer drops only that attempt. */
#pragma once

#include "verifier/registration_limit.h"

#include <event2/http.h>

#include "verifier/config.h"
#include "verifier/ek_check.h"
#include "verifier/identity_proof.h"
#include "verifier/poller.h"
#include "verifier/store.h"

#define REGISTRAR_API_MAX_MINOR 6

struct registrar {
        const struct verifier_config *config;
        struct store *store;
        struct ek_trust *trust;
        struct identity_trust identity; /* ak_cert_store and ek_pinned_store */
        unsigned long requests;
        struct registration_limit limit; /* per source; set per_source from the config */
        struct poller *poller;           /* told of each activation; may be NULL */
};

/* The evhttp callback; `user` is the struct registrar. */
void registrar_handle(struct evhttp_request *req, void *user);
