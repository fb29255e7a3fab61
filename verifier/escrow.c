#include "verifier/escrow.h"

#include <openssl/crypto.h>
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
#include "verifier/agent_sender.h"
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
        ret = http_request_peer_certificate(req) ? 0 : agent_sender_check(req, &agent, "escrow");
        if (ret >= 0)
                ret = store_agent_get(r->store, agent_id, &agent);
        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "agent %s is not registered", agent_id);
        if (ret >= 0)
                ret = agent_sender_check(req, &agent, "escrow");
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
                status = agent_sender_http_status(ret);
                if (status == 500)
                        log_error("registrar: escrow of agent %s: %s", agent_id, vm_error_detail(ret));
                else
                        log_info("registrar: escrow of agent %s refused (%d): %s", agent_id, status, vm_error_detail(ret));
                http_reply_error(req, status, "%s",
                                 status == 500 ? "internal error (see the registrar's log)" : vm_error_detail(ret));
        }
        registered_agent_done(&agent);
}
