#include "agent/registration.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "agent/activate.h"
#include "agent/enrol_token.h"
#include "lib/auth_tag.h"
#include "lib/cleanup.h"
#include "lib/credential.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/secret.h"
#include "lib/tpm2b.h"

static json_object *registration_body(const struct agent_config *config, const struct agent_identity *id) {
        const struct ek *ek = id->ek;
        /* with a cloud's AK, its certificate is the proof of the TPM (docs/protocol.md, "AK
         * certificate at registration"); the registrar refuses a registration any of whose
         * certificates fails, and the EK certificate of such a vTPM chains to a CA the tenant
         * need not know: it is left out */
        bool platform = id->platform.source != NULL;
        _cleanup_(freep) char *ek_tpm = tpm2b_public_base64(&ek->public);
        _cleanup_(freep) char *aik_tpm = tpm2b_public_base64(&id->ak.public);
        _cleanup_(freep) char *ekcert = ek->cert_der && !platform ? base64_encode(ek->cert_der, ek->cert_size) : NULL;
        _cleanup_(freep) char *ak_cert = platform ? base64_encode(id->platform.cert_der, id->platform.cert_size) : NULL;
        json_object *body;

        if (!ek_tpm || !aik_tpm || (ek->cert_der && !platform && !ekcert) || (platform && !ak_cert))
                return NULL;
        body = json_object_new_object();
        if (!body)
                return NULL;
        json_object_object_add(body, "ek_tpm", json_object_new_string(ek_tpm));
        /* docs/protocol.md §1: the leaf certificate only, or null when the TPM has none */
        json_object_object_add(body, "ekcert", ekcert ? json_object_new_string(ekcert) : NULL);
        json_object_object_add(body, "aik_tpm", json_object_new_string(aik_tpm));
        if (ak_cert)
                json_object_object_add(body, "ak_cert", json_object_new_string(ak_cert));
        json_object_object_add(body, "mtls_cert", json_object_new_string(id->mtls.cert_pem));
        json_object_object_add(body, "ip", json_object_new_string(config->contact_ip));
        json_object_object_add(body, "port", json_object_new_int(config->contact_port));
        return body;
}

#define TOKEN_MEMBER "\"vmattest_enrolment_token\":\""

int registration_body_text(json_object *body, const struct secret *enrol_token, struct secret **text) {
        const char *json = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t json_size = json ? strlen(json) : 0, escapes = 0, at;
        bool comma = json_size > 2; /* after the members; "{}" has none */
        struct secret *out;
        int ret;

        if (!json || json_size < 2 || json[0] != '{' || json[json_size - 1] != '}')
                return vm_error(-EINVAL, "the registration body is not a JSON object");
        if (!enrol_token) {
                *text = secret_new_copy(json, json_size);
                return *text ? 0 : vm_error(-ENOMEM, "no room in the secure heap for the registration body");
        }
        /* the token is spliced into the object's text in the secure heap: a json-c string would
         * leave a copy of it in the plain heap, freed without being wiped */
        ret = enrol_token_check(enrol_token->data, enrol_token->size);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < enrol_token->size; i++)
                escapes += enrol_token->data[i] == '"' || enrol_token->data[i] == '\\';
        out = secret_new(json_size - 1 + comma + strlen(TOKEN_MEMBER) + enrol_token->size + escapes + 2);
        if (!out)
                return vm_error(-ENOMEM, "no room in the secure heap for the registration body");
        memcpy(out->data, json, json_size - 1);
        at = json_size - 1;
        if (comma)
                out->data[at++] = ',';
        memcpy(out->data + at, TOKEN_MEMBER, strlen(TOKEN_MEMBER));
        at += strlen(TOKEN_MEMBER);
        for (size_t i = 0; i < enrol_token->size; i++) {
                /* printable ASCII (checked above): only these two need escaping in a JSON string */
                if (enrol_token->data[i] == '"' || enrol_token->data[i] == '\\')
                        out->data[at++] = '\\';
                out->data[at++] = enrol_token->data[i];
        }
        out->data[at++] = '"';
        out->data[at] = '}';
        *text = out;
        return 0;
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

int agent_register(const struct agent_config *config, struct agent_identity *id, struct registrar_client *registrar,
                   const struct secret *enrol_token) {
        _cleanup_(secret_freep) struct secret *text = NULL;
        _cleanup_(freep) char *blob_b64 = NULL;
        char tag[AUTH_TAG_HEX_SIZE];
        json_object *body;
        int ret;

        if (enrol_token && !config->registrar_tls)
                return vm_error(-EINVAL, "an enrolment token goes to the registrar's TLS port only: set registrar_tls "
                                         "= true (and registrar_tls_ca_cert)");
        body = registration_body(config, id);
        if (!body)
                return -ENOMEM;
        ret = registration_body_text(body, enrol_token, &text);
        json_object_put(body);
        if (ret < 0)
                return ret;
        ret = registrar_negotiate(registrar);
        if (ret >= 0) {
                log_info("registering agent %s with %s (API v%s)", id->agent_id, registrar->base_url,
                         registrar->api_version);
                ret = registrar_register(registrar, id->agent_id, (const char *)text->data, text->size, &blob_b64);
        }
        if (ret >= 0)
                notify_status("activating agent %s with %s", id->agent_id, registrar->base_url);
        if (ret >= 0)
                ret = activation_tag(id->tpm, id->ek, &id->ak, id->agent_id, blob_b64, tag);
        if (ret >= 0)
                ret = registrar_activate(registrar, id->agent_id, tag);
        OPENSSL_cleanse(tag, sizeof(tag));
        return ret;
}
