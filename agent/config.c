#include "agent/config.h"

#include <arpa/inet.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ak.h"
#include "agent/ek.h"
#include "agent/tpm.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"

enum key_type { KEY_STRING, KEY_IP, KEY_PORT, KEY_HASH_ALG, KEY_EK_ALG, KEY_SIGN_ALG, KEY_HANDLE };

static const struct config_key {
        const char *name;
        enum key_type type;
        size_t offset;
        size_t size;
} config_keys[] = {
#define KEY(name, type) { #name, type, offsetof(struct agent_config, name), sizeof(((struct agent_config *)0)->name) }
        KEY(uuid, KEY_STRING),
        KEY(ip, KEY_IP),
        KEY(port, KEY_PORT),
        KEY(contact_ip, KEY_IP),
        KEY(contact_port, KEY_PORT),
        KEY(registrar_ip, KEY_STRING),
        KEY(registrar_port, KEY_PORT),
        KEY(tpm_hash_alg, KEY_HASH_ALG),
        KEY(tpm_encryption_alg, KEY_EK_ALG),
        KEY(tpm_signing_alg, KEY_SIGN_ALG),
        KEY(ek_handle, KEY_HANDLE),
        KEY(ak_handle, KEY_HANDLE),
        KEY(tcti, KEY_STRING),
#undef KEY
};

void agent_config_defaults(struct agent_config *config) {
        *config = (struct agent_config){
                .port = 9002,
                .contact_port = 9002,
                .registrar_port = 8890,
                .tpm_hash_alg = TPM2_ALG_SHA256,
                .tpm_signing_alg = TPM2_ALG_RSASSA,
                .ek_handle = 0,
                .ak_handle = AK_DEFAULT_HANDLE,
        };
        strcpy(config->ip, "127.0.0.1");
        strcpy(config->contact_ip, "127.0.0.1");
        strcpy(config->registrar_ip, "127.0.0.1");
        strcpy(config->tpm_encryption_alg, "rsa");
}

struct parse_state {
        struct agent_config *config;
        char error[256]; /* the first error; inih gives its line number */
};

static int parse_value(const struct config_key *key, const char *value, void *field, char *why, size_t why_size) {
        char *end;

        switch (key->type) {
        case KEY_STRING:
        case KEY_IP:
        case KEY_EK_ALG:
                if (strlen(value) >= key->size)
                        return snprintf(why, why_size, "value longer than %zu characters", key->size - 1), -1;
                if (key->type == KEY_IP) {
                        unsigned char addr[16];

                        if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1)
                                return snprintf(why, why_size, "\"%s\" is not an IPv4 or IPv6 address", value), -1;
                }
                if (key->type == KEY_EK_ALG && !ek_alg_valid(value))
                        return snprintf(why, why_size, "\"%s\" is not rsa, ecc, rsa2048, ecc256 or ecc384", value), -1;
                strcpy(field, value);
                return 0;
        case KEY_PORT: {
                unsigned long port = strtoul(value, &end, 10);

                if (!*value || *end || port == 0 || port > 65535)
                        return snprintf(why, why_size, "\"%s\" is not a port number 1-65535", value), -1;
                *(uint16_t *)field = (uint16_t)port;
                return 0;
        }
        case KEY_HASH_ALG: {
                TPM2_ALG_ID alg = hashalg_from_name(value);

                if (alg == TPM2_ALG_ERROR || alg == TPM2_ALG_SHA1)
                        return snprintf(why, why_size, "\"%s\" is not sha256, sha384 or sha512", value), -1;
                *(TPM2_ALG_ID *)field = alg;
                return 0;
        }
        case KEY_SIGN_ALG:
                /* Keylime's default tenant accepts rsassa and ecschnorr; the AK is RSA (SPEC §2). */
                if (strcmp(value, "rsassa") != 0)
                        return snprintf(why, why_size, "\"%s\" is not supported: only rsassa (RSA AK)", value), -1;
                *(TPM2_ALG_ID *)field = TPM2_ALG_RSASSA;
                return 0;
        case KEY_HANDLE: {
                unsigned long handle;

                if (strcmp(key->name, "ek_handle") == 0 && strcmp(value, "generate") == 0) {
                        *(TPM2_HANDLE *)field = 0;
                        return 0;
                }
                handle = strtoul(value, &end, 16);
                if (!*value || *end || (handle >> 24) != TPM2_HT_PERSISTENT)
                        return snprintf(why, why_size, "\"%s\" is not a persistent handle 0x81xxxxxx%s", value,
                                        strcmp(key->name, "ek_handle") == 0 ? " or \"generate\"" : ""),
                               -1;
                *(TPM2_HANDLE *)field = (TPM2_HANDLE)handle;
                return 0;
        }
        }
        return -1;
}

static int on_key(void *user, const char *section, const char *name, const char *raw_value) {
        struct parse_state *state = user;
        char value[512];
        size_t len = strlen(raw_value);

        if (state->error[0]) /* report the first error only */
                return 0;
        if (strcmp(section, "agent") != 0) {
                snprintf(state->error, sizeof(state->error), "key \"%s\" outside the [agent] section (in [%s])", name,
                         section);
                return 0;
        }
        if (len >= sizeof(value)) {
                snprintf(state->error, sizeof(state->error), "key \"%s\": value too long", name);
                return 0;
        }
        /* rust-keylime writes TOML-style quoted strings: accept "value" as value */
        if (len >= 2 && raw_value[0] == '"' && raw_value[len - 1] == '"') {
                memcpy(value, raw_value + 1, len - 2);
                value[len - 2] = '\0';
        } else
                memcpy(value, raw_value, len + 1);

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const struct config_key *key = &config_keys[i];
                char why[200];

                if (strcmp(key->name, name) != 0)
                        continue;
                if (parse_value(key, value, (char *)state->config + key->offset, why, sizeof(why)) < 0) {
                        snprintf(state->error, sizeof(state->error), "key \"%s\": %s", name, why);
                        return 0;
                }
                return 1;
        }
        snprintf(state->error, sizeof(state->error), "unknown key \"%s\"", name);
        return 0;
}

int agent_config_load(const char *path, bool must_exist, struct agent_config *config) {
        struct parse_state state = { .config = config };
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        int line;

        if (!f) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                return vm_error(-errno, "%s: cannot open: %m", path);
        }
        line = ini_parse_file(f, on_key, &state);
        if (line < 0)
                return vm_error(-EIO, "%s: cannot read", path);
        if (line > 0)
                return vm_error(-EINVAL, "%s:%d: %s", path, line,
                                state.error[0] ? state.error : "syntax error (expected key = value or [section])");
        return 0;
}
