#include "agent/push_release.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/http_event_client.h"
#include "lib/log.h"
#include "lib/push_release_document.h"
#include "lib/tpm2b.h"

/* the verifier judges the evidence after its 202: the release is asked for again, after 50 ms,
 * 100 ms, then every 200 ms for about 5 s in all (the judging takes tens of ms natively: a first
 * pause of 200 ms was most of the push unlock's wait for its key under TCG; each ask is a TLS
 * handshake, so not much shorter) */
#define FETCH_TRIES 27
#define FETCH_PAUSE_FIRST_MS 50
#define FETCH_PAUSE_MAX_MS 200

int push_release_offer(struct agent_api *api, json_object *attributes) {
        const struct payload_key *pk = api->payload;
        json_object *offer, *certify;

        if (!pk || !pk->public_pem)
                return 0;
        if (!(offer = json_object_new_object()))
                return -ENOMEM;
        json_object_object_add(offer, "version", json_object_new_int(PUSH_RELEASE_DOCUMENT_VERSION));
        json_object_object_add(offer, "pubkey", json_object_new_string(pk->public_pem));
        if (payload_key_in_tpm(pk) && pk->certify_attest_size) {
                _cleanup_(freep) char *attest = base64_encode(pk->certify_attest, pk->certify_attest_size);
                _cleanup_(freep) char *signature = base64_encode(pk->certify_signature, pk->certify_signature_size);
                _cleanup_(freep) char *public = tpm2b_public_base64(&pk->in_tpm.public);

                if (!attest || !signature || !public || !(certify = json_object_new_object())) {
                        json_object_put(offer);
                        return -ENOMEM;
                }
                json_object_object_add(certify, "attest", json_object_new_string(attest));
                json_object_object_add(certify, "signature", json_object_new_string(signature));
                json_object_object_add(certify, "public", json_object_new_string(public));
                json_object_object_add(offer, "pubkey_certify", certify);
        }
        json_object_object_add(attributes, "vmattest_payload_key", offer);
        return 0;
}

static int take_release(struct agent_api *api, json_object *doc) {
        struct push_release_document release;
        int ret = push_release_document_parse(doc, &release);

        if (ret >= 0)
                ret = key_release_ukey(&api->keys, release.ukey, release.auth_tag, release.payload);
        if (ret >= 0)
                ret = key_release_vkey(&api->keys, release.vkey);
        if (ret < 0)
                return vm_error(ret, "push: key release: %s", vm_error_detail(ret));
        if (!api->key_released_told && key_release_complete(&api->keys)) {
                api->key_released_told = true;
                api->keys_verified = true; /* the verifier recorded the release as it handed it over */
                if (api->on_key_released)
                        api->on_key_released(api->release_user);
        }
        return 0;
}

int push_release_on_accepted(void *user, json_object *answer) {
        struct push_client *pc = user;
        char url[512];
        int ret = 0;

        (void)answer;
        if (pc->api->key_released_told)
                return 0;
        snprintf(url, sizeof(url), "%s/v" PUSH_API_VERSION "/agents/%s/vmattest/release", pc->config->verifier_url,
                 pc->api->id->agent_id);
        for (int attempt = 0, pause_ms = FETCH_PAUSE_FIRST_MS; attempt < FETCH_TRIES; attempt++) {
                _cleanup_(http_response_done) struct http_response resp = { 0 };
                struct http_event_extra extra = { .authorization = push_client_authorization(pc) };

                if (attempt) {
                        nanosleep(&(struct timespec){ 0, pause_ms * 1000000L }, NULL);
                        pause_ms = pause_ms * 2 > FETCH_PAUSE_MAX_MS ? FETCH_PAUSE_MAX_MS : pause_ms * 2;
                }
                ret = http_event_request_extra("GET", url, &pc->tls, NULL, 0, PUSH_TIMEOUT_MS, &extra, &resp);
                if (ret < 0)
                        return vm_error(ret, "push: key release: %s", vm_error_detail(ret));
                if (resp.status == 200 && resp.json)
                        return take_release(pc->api, resp.json);
                /* 404: not prepared yet; 503: the evidence is still being judged. Anything else is
                 * a verifier without the extension (Keylime's) */
                if (resp.status != 404 && resp.status != 503)
                        break;
                ret = 0;
        }
        log_info("push: no key release from the verifier yet");
        return ret;
}
