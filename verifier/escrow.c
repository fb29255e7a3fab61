#include "verifier/escrow.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/http_server.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/secret_json.h"
#include "verifier/payload_vault.h"
#include "verifier/store.h"

/* base64 of ESCROW_PAYLOAD_MAX bytes, padded */
#define ESCROW_PAYLOAD_B64_MAX (4 * ((ESCROW_PAYLOAD_MAX + 2) / 3))

int escrow_body_parse(json_object *body, struct secret **payload) {
        _cleanup_(freep) uint8_t *decoded = NULL;
        size_t size = 0;
        const char *text;
        int ret = json_member_string(body, "payload", ESCROW_PAYLOAD_B64_MAX, false, &text);
        bool decoding = ret >= 0;

        *payload = NULL;
        if (decoding)
                ret = base64_decode(text, strlen(text), &decoded, &size);
        /* the text is the key's too: wiped whether it was taken or refused (too long, say) */
        secret_json_string_wipe(json_object_object_get(body, "payload"));
        if (ret < 0)
                return decoding ? vm_error(-EBADMSG, "payload: %s", vm_error_detail(ret)) : ret;
        if (size == 0 || size > ESCROW_PAYLOAD_MAX)
                ret = vm_error(-EBADMSG, "payload: %zu bytes, not 1-%d", size, ESCROW_PAYLOAD_MAX);
        else if (!(*payload = secret_new_copy(decoded, size)))
                ret = -ENOMEM;
        OPENSSL_cleanse(decoded, size);
        return ret;
}

/* Whether `cert` is, byte for byte (DER), the PEM certificate the agent registered. */
static bool same_certificate(X509 *cert, const char *registered_pem) {
        BIO *bio = BIO_new_mem_buf(registered_pem, -1);
        X509 *registered = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        unsigned char *der = NULL, *registered_der = NULL;
        int der_size = i2d_X509(cert, &der);
        int registered_size = registered ? i2d_X509(registered, &registered_der) : -1;
        bool same = der_size > 0 && der_size == registered_size && memcmp(der, registered_der, (size_t)der_size) == 0;

        OPENSSL_free(der);
        OPENSSL_free(registered_der);
        X509_free(registered);
        BIO_free(bio);
        return same;
}

/* The sender is the agent: its active registration's mTLS certificate is the one the TLS client
 * presented (a certificate from trusted_client_ca, the tenant's, is not the agent's either). */
static int check_sender(struct evhttp_request *req, const struct registered_agent *agent) {
        X509 *cert = http_request_peer_certificate(req);

        if (!cert)
                return vm_error(-EACCES, "escrow needs the registrar's TLS port and the agent's registered mTLS "
                                         "certificate as client certificate: none was presented");
        if (!agent->active || !agent->mtls_cert || !same_certificate(cert, agent->mtls_cert))
                return vm_error(-EACCES, "the client certificate is not the active registered mTLS certificate of agent %s",
                                agent->agent_id);
        return 0;
}

static int http_status_for(int ret) {
        switch (ret) {
        case -EBADMSG:
        case -EINVAL:
                return 400;
        case -EACCES:
                return 403;
        case -ENOENT:
                return 404;
        case -EAGAIN: /* not attested yet: the agent retries */
        case -EEXIST: /* a payload is enrolled already */
                return 409;
        default:
                return 500;
        }
}

void escrow_handle(struct registrar *r, struct evhttp_request *req, const char *agent_id) {
        _cleanup_(secret_freep) struct secret *payload = NULL;
        _cleanup_(freep) char *sealed = NULL;
        struct registered_agent agent = { 0 };
        json_object *body = http_request_json(req);
        int64_t reset = -1;
        int ret, status;

        if (!body)
                return;
        /* no certificate, no answer about the agent */
        ret = http_request_peer_certificate(req) ? 0 : check_sender(req, &agent);
        if (ret >= 0)
                ret = store_agent_get(r->store, agent_id, &agent);
        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "agent %s is not registered", agent_id);
        if (ret >= 0)
                ret = check_sender(req, &agent);
        if (ret >= 0)
                ret = escrow_body_parse(body, &payload);
        /* on every path: a sender refused before the parse sent the key's text all the same */
        secret_json_put(body, "payload");
        if (ret >= 0)
                ret = payload_vault_seal(r->config->payload_vault, payload->data, payload->size, &sealed);
        /* the activation is this boot's registration: a good quote since then is of this boot */
        if (ret >= 0)
                ret = store_attestation_escrow(r->store, agent_id, agent.last_seen, sealed, (int64_t)time(NULL), &reset);
        if (ret >= 0) {
                log_info("registrar: agent %s escrowed its payload (%zu bytes, sealed): released from the boot after "
                         "this one (TPM reset count %lld) on",
                         agent_id, payload->size, (long long)reset);
                http_reply(req, 200, "Success", NULL);
        } else {
                status = http_status_for(ret);
                if (status == 500)
                        log_error("registrar: escrow of agent %s: %s", agent_id, vm_error_detail(ret));
                else
                        log_info("registrar: escrow of agent %s refused (%d): %s", agent_id, status, vm_error_detail(ret));
                http_reply_error(req, status, "%s",
                                 status == 500 ? "internal error (see the registrar's log)" : vm_error_detail(ret));
        }
        registered_agent_done(&agent);
}
