/* /etc/vmattest/agent.conf: an INI file (inih) whose [agent] keys carry the Keylime agent's
 * names where the concept is the same. A bad value or an unknown key is an error naming the
 * file, the line and the key; values may be quoted, as in rust-keylime's agent.conf. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <tss2/tss2_tpm2_types.h>

#define AGENT_CONFIG_PATH "/etc/vmattest/agent.conf"

struct agent_config {
        char uuid[81];             /* an id, "hash_ek" (default) or "generate" (once, kept) */
        char ip[64];               /* where the agent API listens */
        uint16_t port;
        char contact_ip[64];       /* where the verifier reaches it (default: ip) */
        uint16_t contact_port;     /* (default: port) */
        char registrar_ip[256];
        uint16_t registrar_port;   /* 0: Keylime's, 8891 with registrar_tls, else 8890 */
        TPM2_ALG_ID tpm_hash_alg;
        char tpm_encryption_alg[16]; /* EK: rsa, ecc, rsa2048, ecc256, ecc384 */
        TPM2_ALG_ID tpm_signing_alg;
        TPM2_HANDLE ek_handle;     /* 0 = "generate" */
        TPM2_HANDLE ak_handle;
        char ak_source[8];         /* auto, agent, azure, gce: whose AK (agent/platform_ak.h) */
        char tcti[256];
        /* registration (docs/protocol.md §1) */
        bool registrar_tls;            /* HTTPS to the registrar (the default; else plain HTTP) */
        char registrar_tls_ca_cert[256]; /* the CA the registrar's certificate must chain to */
        unsigned max_retries;          /* attempts after the first, for unreachable/5xx */
        unsigned retry_interval;       /* seconds before the first retry */
        bool exponential_backoff;      /* double the interval after each retry */
        /* where the agent keeps its few files: the generated id, the mTLS key and certificate */
        char state_dir[256];
        char server_key[256];          /* relative to state_dir unless absolute */
        char server_cert[256];
        /* serving (docs/protocol.md §2) */
        char trusted_client_ca[256];     /* verifiers' client certificates must chain to this CA */
        char ima_ml_path[256];           /* the IMA list, the firmware's event log, our own log */
        char measuredboot_ml_path[256];
        char vmattest_ml_path[256];
        /* serve PCR 15's records after the firmware's events in mb_measurement_list: off only
         * for a Keylime verifier whose measured-boot policy refuses PCR 15 events ("example") */
        bool pcr15_in_event_log;
        /* unlock (the initrd): which LUKS volumes get the released key, how long to wait for it,
         * and what then: "prompt" (leave the passphrase prompt to a human) or "poweroff" */
        char unlock_volumes[1024];       /* UUIDs or /dev/disk/by-uuid paths, comma-separated */
        unsigned unlock_timeout;         /* seconds */
        char unlock_fallback[16];
        char askpass_dir[256];
        char ima_policy[256];            /* the IMA policy `unlock` loads into the kernel ("" = none) */
        /* the 0600 file through which `unlock` hands its identity to the runtime `serve`, and
         * the user it is given to (handover_user: a name or a uid; 0, root, by default): the
         * one `serve` runs as */
        char handover_path[256];
        uid_t handover_uid;
        /* `serve` accepts a key release (POST /keys/ukey, /keys/vkey) only when this is on: the
         * release belongs in the initrd, before anything from the root runs */
        bool runtime_release;
        /* revocation notifications (docs/protocol.md §2.8): the certificate whose key signs them
         * ("" = none: they are not acted on), and the agent's own actions: names of executables
         * in revocation_actions_dir, comma-separated, each given revocation_action_timeout s */
        char revocation_cert[256];
        char revocation_actions_dir[256];
        char revocation_actions[1024];
        unsigned revocation_action_timeout;
        /* a confidential VM's hardware report with each integrity quote (docs/protocol.md §5):
         * "off", "auto" (when configfs-tsm has a provider) or "required" (no quote without
         * it); where configfs-tsm's report directory is; "svsm" to ask the SVSM's vTPM service
         * (its manifest comes along) rather than the CPU's firmware directly */
        char platform_report[16];
        char tsm_report_dir[256];
        char tsm_service_provider[16];
        /* a TD's CC event log, served with its TDX quote when it exists (agent/cc_event_log.h) */
        char cc_event_log_path[256];
        /* Azure TDX: the IMDS endpoint that quotes the paravisor's TDREPORT (agent/azure_imds.h) */
        char azure_imds_url[256];
        /* where the payload key lives (agent/tpm_payload_key.h): "tpm" (the default: made in the
         * TPM, certified by the AK) or "software" (OpenSSL's secure heap: only for a TPM that
         * cannot make it; vmattest-verifier releases to it only when the enrolment allows) */
        char payload_key[16];
        /* the host binding (docs/protocol.md §5.9, agent/host_binding_evidence.h): "off", "auto"
         * (served when the vTPM holds one), "required" (no integrity quote without it) or
         * "fresh" (asked of the host service per quote), and the vTPM's NV index that holds it */
        char host_binding[16];
        TPM2_HANDLE host_binding_index;
        /* who opens the exchange with the verifier (docs/protocol.md §4): "pull" (the default: the
         * verifier polls the agent API) or "push" (Keylime API v3: the agent opens no port and
         * sends its evidence to verifier_url, whose certificate must chain to
         * verifier_tls_ca_cert; attestation_interval_seconds when the verifier names no wait) */
        char mode[8];
        char verifier_url[256];
        char verifier_tls_ca_cert[256];
        unsigned attestation_interval_seconds;
        /* fresh mode: the host service (agent/host_binding_fresh.h: unix:PATH, vsock:CID:PORT,
         * serial:PATH) and how long an answer may take, seconds */
        char host_service[256];
        unsigned host_service_timeout;
};

void agent_config_defaults(struct agent_config *config);
#define AGENT_CONFIG_LUKS_UUID_LEN 36 /* 8-4-4-4-12 */
#define AGENT_CONFIG_BY_UUID_DIR "/dev/disk/by-uuid/"

/* The rules of the uuid, unlock_fallback, unlock_volumes and unlock_timeout keys, for the
 * kernel command line too: the same key, the same validation, whatever the source. */
bool agent_config_volume_valid(const char *volume, size_t len);
int agent_config_parse_timeout(const char *value, void *field, size_t size, char *why, size_t why_size);
bool agent_config_uuid_valid(const char *value);
bool agent_config_fallback_valid(const char *value);
bool agent_config_platform_report_valid(const char *value);
/* mode: "push" or "pull" */
bool agent_config_mode_valid(const char *value);
bool agent_config_push(const struct agent_config *config);
/* A revocation action's name: 1-255 of A-Z a-z 0-9 . _ -, not starting with '.'. */
bool agent_config_action_name_valid(const char *name, size_t len);
/* The value of key `name` as agent.conf would hold it: -ENOENT for an unknown key, -ENOTSUP
 * for one without a plain text form (algorithms, handles). */
int agent_config_get(const struct agent_config *config, const char *name, char *out, size_t size);
/* Missing file: an error only when `must_exist`. */
int agent_config_load(const char *path, bool must_exist, struct agent_config *config);
