/* The agent's HTTPS server identity (docs/protocol.md §2): an ECC P-256 key and a self-signed
 * certificate with CN = agent id and SAN IP = contact ip, registered with the registrar as
 * `mtls_cert`. The key is created once in the state directory (mode 0600) and never leaves it. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "agent/config.h"

struct mtls_identity {
        EVP_PKEY *key;
        X509 *cert;
        char *cert_pem; /* as registered */
};

/* The persistent identity (`register`, `serve`): loads the key and certificate from the state
 * directory, creating them when missing; re-issues the certificate (same key) when its CN or IP
 * no longer match. */
int mtls_identity_ensure(const struct agent_config *config, const char *agent_id, struct mtls_identity *m);
/* `unlock`: a key and certificate for this boot, in memory only (the initrd keeps no state, and
 * the key reaches the runtime agent only through the hand-over). */
int mtls_identity_ephemeral(const struct agent_config *config, const char *agent_id, struct mtls_identity *m);
/* The identity handed over by `unlock`; takes ownership of key and cert. */
int mtls_identity_adopt(EVP_PKEY *key, X509 *cert, struct mtls_identity *m);
void mtls_identity_free(struct mtls_identity *m);
