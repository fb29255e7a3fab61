/* Fuzzes cmdline_apply on a kernel command line; invariants: an accepted line leaves only valid,
 * terminated values and applying it again changes nothing; a refused one changes nothing. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmdline.h"
#include "agent/config.h"
#include "lib/log.h"

#define FIELD_IS_STRING(field) (strnlen((field), sizeof(field)) < sizeof(field))

static int ip_valid(const char *ip) {
        unsigned char addr[16];

        return inet_pton(AF_INET, ip, addr) == 1 || inet_pton(AF_INET6, ip, addr) == 1;
}

static void expect_valid(const struct agent_config *config) {
        if (!FIELD_IS_STRING(config->uuid) || !FIELD_IS_STRING(config->contact_ip) ||
            !FIELD_IS_STRING(config->registrar_ip) || !FIELD_IS_STRING(config->unlock_volumes) ||
            !FIELD_IS_STRING(config->unlock_fallback))
                abort();
        if (!config->registrar_ip[0] || !ip_valid(config->contact_ip))
                abort();
        /* registrar_port 0: the scheme's (8891 with registrar_tls, else 8890), as registrar_client_init reads it */
        if (config->port == 0 || config->contact_port == 0)
                abort();
        if (config->unlock_timeout < 1 || config->unlock_timeout > 86400)
                abort();
        if (strcmp(config->unlock_fallback, "prompt") != 0 && strcmp(config->unlock_fallback, "poweroff") != 0)
                abort();
        /* the list is what systemd-cryptsetup can ask for: no empty element, no space */
        if (strstr(config->unlock_volumes, ",,") || strchr(config->unlock_volumes, ' ') ||
            config->unlock_volumes[0] == ',')
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct agent_config config, before, again;

        log_setup("fuzz-cmdline", LOG_LEVEL_ERROR);
        agent_config_defaults(&config);
        if (agent_config_load("/nonexistent/vmattest/agent.conf", false, &config) < 0)
                abort();
        memcpy(&before, &config, sizeof(config));
        if (cmdline_apply((const char *)data, size, &config) < 0) {
                if (memcmp(&config, &before, sizeof(config)) != 0)
                        abort();
                return 0;
        }
        expect_valid(&config);
        memcpy(&again, &config, sizeof(config));
        if (cmdline_apply((const char *)data, size, &again) < 0 || memcmp(&config, &again, sizeof(config)) != 0)
                abort();
        return 0;
}
