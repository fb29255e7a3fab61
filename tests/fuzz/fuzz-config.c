/* Fuzzes agent_config_load on an agent.conf in a memfd; invariant: a loaded config holds only valid values. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/ek.h"
#include "lib/cleanup.h"

#define FIELD_IS_STRING(field) (strnlen((field), sizeof(field)) < sizeof(field))

static int ip_valid(const char *ip) {
        unsigned char addr[16];

        return inet_pton(AF_INET, ip, addr) == 1 || inet_pton(AF_INET6, ip, addr) == 1;
}

/* A bool written through a void * (lib/conf.c) must still hold 0 or 1. */
static int bool_valid(const bool *field) {
        uint8_t byte;

        memcpy(&byte, field, 1);
        return byte <= 1;
}

static void expect_valid(const struct agent_config *config) {
        if (!FIELD_IS_STRING(config->uuid) || !FIELD_IS_STRING(config->ip) || !FIELD_IS_STRING(config->contact_ip) ||
            !FIELD_IS_STRING(config->registrar_ip) || !FIELD_IS_STRING(config->tpm_encryption_alg) ||
            !FIELD_IS_STRING(config->tcti) || !FIELD_IS_STRING(config->registrar_tls_ca_cert) ||
            !FIELD_IS_STRING(config->state_dir) || !FIELD_IS_STRING(config->server_key) ||
            !FIELD_IS_STRING(config->server_cert))
                abort();
        if (!bool_valid(&config->registrar_tls) || !bool_valid(&config->exponential_backoff))
                abort();
        if (config->max_retries > 86400 || config->retry_interval > 86400)
                abort();
        if (!ip_valid(config->ip) || !ip_valid(config->contact_ip))
                abort();
        /* registrar_port 0: the scheme's (8891 with registrar_tls, else 8890), as registrar_client_init reads it */
        if (config->port == 0 || config->contact_port == 0)
                abort();
        if (config->tpm_hash_alg != TPM2_ALG_SHA256 && config->tpm_hash_alg != TPM2_ALG_SHA384 &&
            config->tpm_hash_alg != TPM2_ALG_SHA512)
                abort();
        if (!ek_alg_valid(config->tpm_encryption_alg) ||
            (config->tpm_signing_alg != TPM2_ALG_RSASSA && config->tpm_signing_alg != TPM2_ALG_ECDSA))
                abort();
        if (config->ek_handle != 0 && config->ek_handle >> 24 != TPM2_HT_PERSISTENT)
                abort();
        if (config->ak_handle >> 24 != TPM2_HT_PERSISTENT)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(closep) int fd = memfd_create("fuzz-agent.conf", MFD_CLOEXEC);
        struct agent_config config;
        char path[64];
        size_t written = 0;

        if (fd < 0)
                abort();
        while (written < size) {
                ssize_t n = write(fd, data + written, size - written);

                if (n <= 0)
                        abort();
                written += (size_t)n;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        agent_config_defaults(&config);
        if (agent_config_load(path, true, &config) == 0)
                expect_valid(&config);
        return 0;
}
