/* Security-sensitive: the key and its base64 text stay in the secure heap and are wiped. */
#include "agent/escrow_client.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_uuid.h"
#include "agent/ek.h"
#include "agent/mtls.h"
#include "agent/registrar_client.h"
#include "agent/tpm.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"

#define BODY_HEAD "{\"payload\":\""
#define BODY_TAIL "\"}"
#define PENDING_STATUS "not attested yet" /* the verifier's words for a 409 to wait out */

int escrow_body(const uint8_t *key, size_t key_size, struct secret **body) {
        size_t b64_size = 4 * ((key_size + 2) / 3), head = strlen(BODY_HEAD);
        struct secret *out;

        if (key_size == 0 || key_size > ESCROW_KEY_MAX)
                return vm_error(-EINVAL, "the key to escrow is %zu bytes: it must be 1 to %d", key_size,
                                ESCROW_KEY_MAX);
        /* EVP_EncodeBlock writes its NUL after the text: the tail's first byte overwrites it */
        out = secret_new(head + b64_size + strlen(BODY_TAIL));
        if (!out)
                return vm_error(-ENOMEM, "no room in the secure heap for the escrow request");
        memcpy(out->data, BODY_HEAD, head);
        if ((size_t)EVP_EncodeBlock(out->data + head, key, (int)key_size) != b64_size) {
                secret_free(out);
                return vm_error(-EIO, "cannot encode the key to escrow");
        }
        memcpy(out->data + head + b64_size, BODY_TAIL, strlen(BODY_TAIL));
        *body = out;
        return 0;
}

const char *escrow_answer_pending(const struct http_response *resp) {
        json_object *status;

        /* the envelope's own words only: a body that merely mentions them is a final answer */
        if (resp->status != 409 || !json_object_is_type(resp->json, json_type_object) ||
            !json_object_object_get_ex(resp->json, "status", &status) || !json_object_is_type(status, json_type_string) ||
            !strstr(json_object_get_string(status), PENDING_STATUS))
                return NULL;
        return "escrow: the verifier has not attested this agent yet";
}

bool escrow_status_refused(long status) {
        return status == 403 || status == 404 || status == 409;
}

int escrow_agent_identity(const struct agent_config *config, char agent_id[AGENT_ID_MAX + 1],
                           struct mtls_identity *mtls) {
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        struct ek *ek = NULL;
        int ret;

        ret = tpm_open(config->tcti[0] ? config->tcti : TPM_DEFAULT_TCTI, &tpm);
        if (ret >= 0)
                ret = ek_open(tpm, config->tpm_encryption_alg, config->ek_handle, &ek);
        if (ret >= 0)
                ret = agent_uuid_resolve(config, ek, agent_id);
        if (ek)
                ek_free(tpm, ek);
        if (ret >= 0)
                ret = mtls_identity_ensure(config, agent_id, mtls);
        return ret;
}

int escrow_post_registered(const struct agent_config *config, const char *resource,
                           const char *(*pending)(const struct http_response *resp), unsigned wait_seconds,
                           const char *body, size_t body_size, struct registrar_client *registrar,
                           char agent_id[AGENT_ID_MAX + 1]) {
        struct mtls_identity mtls = {};
        char path[AGENT_ID_MAX + 32];
        int ret = escrow_agent_identity(config, agent_id, &mtls);

        /* the wait starts now, after the TPM's part */
        if (ret >= 0)
                ret = registrar_client_init(registrar, config);
        if (ret < 0) {
                mtls_identity_free(&mtls);
                return ret;
        }
        /* the client certificate must be the one registered: the registrar compares it byte for byte */
        registrar->tls.client_x509 = mtls.cert;
        registrar->tls.client_pkey = mtls.key;
        registrar->deadline = registrar->started + wait_seconds;
        registrar->transient = pending;
        snprintf(path, sizeof(path), "agents/%s/%s", agent_id, resource);
        ret = registrar_negotiate(registrar);
        if (ret >= 0)
                ret = registrar_request(registrar, "POST", path, body, body_size);
        mtls_identity_free(&mtls);
        return ret;
}

int escrow_send(const struct agent_config *config, const uint8_t *key, size_t key_size, unsigned wait_seconds) {
        _cleanup_(secret_freep) struct secret *body = NULL;
        struct registrar_client registrar;
        char agent_id[AGENT_ID_MAX + 1];
        int ret;

        if (!config->registrar_tls)
                return vm_error(-EINVAL, "a key is escrowed at the registrar's TLS port only: set registrar_tls = true "
                                         "(and registrar_tls_ca_cert)");
        ret = escrow_body(key, key_size, &body);
        if (ret < 0)
                return ret;
        ret = escrow_post_registered(config, "escrow", escrow_answer_pending, wait_seconds, (const char *)body->data,
                                     body->size, &registrar, agent_id);
        if (ret == -EPERM && escrow_status_refused(registrar.status))
                return vm_error(-EACCES, "the verifier refused the key of agent %s: %s", agent_id,
                                vm_error_detail(ret));
        if (ret == -EAGAIN && registrar.status == 409)
                return vm_error(-ETIMEDOUT, "the verifier did not attest agent %s within %u s (is it enrolled, and is "
                                            "vmattest serve answering its polls?): %s",
                                agent_id, wait_seconds, vm_error_detail(ret));
        if (ret >= 0)
                log_info("escrowed the key of agent %s with %s (API v%s)", agent_id, registrar.base_url,
                         registrar.api_version);
        return ret;
}
