#include "verifier/config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/conf.h"
#include "lib/hashalg.h"
#include "lib/http_server.h"
#include "verifier/push_release.h"
#include "verifier/snp_verify.h"
#include "verifier/tdx_verify.h"

/* MiB, 1..1024: a bound on what one agent can make the verifier hold (json-c takes an int size) */
static int parse_answer_mib(const char *value, void *field, size_t size, char *why, size_t why_size) {
        int ret = conf_parse_uint(value, field, size, why, why_size);

        if (ret >= 0 && (*(unsigned *)field < 1 || *(unsigned *)field > 1024))
                return snprintf(why, why_size, "\"%s\" is not 1 to 1024 (MiB)", value), -1;
        return ret;
}

static int parse_hash_alg(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (hashalg_for_quotes(value) == TPM2_ALG_ERROR)
                return snprintf(why, why_size, "\"%s\" is not sha256, sha384 or sha512", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

/* refuse|allow rather than a boolean: the value says what happens to a violation (and to a
 * release to a software payload key). */
static int parse_refuse_allow(const char *value, void *field, size_t size, char *why, size_t why_size) {
        (void)size;
        if (strcmp(value, "refuse") == 0)
                *(bool *)field = false;
        else if (strcmp(value, "allow") == 0)
                *(bool *)field = true;
        else
                return snprintf(why, why_size, "\"%s\" is not refuse or allow", value), -1;
        return 0;
}

static int parse_positive(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (conf_parse_uint(value, field, size, why, why_size) < 0 || *(unsigned *)field == 0)
                return snprintf(why, why_size, "\"%s\" is not a number 1-86400", value), -1;
        return 0;
}

#define KEY(section, name, parser) CONF_KEY(section, struct verifier_config, name, parser)
static const struct conf_key verifier_keys[] = {
        KEY("registrar", ip, conf_parse_ip),
        KEY("registrar", port, conf_parse_port_or_zero),
        KEY("registrar", tls_port, conf_parse_port_or_zero),
        KEY("registrar", server_cert, conf_parse_string),
        KEY("registrar", server_key, conf_parse_string),
        KEY("registrar", trusted_client_ca, conf_parse_string),
        KEY("registrar", tpm_cert_store, conf_parse_string),
        KEY("registrar", ek_allowlist, conf_parse_list),
        KEY("registrar", ak_cert_store, conf_parse_string),
        KEY("registrar", ek_pinned_store, conf_parse_string),
        KEY("registrar", max_connections, parse_positive),
        KEY("registrar", request_deadline, parse_positive),
        KEY("registrar", max_agents, parse_positive),
        KEY("registrar", registrations_per_minute, conf_parse_uint),
        KEY("verifier", quote_interval, conf_parse_uint),
        KEY("verifier", request_timeout, conf_parse_uint),
        KEY("verifier", client_cert, conf_parse_string),
        KEY("verifier", client_key, conf_parse_string),
        KEY("verifier", webhook_url, conf_parse_string),
        KEY("verifier", tpm_hash_alg, parse_hash_alg),
        KEY("verifier", max_answer_mib, parse_answer_mib),
        { "verifier", "ima_violations", parse_refuse_allow, offsetof(struct verifier_config, ima_allow_violations),
          sizeof(bool) },
        { "verifier", "software_payload_key", parse_refuse_allow,
          offsetof(struct verifier_config, allow_software_payload_key), sizeof(bool) },
        KEY("verifier", push_release_ttl_seconds, parse_positive),
        KEY("verifier", amd_certs_dir, conf_parse_string),
        KEY("verifier", vcek_cache_dir, conf_parse_string),
        KEY("verifier", intel_root_ca, conf_parse_string),
        KEY("verifier", platform_test_roots, conf_parse_string),
        KEY("store", database, conf_parse_string),
        KEY("store", payload_vault, conf_parse_string),
};
#undef KEY

void verifier_config_defaults(struct verifier_config *config) {
        *config = (struct verifier_config){ .port = 8890, .tls_port = 0, .quote_interval = 2, .request_timeout = 10,
                                            .max_answer_mib = 256, .max_connections = REGISTRAR_MAX_CONNECTIONS,
                                            .request_deadline = HTTP_REQUEST_DEADLINE, .max_agents = 50000,
                                            .registrations_per_minute = 120,
                                            .push_release_ttl_seconds = PUSH_RELEASE_TTL };
        strcpy(config->client_cert, "/etc/vmattest/verifier-client-cert.pem");
        strcpy(config->client_key, "/etc/vmattest/verifier-client-key.pem");
        strcpy(config->tpm_hash_alg, "sha256");
        strcpy(config->ip, "127.0.0.1");
        strcpy(config->server_cert, "/etc/vmattest/registrar-cert.pem");
        strcpy(config->server_key, "/etc/vmattest/registrar-key.pem");
        strcpy(config->tpm_cert_store, "/etc/vmattest/tpm_cert_store");
        strcpy(config->ak_cert_store, "/etc/vmattest/ak_cert_store");
        strcpy(config->ek_pinned_store, "/etc/vmattest/ek_pinned_store");
        strcpy(config->database, "/var/lib/vmattest-verifier/verifier.sqlite");
        strcpy(config->amd_certs_dir, SNP_AMD_CERTS_DIR);
        strcpy(config->intel_root_ca, TDX_INTEL_ROOT_FILE);
        strcpy(config->payload_vault, "/var/lib/vmattest-verifier/payload-vault.key");
}

int verifier_config_load(const char *path, bool must_exist, struct verifier_config *config) {
        return conf_load(path, must_exist, verifier_keys, ELEMENTSOF(verifier_keys), config);
}

bool verifier_config_ek_allowed(const struct verifier_config *config, const char *ek_hash) {
        size_t len = strlen(ek_hash);
        const char *p = config->ek_allowlist;

        while (*p) {
                size_t n;

                p += strspn(p, " ,");
                n = strcspn(p, " ,");
                if (n == len && n > 0 && strncasecmp(p, ek_hash, n) == 0)
                        return true;
                p += n;
        }
        return false;
}
