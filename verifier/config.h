/* /etc/vmattest/verifier.conf: the tenant side's settings, one section per role. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define VERIFIER_CONFIG_PATH "/etc/vmattest/verifier.conf"
/* Connections open at once on each registrar port, by default: a fleet's agents registering
 * together (two short requests each) fit, and the descriptors stay far below the usual limits. */
#define REGISTRAR_MAX_CONNECTIONS 256

struct verifier_config {
        /* [registrar] (docs/protocol.md §1; Keylime's names where they exist) */
        char ip[64];
        uint16_t port;            /* plain HTTP, Keylime's 8890; 0 = off */
        uint16_t tls_port;        /* HTTPS, Keylime's 8891; 0 = off */
        char server_cert[256];    /* the registrar's HTTPS certificate and key (PEM) */
        char server_key[256];
        char trusted_client_ca[256]; /* on the TLS port, GET and DELETE need a client certificate from this CA */
        char tpm_cert_store[256]; /* directory of PEM CA certificates EK certificates must chain to */
        char ek_allowlist[8192];  /* EK hashes (hash_ek) accepted without EK certificate; the key repeats */
        char ak_cert_store[256];  /* directory of CA certificates (PEM/DER) a cloud vTPM's ak_cert must chain to */
        char ek_pinned_store[256]; /* directory of PEM EK public keys accepted without EK certificate */
        unsigned max_connections;  /* open at once on each port; more are closed on accept */
        unsigned request_deadline; /* seconds a client has to send a whole request */
        unsigned max_agents;       /* registrations held at most (a new id beyond: 503) */
        unsigned registrations_per_minute; /* from one source address (beyond: 429); 0 = no bound */
        /* [verifier]: polling the enrolled agents (docs/protocol.md §2) */
        unsigned quote_interval;  /* seconds between two polls of one agent */
        unsigned request_timeout; /* seconds before a poll counts as unanswered */
        char client_cert[256];    /* the verifier's TLS client certificate and key, from the CA agents trust */
        char client_key[256];
        char webhook_url[512];    /* failures are POSTed here as JSON; "" = none */
        char tpm_hash_alg[16];    /* the bank quotes are asked in */
        unsigned max_answer_mib;  /* the largest answer to one poll (an IMA list from entry 0) */
        bool ima_allow_violations; /* ima_violations = allow: IMA violations pass the runtime policy */
        /* software_payload_key = allow: U and V may be wrapped to a payload key the agent's AK
         * does not certify as TPM-resident (docs/protocol.md §5.10); refuse by default */
        bool allow_software_payload_key;
        /* seconds a key release prepared in push mode waits for the agent to fetch it
         * (docs/protocol.md §4.3); then it is withdrawn */
        unsigned push_release_ttl_seconds;
        /* hardware reports under a platform policy (docs/platforms.md) */
        char amd_certs_dir[256];       /* AMD's ASK/ARK bundles; the ARKs are pinned in code */
        char vcek_cache_dir[256];      /* Azure: VCEKs by chip id (hex), DER or PEM; "" = none */
        char intel_root_ca[256];       /* Intel's SGX root CA; pinned in code */
        char platform_test_roots[256]; /* roots trusted WITHOUT the pins, for test doubles; "" = none */
        /* [store] */
        char database[256];       /* SQLite file */
        char payload_vault[256];  /* the key tenant payloads are sealed under in the database (0600) */
};

void verifier_config_defaults(struct verifier_config *config);
int verifier_config_load(const char *path, bool must_exist, struct verifier_config *config);
/* True when `ek_hash` is in ek_allowlist. */
bool verifier_config_ek_allowed(const struct verifier_config *config, const char *ek_hash);
