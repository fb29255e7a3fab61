#include "agent/config.h"

#include <libgen.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ak.h"
#include "agent/azure_imds.h"
#include "agent/cc_event_log.h"
#include "agent/ek.h"
#include "agent/host_binding_fresh.h"
#include "agent/platform_ak.h"
#include "agent/tpm.h"
#include "agent/tsm_report.h"
#include "lib/agent_id.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/conf.h"
#include "lib/hashalg.h"
#include "lib/host_binding.h"

/* Parsers for the agent's own value types; the generic ones are in lib/conf.c. */
static int parse_hash_alg(const char *value, void *field, size_t size, char *why, size_t why_size) {
        TPM2_ALG_ID alg = hashalg_for_quotes(value);

        if (alg == TPM2_ALG_ERROR)
                return snprintf(why, why_size, "\"%s\" is not sha256, sha384 or sha512", value), -1;
        *(TPM2_ALG_ID *)field = alg;
        return 0;
}

static int parse_ek_alg(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!ek_alg_valid(value))
                return snprintf(why, why_size, "\"%s\" is not rsa, ecc, rsa2048, ecc256 or ecc384", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_sign_alg(const char *value, void *field, size_t size, char *why, size_t why_size) {
        /* rust-keylime's names; its other schemes (rsapss, ecschnorr, ecdaa) make an AK that
         * vmattest-verifier cannot check (docs/protocol.md §1.5) */
        TPM2_ALG_ID alg = ak_sign_alg_from_name(value);

        if (alg == TPM2_ALG_ERROR)
                return snprintf(why, why_size, "\"%s\" is not rsassa (an RSA-2048 AK) or ecdsa (an ECC NIST P-256 AK)",
                                value),
                       -1;
        *(TPM2_ALG_ID *)field = alg;
        return 0;
}

static int parse_handle(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!tpm_persistent_handle_parse(value, field))
                return snprintf(why, why_size, "\"%s\" is not a persistent handle 0x81xxxxxx", value), -1;
        return 0;
}

static int parse_ak_source(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!ak_source_valid(value))
                return snprintf(why, why_size, "\"%s\" is not auto, agent, azure or gce", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_ek_handle(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (strcmp(value, "generate") == 0) {
                *(TPM2_HANDLE *)field = 0;
                return 0;
        }
        if (parse_handle(value, field, size, why, why_size) < 0)
                return snprintf(why, why_size, "\"%s\" is not a persistent handle 0x81xxxxxx or \"generate\"", value),
                       -1;
        return 0;
}

bool agent_config_uuid_valid(const char *value) {
        return strcmp(value, "hash_ek") == 0 || strcmp(value, "generate") == 0 || agent_id_valid(value);
}

bool agent_config_fallback_valid(const char *value) {
        return strcmp(value, "prompt") == 0 || strcmp(value, "poweroff") == 0;
}

/* What systemd-cryptsetup asks for (askpass.c matches either form): a LUKS UUID as cryptsetup
 * writes it (lowercase), or its /dev/disk/by-uuid/ link. */
static bool luks_uuid_valid(const char *uuid, size_t len) {
        if (len != AGENT_CONFIG_LUKS_UUID_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = uuid[i];

                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (c != '-')
                                return false;
                } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        return true;
}

bool agent_config_volume_valid(const char *volume, size_t len) {
        size_t dir_len = strlen(AGENT_CONFIG_BY_UUID_DIR);

        if (len > dir_len && strncmp(volume, AGENT_CONFIG_BY_UUID_DIR, dir_len) == 0)
                return luks_uuid_valid(volume + dir_len, len - dir_len);
        return luks_uuid_valid(volume, len);
}

/* unlock_volumes: a comma-separated list of volumes (the key may repeat), each as the kernel
 * command line's rd.vmattest.volume takes it. */
static int parse_volumes(const char *value, void *field, size_t size, char *why, size_t why_size) {
        for (const char *volume = value;;) {
                size_t len = strcspn(volume, ",");

                if (len == 0 || !agent_config_volume_valid(volume, len))
                        return snprintf(why, why_size, "\"%.*s\" is not a LUKS UUID (lowercase) or %sUUID",
                                        (int)(len < 64 ? len : 64), volume, AGENT_CONFIG_BY_UUID_DIR),
                               -1;
                if (!volume[len])
                        break;
                volume += len + 1;
        }
        return conf_parse_list(value, field, size, why, why_size);
}

int agent_config_parse_timeout(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (conf_parse_uint(value, field, size, why, why_size) < 0 || *(unsigned *)field == 0)
                return snprintf(why, why_size, "\"%s\" is not a number of seconds 1-86400", value), -1;
        return 0;
}

static int parse_uuid(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!agent_config_uuid_valid(value))
                return snprintf(why, why_size, "\"%s\" is not hash_ek, generate, or an id of 1-%d characters A-Z a-z 0-9 . _ -",
                                value, AGENT_ID_MAX),
                       -1;
        return conf_parse_string(value, field, size, why, why_size);
}

