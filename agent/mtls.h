/* The agent's HTTPS server identity (SPEC §2): an ECC P-256 key and a self-signed certificate
 * with CN = agent id and SAN IP = contact ip, registered with the registrar as `mtls_cert`.
 * The key is created once in the state directory (mode 0600) and never leaves it. */
#pragma once

#include "agent/config.h"

/* Loads the key and certificate, creating them when missing; re-issues the certificate (same
 * key) when its CN or IP no longer match. *cert_pem: malloc'ed PEM of the certificate. */
int mtls_identity_ensure(const struct agent_config *config, const char *agent_id, char **cert_pem);
