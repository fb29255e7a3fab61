#include "verifier/push_release.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/push_release_document.h"
#include "verifier/quote_check.h"

#define PUBKEY_PEM_LIMIT 4096
#define CERTIFY_MEMBER_MAX 4096 /* base64 of a TPMS_ATTEST, a TPMT_SIGNATURE or a TPM2B_PUBLIC */

void push_release_init(struct push_release *r, struct attestation *state, unsigned ttl) {
        *r = (struct push_release){ .ttl = ttl };
        r->payload_sealed = state->payload;
        state->payload = NULL;
        release_init(&r->release, r->payload_sealed != NULL, state->released_reset, state->released_restart);
        r->release.pcr9_pin_missing = state->pcr9_pin_required && !state->pcr9_pinned_by[0];
}

void push_release_done(struct push_release *r) {
        release_done(&r->release);
        free(r->payload_sealed);
        free(r->pubkey_pem);
        *r = (struct push_release){ 0 };
}

uint32_t push_release_mask(const struct push_release *r) {
        return r->payload_sealed ? 1u << 15 | 1u << 16 : 0;
}

static json_object *member_object(json_object *obj, const char *name) {
        json_object *value;

        if (!obj || !json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, name, &value) ||
            !json_object_is_type(value, json_type_object))
                return NULL;
        return value;
}

int push_release_evidence(struct push_release *r, json_object *body, json_object *results) {
        json_object *attrs = member_object(member_object(body, "data"), "attributes"), *offer, *certify, *version;
        json_object *copy;
        const char *pubkey, *attest, *signature, *public;
        int ret;

        r->key_offered = false;
        free(r->pubkey_pem);
        r->pubkey_pem = NULL;
        r->uncertified[0] = '\0';
        if (!attrs || !json_object_object_get_ex(attrs, "vmattest_payload_key", &offer))
                return 0;
        if (!json_object_is_type(offer, json_type_object))
                return vm_error(-EBADMSG, "vmattest_payload_key: not an object");
        if (!json_object_object_get_ex(offer, "version", &version) || !json_object_is_type(version, json_type_int) ||
            json_object_get_int64(version) != PUSH_RELEASE_VERSION)
                return vm_error(-EBADMSG, "vmattest_payload_key/version: must be %d", PUSH_RELEASE_VERSION);
        ret = json_member_string(offer, "pubkey", PUBKEY_PEM_LIMIT, false, &pubkey);
        if (ret < 0)
                return vm_error(-EBADMSG, "vmattest_payload_key: %s", vm_error_detail(ret));
        json_object_object_add(results, "pubkey", json_object_new_string(pubkey));
        /* a software key has none: evidence.c then names it uncertified */
        certify = member_object(offer, "pubkey_certify");
        if (json_object_object_get_ex(offer, "pubkey_certify", &copy) && !certify)
                return vm_error(-EBADMSG, "vmattest_payload_key/pubkey_certify: not an object");
        if (certify) {
                ret = json_member_string(certify, "attest", CERTIFY_MEMBER_MAX, false, &attest);
                if (ret >= 0)
                        ret = json_member_string(certify, "signature", CERTIFY_MEMBER_MAX, false, &signature);
                if (ret >= 0)
                        ret = json_member_string(certify, "public", CERTIFY_MEMBER_MAX, false, &public);
                if (ret < 0)
                        return vm_error(-EBADMSG, "vmattest_payload_key/pubkey_certify: %s", vm_error_detail(ret));
                copy = json_object_new_object();
                if (!copy)
                        return -ENOMEM;
                json_object_object_add(copy, "attest", json_object_new_string(attest));
                json_object_object_add(copy, "signature", json_object_new_string(signature));
                json_object_object_add(copy, "public", json_object_new_string(public));
                json_object_object_add(results, "pubkey_certify", copy);
        }
        r->key_offered = true;
        return 1;
}