bool agent_config_platform_report_valid(const char *value) {
        return strcmp(value, "off") == 0 || strcmp(value, "auto") == 0 || strcmp(value, "required") == 0;
}

static int parse_platform_report(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!agent_config_platform_report_valid(value))
                return snprintf(why, why_size, "\"%s\" is not off, auto or required", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_host_binding(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!agent_config_platform_report_valid(value) && strcmp(value, "fresh") != 0)
                return snprintf(why, why_size, "\"%s\" is not off, auto, required or fresh", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_host_service(const char *value, void *field, size_t size, char *why, size_t why_size) {
        const char *problem;

        if (*value && host_service_address_check(value, &problem) < 0)
                return snprintf(why, why_size, "\"%.200s\": %s", value, problem), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

/* An ordinary NV index's handle, 0x01000000-0x01ffffff (TPM 2.0 Part 2, TPM_HT_NV_INDEX). */
static int parse_nv_index(const char *value, void *field, size_t size, char *why, size_t why_size) {
        unsigned long index;
        const char *digits = strncmp(value, "0x", 2) == 0 || strncmp(value, "0X", 2) == 0 ? value + 2 : value;
        char *end;

        index = strtoul(digits, &end, 16);
        if (!*digits || strlen(digits) > 8 || *end || index < 0x01000000ul || index > 0x01fffffful)
                return snprintf(why, why_size, "\"%.32s\" is not an NV index 0x01xxxxxx", value), -1;
        *(TPM2_HANDLE *)field = (TPM2_HANDLE)index;
        return 0;
}

bool agent_config_mode_valid(const char *value) {
        return strcmp(value, "push") == 0 || strcmp(value, "pull") == 0;
}

bool agent_config_push(const struct agent_config *config) {
        return strcmp(config->mode, "push") == 0;
}

static int parse_mode(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!agent_config_mode_valid(value))
                return snprintf(why, why_size, "\"%s\" is not push or pull", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

/* verifier_url: where a push-mode agent sends its evidence, https://HOST[:PORT] and nothing
 * after it (the paths are Keylime's API v3's) */
static int parse_verifier_url(const char *value, void *field, size_t size, char *why, size_t why_size) {
        const char *host = value + strlen("https://");

        if (strncmp(value, "https://", strlen("https://")) != 0 || !*host || strcspn(host, "/?#") != strlen(host))
                return snprintf(why, why_size, "\"%s\" is not https://HOST[:PORT] (no path)", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_service_provider(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (*value && strcmp(value, "svsm") != 0)
                return snprintf(why, why_size, "\"%s\" is not svsm (or empty: none)", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_payload_key(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (strcmp(value, "tpm") != 0 && strcmp(value, "software") != 0)
                return snprintf(why, why_size, "\"%s\" is not tpm or software", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_fallback(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!agent_config_fallback_valid(value))
                return snprintf(why, why_size, "\"%s\" is not prompt or poweroff", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

bool agent_config_action_name_valid(const char *name, size_t len) {
        if (len == 0 || len > 255 || name[0] == '.')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", name[i]) || !name[i])
                        return false;
        return true;
}

/* revocation_actions: names of files in revocation_actions_dir, comma-separated (blanks
 * around a name are dropped, as in rust-keylime's "a, b"); never a path, so that nothing
 * outside that directory can be named. The key may repeat; an empty value adds nothing. */
static int parse_action_names(const char *value, void *field, size_t size, char *why, size_t why_size) {
        for (const char *item = value; *item;) {
                size_t len = strcspn(item, ","), start = strspn(item, " \t"), end = len;
                char name[256];

                while (end > start && (item[end - 1] == ' ' || item[end - 1] == '\t'))
                        end--;
                if (!agent_config_action_name_valid(item + start, end - start))
                        return snprintf(why, why_size, "\"%.*s\" is not the name of a file in revocation_actions_dir "
                                                       "(1-255 of A-Z a-z 0-9 . _ -, not starting with '.')",
                                        (int)(len < 64 ? len : 64), item),
                               -1;
                snprintf(name, sizeof(name), "%.*s", (int)(end - start), item + start);
                if (conf_parse_list(name, field, size, why, why_size) < 0)
                        return -1;
                item += len + (item[len] == ',');
        }
        return 0;
}

/* handover_user: a uid, or a user name /etc/passwd knows (in the initrd, its own /etc/passwd:
 * a uid needs none). Empty or root: the hand-over stays root's. */
static int parse_user(const char *value, void *field, size_t size, char *why, size_t why_size) {
        char *end;
        unsigned long uid;
        struct passwd pw, *found = NULL;
        char buf[1024];

        if (!*value) {
                *(uid_t *)field = 0;
                return 0;
        }
        uid = strtoul(value, &end, 10);
        if (value[0] >= '0' && value[0] <= '9' && !*end) {
                if (uid >= (uid_t)-1)
                        return snprintf(why, why_size, "%s is not a uid", value), -1;
                *(uid_t *)field = (uid_t)uid;
                return 0;
        }
        if (getpwnam_r(value, &pw, buf, sizeof(buf), &found) != 0 || !found)
                return snprintf(why, why_size, "no user \"%.64s\" in /etc/passwd (a numeric uid needs no entry)", value),
                       -1;
        *(uid_t *)field = found->pw_uid;
        return 0;
}

#define KEY(name, parser) CONF_KEY("agent", struct agent_config, name, parser)
static const struct conf_key agent_keys[] = {
        KEY(uuid, parse_uuid),
        KEY(ip, conf_parse_ip),
        KEY(port, conf_parse_port),
        KEY(contact_ip, conf_parse_ip),
        KEY(contact_port, conf_parse_port),
        KEY(registrar_ip, conf_parse_string),
        KEY(registrar_port, conf_parse_port),
        KEY(tpm_hash_alg, parse_hash_alg),
        KEY(tpm_encryption_alg, parse_ek_alg),
        KEY(tpm_signing_alg, parse_sign_alg),
        KEY(ek_handle, parse_ek_handle),
        KEY(ak_handle, parse_handle),
        KEY(ak_source, parse_ak_source),
        KEY(tcti, conf_parse_string),
        KEY(registrar_tls, conf_parse_bool),
        KEY(registrar_tls_ca_cert, conf_parse_string),
        KEY(max_retries, conf_parse_uint),
        KEY(retry_interval, conf_parse_uint),
        KEY(exponential_backoff, conf_parse_bool),
        KEY(state_dir, conf_parse_string),
        KEY(server_key, conf_parse_string),
        KEY(server_cert, conf_parse_string),
        KEY(trusted_client_ca, conf_parse_string),
        KEY(ima_ml_path, conf_parse_string),
        KEY(measuredboot_ml_path, conf_parse_string),
        KEY(vmattest_ml_path, conf_parse_string),
        KEY(unlock_volumes, parse_volumes),
        KEY(unlock_timeout, agent_config_parse_timeout),
        KEY(unlock_fallback, parse_fallback),
        KEY(askpass_dir, conf_parse_string),
        KEY(ima_policy, conf_parse_string),
        KEY(handover_path, conf_parse_string),
        { "agent", "handover_user", parse_user, offsetof(struct agent_config, handover_uid), sizeof(uid_t) },
        KEY(runtime_release, conf_parse_bool),
        KEY(pcr15_in_event_log, conf_parse_bool),
        KEY(revocation_cert, conf_parse_string),
        KEY(revocation_actions_dir, conf_parse_string),
        KEY(revocation_actions, parse_action_names),
        KEY(revocation_action_timeout, agent_config_parse_timeout),
        KEY(platform_report, parse_platform_report),
        KEY(payload_key, parse_payload_key),
        KEY(tsm_report_dir, conf_parse_string),
        KEY(tsm_service_provider, parse_service_provider),
        KEY(cc_event_log_path, conf_parse_string),
        KEY(azure_imds_url, conf_parse_string),
        KEY(host_binding, parse_host_binding),
        KEY(host_binding_index, parse_nv_index),
        KEY(mode, parse_mode),
        KEY(verifier_url, parse_verifier_url),
        KEY(verifier_tls_ca_cert, conf_parse_string),
        KEY(attestation_interval_seconds, agent_config_parse_timeout),
        KEY(host_service, parse_host_service),
        KEY(host_service_timeout, agent_config_parse_timeout),
};
#undef KEY

void agent_config_defaults(struct agent_config *config) {
        *config = (struct agent_config){
                .port = 9002,
                .contact_port = 0, /* unset: the same as port */
                .registrar_port = 0, /* the scheme's: 8891 for HTTPS, 8890 for HTTP */
                .registrar_tls = true,
                .tpm_hash_alg = TPM2_ALG_SHA256,
                .tpm_signing_alg = TPM2_ALG_RSASSA,
                .ek_handle = 0,
                .ak_handle = AK_DEFAULT_HANDLE,
                .max_retries = 10,
                .retry_interval = 1,
                .exponential_backoff = true,
        };
        strcpy(config->uuid, "hash_ek");
        strcpy(config->state_dir, "/var/lib/vmattest");
        strcpy(config->server_key, "server-private.pem");
        strcpy(config->server_cert, "server-cert.crt");
        strcpy(config->trusted_client_ca, "/etc/vmattest/verifier-ca.pem");
        strcpy(config->ima_ml_path, "/sys/kernel/security/ima/ascii_runtime_measurements");
        strcpy(config->measuredboot_ml_path, "/sys/kernel/security/tpm0/binary_bios_measurements");
        strcpy(config->vmattest_ml_path, "/run/vmattest/measurements.log");
        config->pcr15_in_event_log = true;
        config->unlock_timeout = 300;
        strcpy(config->revocation_actions_dir, "/usr/libexec/vmattest");
        config->revocation_action_timeout = 60;
        strcpy(config->unlock_fallback, "prompt");
        strcpy(config->payload_key, "tpm");
        strcpy(config->mode, "pull");
        strcpy(config->verifier_url, "https://127.0.0.1:8881");
        strcpy(config->verifier_tls_ca_cert, "/etc/vmattest/verifier-tls-ca.pem");
        config->attestation_interval_seconds = 60;
        strcpy(config->platform_report, "auto");
        strcpy(config->host_binding, "auto");
        config->host_binding_index = HOST_BINDING_NV_INDEX;
        config->host_service_timeout = HOST_SERVICE_TIMEOUT_DEFAULT;
        strcpy(config->tsm_report_dir, TSM_REPORT_DIR);
        strcpy(config->cc_event_log_path, CC_EVENT_LOG_PATH);
        strcpy(config->azure_imds_url, AZURE_IMDS_TD_QUOTE_URL);
        strcpy(config->askpass_dir, "/run/systemd/ask-password");
        strcpy(config->ima_policy, "/etc/vmattest/ima-policy");
        strcpy(config->handover_path, "/run/vmattest/handover");
        strcpy(config->ip, "127.0.0.1");
        strcpy(config->registrar_ip, "127.0.0.1");
        strcpy(config->tpm_encryption_alg, "rsa");
        strcpy(config->ak_source, "auto");
        strcpy(config->registrar_tls_ca_cert, "/etc/vmattest/registrar-ca.pem");
}

/* The hand-over's directory becomes handover_user's: it must hold nothing of root's, such as
 * the PCR 15 log that root's `vmattest measure` appends to. */
static int check_handover_dir(const char *path, const struct agent_config *config) {
        char handover_dir[sizeof(config->handover_path)], log_dir[sizeof(config->vmattest_ml_path)];

        if (config->handover_uid == 0)
                return 0;
        snprintf(handover_dir, sizeof(handover_dir), "%s", config->handover_path);
        snprintf(log_dir, sizeof(log_dir), "%s", config->vmattest_ml_path);
        if (strcmp(dirname(handover_dir), dirname(log_dir)) == 0)
                return vm_error(-EINVAL,
                                "%s: handover_user: handover_path %s is in the directory of vmattest_ml_path, which "
                                "handover_user would own: give the hand-over a directory of its own (handover_path = "
                                "\"/run/vmattest/handover.d/handover\")",
                                path, config->handover_path);
        return 0;
}

int agent_config_load(const char *path, bool must_exist, struct agent_config *config) {
        int ret = conf_load(path, must_exist, agent_keys, ELEMENTSOF(agent_keys), config);

        if (ret >= 0)
                ret = check_handover_dir(path, config);

        /* as Keylime's agent: where the verifier reaches the agent is where it listens, unless
         * told otherwise (behind NAT, a port forward) */
        if (ret >= 0 && !config->contact_ip[0])
                strcpy(config->contact_ip, config->ip);
        if (ret >= 0 && !config->contact_port)
                config->contact_port = config->port;
        return ret;
}

int agent_config_get(const struct agent_config *config, const char *name, char *out, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(agent_keys); i++) {
                int ret;

                if (strcmp(agent_keys[i].name, name) != 0)
                        continue;
                struct conf_key key = agent_keys[i];

                /* keys with rules of their own print as the plain kind they store */
                if (key.parse == parse_volumes || key.parse == parse_action_names)
                        key.parse = conf_parse_list;
                else if (key.parse == agent_config_parse_timeout)
                        key.parse = conf_parse_uint;
                else if (key.parse == parse_uuid || key.parse == parse_fallback || key.parse == parse_ek_alg ||
                         key.parse == parse_platform_report || key.parse == parse_service_provider ||
                         key.parse == parse_host_binding || key.parse == parse_host_service ||
                         key.parse == parse_ak_source || key.parse == parse_mode || key.parse == parse_verifier_url)
                        key.parse = conf_parse_string;
                ret = conf_format(&key, config, out, size);
                if (ret == -ENOTSUP)
                        return vm_error(ret, "%s has no plain text form to print", name);
                return ret;
        }
        return vm_error(-ENOENT, "%s is not a key of [agent]", name);
}
