#include "agent/registration.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "agent/activate.h"
#include "lib/auth_tag.h"
#include "lib/cleanup.h"
#include "lib/credential.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/tpm2b.h"

static json_object *registration_body(const struct agent_config *config, const struct ek *ek, const struct ak *ak,
                                      const char *mtls_cert) {
        _cleanup_(freep) char *ek_tpm = tpm2b_public_base64(&ek->public);
        _cleanup_(freep) char *aik_tpm = tpm2b_public_base64(&ak->public);
        _cleanup_(freep) char *ekcert = ek->cert_der ? base64_encode(ek->cert_der, ek->cert_size) : NULL;
        json_object *body;

        if (!ek_tpm || !aik_tpm || (ek->cert_der && !ekcert))
                return NULL;
        body = json_object_new_object();
        if (!body)
                return NULL;
        json_object_object_add(body, "ek_tpm", json_object_new_string(ek_tpm));
        /* docs/protocol.md §1: the leaf certificate only, or null when the TPM has none */
        json_object_object_add(body, "ekcert", ekcert ? json_object_new_string(ekcert) : NULL);
        json_object_object_add(body, "aik_tpm", json_object_new_string(aik_tpm));
        json_object_object_add(body, "mtls_cert", json_object_new_string(mtls_cert));
        json_object_object_add(body, "ip", json_object_new_string(config->contact_ip));
        json_object_object_add(body, "port", json_object_new_int(config->contact_port));
        return body;
}

/* Activates the blob in the TPM and computes the auth_tag from the recovered credential. */
static int activation_tag(struct tpm *tpm, const struct ek *ek, const struct ak *ak, const char *agent_id,
                          const char *blob_b64, char tag[AUTH_TAG_HEX_SIZE]) {
        _cleanup_(freep) uint8_t *blob = NULL;
        TPM2B_ID_OBJECT id_object;
        TPM2B_ENCRYPTED_SECRET secret;
        TPM2B_DIGEST credential;
        char *credential_b64;
        size_t blob_size;
        int ret;

        ret = base64_decode(blob_b64, strlen(blob_b64), &blob, &blob_size);
        if (ret < 0)
                return vm_error(ret, "registrar's blob: %s", vm_error_detail(ret));
        ret = credential_blob_parse(blob, blob_size, &id_object, &secret);
        if (ret < 0)
                return vm_error(ret, "registrar's blob: %s", vm_error_detail(ret));
        ret = credential_activate(tpm, ek, ak, &id_object, &secret, &credential);
        if (ret < 0)
                return ret;
        /* docs/protocol.md §1: the HMAC key is the base64 text of the credential */
        credential_b64 = base64_encode(credential.buffer, credential.size);
        OPENSSL_cleanse(&credential, sizeof(credential));
        if (!credential_b64)
                return -ENOMEM;
        ret = auth_tag_compute(credential_b64, strlen(credential_b64), agent_id, tag);
        OPENSSL_cleanse(credential_b64, strlen(credential_b64));
        free(credential_b64);
        return ret;
}

int agent_register(const struct agent_config *config, struct agent_identity *id, struct registrar_client *registrar) {
        _cleanup_(freep) char *blob_b64 = NULL;
        char tag[AUTH_TAG_HEX_SIZE];
        json_object *body;
        int ret;

        body = registration_body(config, id->ek, &id->ak, id->mtls.cert_pem);
        if (!body)
                return -ENOMEM;
        ret = registrar_negotiate(registrar);
        if (ret >= 0) {
                log_info("registering agent %s with %s (API v%s)", id->agent_id, registrar->base_url,
                         registrar->api_version);
                ret = registrar_register(registrar, id->agent_id, body, &blob_b64);
        }
        if (ret >= 0)
                notify_status("activating agent %s with %s", id->agent_id, registrar->base_url);
        if (ret >= 0)
                ret = activation_tag(id->tpm, id->ek, &id->ak, id->agent_id, blob_b64, tag);
        if (ret >= 0)
                ret = registrar_activate(registrar, id->agent_id, tag);
        OPENSSL_cleanse(tag, sizeof(tag));
        json_object_put(body);
        return ret;
}