int push_release_judged(struct push_release *r, const char *agent_id, const char *vault_path, bool allow_software,
                        const struct measurement_summary *log, struct attestation *state) {
        struct release_keys *keys;
        int ret;

        r->release.released_reset = state->released_reset;
        r->release.released_restart = state->released_restart;
        ret = release_integrity_quoted(&r->release, &state->clock, log);
        if (ret < 0)
                return ret;
        if (ret != RELEASE_PREPARE) {
                snprintf(r->refused, sizeof(r->refused), "%s",
                         !r->payload_sealed             ? "no payload is enrolled"
                         : r->release.released_reset >= 0 &&
                                           (int64_t)state->clock.reset_count == r->release.released_reset
                                 ? "this boot had its release"
                         : r->release.held[0] ? r->release.held
                                              : "no release is due");
                return 0;
        }
        if (!r->key_offered || !r->pubkey_pem) {
                release_request_failed(&r->release);
                snprintf(r->refused, sizeof(r->refused),
                         "the evidence offered no payload key (vmattest_payload_key): nothing to wrap the payload to");
                return 0;
        }
        /* docs/protocol.md §5.10: U and V go only to a key that never leaves the agent's TPM */
        if (r->uncertified[0] && !allow_software) {
                release_request_failed(&r->release);
                snprintf(r->refused, sizeof(r->refused),
                         "key release refused: the payload key is not certified as TPM-resident by the agent's AK: %.200s",
                         r->uncertified);
                log_error("verifier: agent %s: %s", agent_id, r->refused);
                return 0;
        }
        ret = release_keys_prepare(vault_path, r->payload_sealed, agent_id, r->pubkey_pem, &keys);
        if (ret < 0) { /* not the agent's fault: the next attestation tries again */
                release_request_failed(&r->release);
                snprintf(r->refused, sizeof(r->refused), "key release: %.280s", vm_error_detail(ret));
                log_error("verifier: agent %s: %s", agent_id, r->refused);
                return 0;
        }
        release_keys_ready(&r->release, keys);
        r->prepared_at = (int64_t)time(NULL);
        r->refused[0] = '\0';
        log_info("verifier: agent %s: push mode: a key release waits for the agent (GET .../vmattest/release)",
                 agent_id);
        return 0;
}

int push_release_take(struct push_release *r, const char *agent_id, struct attestation *state, char **document) {
        struct release_keys *keys = r->release.keys;
        int n;

        if (keys && (int64_t)time(NULL) - r->prepared_at > r->ttl)
                push_release_withdraw(r, agent_id, "the release was not fetched in time after its evidence");
        keys = r->release.keys;
        if (r->release.state != RELEASE_UKEY || !keys)
                return vm_error(-ENOENT, "no key release waits for agent %s: %s", agent_id,
                                r->refused[0] ? r->refused : "no passing evidence of this boot asked for one yet");
        n = asprintf(document,
                     "{\"data\":{\"type\":\"vmattest_release\",\"attributes\":{\"version\":%d,\"ukey\":%s,\"vkey\":%s}}}",
                     PUSH_RELEASE_DOCUMENT_VERSION, keys->ukey_body, keys->vkey_body);
        if (n < 0)
                return -ENOMEM;
        /* once per boot: the caller saves this record before the document goes out */
        r->unrecorded_reset = state->released_reset;
        r->unrecorded_restart = state->released_restart;
        r->unrecorded_at = state->released_at;
        state->released_reset = (int64_t)r->release.boot.reset_count;
        state->released_restart = (int64_t)r->release.boot.restart_count;
        state->released_at = (int64_t)time(NULL);
        return 0;
}

void push_release_recorded(struct push_release *r, const char *agent_id, struct attestation *state, int saved) {
        if (saved < 0) {
                state->released_reset = r->unrecorded_reset;
                state->released_restart = r->unrecorded_restart;
                state->released_at = r->unrecorded_at;
                log_error("verifier: agent %s: the key release cannot be recorded (%s): nothing released", agent_id,
                          vm_error_detail(saved));
                push_release_withdraw(r, agent_id, "the verifier could not record the release");
                return;
        }
        r->release.released_reset = state->released_reset;
        r->release.released_restart = state->released_restart;
        release_done(&r->release);
        r->release.payload = r->payload_sealed != NULL;
        snprintf(r->refused, sizeof(r->refused), "this boot had its release");
        log_info("verifier: agent %s: payload released for this boot (push mode, fetched by the agent)", agent_id);
}

void push_release_withdraw(struct push_release *r, const char *agent_id, const char *why) {
        if (!r->release.keys)
                return;
        release_done(&r->release);
        r->release.payload = r->payload_sealed != NULL;
        snprintf(r->refused, sizeof(r->refused), "withdrawn: %s", why);
        log_info("verifier: agent %s: the waiting key release is withdrawn: %s", agent_id, why);
}

int push_release_path(const char *rest, char *agent_id, size_t size) {
        const char *after = agent_id_path_take(rest, agent_id, size);

        return after && strcmp(after, PUSH_RELEASE_ROUTE) == 0 ? 0 : -1;
}
