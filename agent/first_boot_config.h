/* The `vmattest:` key of cloud-init's user-data, as JSON (the cloud-init hook converts the
 * YAML): where the tenant's registrar is, the CA of its certificates, the group's enrolment
 * token, where the verifier reaches this agent, how the agent's id is chosen, and which volumes
 * to protect. Security-sensitive: the token is kept in secure memory only (lib/secret.h), and
 * no error ever quotes it. Every field is checked before anything is written (cmd_first_boot.c),
 * and every error names the field as "vmattest.FIELD". */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/secret.h"

#define FIRST_BOOT_INPUT_MAX (64 * 1024)      /* the JSON text of the object */
#define FIRST_BOOT_CA_MAX (48 * 1024)         /* verifier_ca: PEM text */
#define FIRST_BOOT_CA_CERTS_MAX 16
#define FIRST_BOOT_TOKEN_MIN 16               /* the registrar's limits (vmattest_enrolment_token) */
#define FIRST_BOOT_TOKEN_MAX 256
#define FIRST_BOOT_VOLUMES_MAX 8
#define FIRST_BOOT_VOLUME_LEN_MAX 63
#define FIRST_BOOT_REGISTRAR_PORT 8891        /* the registrar's TLS port, Keylime's default */
#define FIRST_BOOT_AGENT_PORT 9002

enum first_boot_agent_id {
        FIRST_BOOT_ID_EK_HASH,     /* "ek-hash" (default): agent.conf's uuid = hash_ek */
        FIRST_BOOT_ID_INSTANCE_ID, /* "instance-id": cloud-init's instance id */
        FIRST_BOOT_ID_GENERATE,    /* "generate": a random UUID, made once and kept */
};

struct first_boot_config {
        char registrar_host[254];  /* a DNS name or an IP address (IPv6 without brackets) */
        uint16_t registrar_port;
        char *verifier_ca_pem;     /* malloc'ed; one or more CA certificates, PEM */
        size_t verifier_ca_certs;
        struct secret *token;      /* the group's enrolment token (text) */
        char contact_ip[64];       /* "" when not given: the caller picks the primary address */
        uint16_t contact_port;
        enum first_boot_agent_id agent_id;
        char volumes[FIRST_BOOT_VOLUMES_MAX][FIRST_BOOT_VOLUME_LEN_MAX + 1]; /* "root" or /dev/... */
        size_t volume_count;
};

/* Parses and checks the JSON object `json` (`size` bytes, at most FIRST_BOOT_INPUT_MAX) into
 * `config`; -EINVAL with a detail naming the field on any bad or unknown field. On success the
 * caller owns `config` and releases it with first_boot_config_clear(). */
int first_boot_config_parse(const char *json, size_t size, struct first_boot_config *config);
/* Frees and wipes what `config` holds (the token first). */
void first_boot_config_clear(struct first_boot_config *config);
/* The agent_id field as the contract spells it ("ek-hash", "instance-id", "generate"). */
const char *first_boot_agent_id_name(enum first_boot_agent_id id);
