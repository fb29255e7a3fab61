/* Fuzzes first_boot_config_parse, the vmattest: object of cloud-init user-data (the hook's
 * JSON). Invariants: an accepted object has every required field, each within its rules
 * (what cmd_first_boot.c writes into agent.conf unquoted-checked: host names, addresses and
 * volume paths carry no quote, blank or control character); a refused one holds nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/first_boot_config.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        log_setup("fuzz-first-boot-config", LOG_LEVEL_SILENT);
        return 0;
}

/* Text agent.conf can carry inside double quotes on one line. */
static void expect_plain(const char *text, size_t size) {
        size_t len = strnlen(text, size);

        if (len == size)
                abort();
        for (size_t i = 0; i < len; i++)
                if (text[i] <= ' ' || text[i] == '"' || text[i] == '\\' || text[i] > '~')
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct first_boot_config config;

        if (first_boot_config_parse((const char *)data, size, &config) < 0) {
                if (config.token || config.verifier_ca_pem || config.volume_count)
                        abort();
                return 0;
        }
        if (!config.token || config.token->size < FIRST_BOOT_TOKEN_MIN || config.token->size > FIRST_BOOT_TOKEN_MAX)
                abort();
        if (!config.verifier_ca_pem || config.verifier_ca_certs < 1 || config.verifier_ca_certs > FIRST_BOOT_CA_CERTS_MAX)
                abort();
        if (!config.registrar_host[0] || config.registrar_port == 0)
                abort();
        expect_plain(config.registrar_host, sizeof(config.registrar_host));
        expect_plain(config.contact_ip, sizeof(config.contact_ip));
        if (config.volume_count < 1 || config.volume_count > FIRST_BOOT_VOLUMES_MAX)
                abort();
        for (size_t i = 0; i < config.volume_count; i++) {
                expect_plain(config.volumes[i], sizeof(config.volumes[i]));
                if (strcmp(config.volumes[i], "root") != 0 && strncmp(config.volumes[i], "/dev/", 5) != 0)
                        abort();
        }
        first_boot_config_clear(&config);
        return 0;
}
