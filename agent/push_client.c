#include "agent/push_client.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/push_evidence.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/http_event_client.h"
#include "lib/log.h"
#include "lib/notify.h"

#define JSON_API "application/vnd.api+json"
#define URL_MAX 512

static void response_donep(struct http_response *resp) {
        http_response_done(resp);
}

const char *push_client_authorization(const struct push_client *pc) {
        return pc->authorization ? (const char *)pc->authorization->data : NULL;
}

/* The session ends: its token wiped (secret_free) */
static void session_forget(struct push_client *pc) {
        secret_free(pc->authorization);
        pc->authorization = NULL;
}

/* The session's answer held the token: its body and its parsed string wiped before the free */
static void response_wipe(struct http_response *resp, json_object *token) {
        if (token && json_object_is_type(token, json_type_string))
                OPENSSL_cleanse((char *)json_object_get_string(token), (size_t)json_object_get_string_len(token));
        if (resp->body)
                OPENSSL_cleanse(resp->body, resp->body_size);
}

/* One exchange with the verifier: the answer whatever its status, or a transport failure. */
static int exchange(struct push_client *pc, const char *method, const char *path, const char *body,
                    struct http_event_extra *extra, struct http_response *resp) {
        char url[URL_MAX];
        size_t body_size = body ? strlen(body) : 0;

        snprintf(url, sizeof(url), "%s%s", pc->config->verifier_url, path);
        extra->content_type = JSON_API;
        extra->authorization = push_client_authorization(pc);
        /* Keylime's 202 echoes the evidence back (render_evidence_acknowledged) */
        extra->body_max = HTTP_BODY_MAX + 2 * body_size;
        return http_event_request_extra(method, url, &pc->tls, body, body_size, PUSH_TIMEOUT_MS, extra, resp);
}

/* The answer as an error: the status, the first JSON:API error's detail if any, else an excerpt. */
static int answer_error(const char *step, const struct http_response *resp) {
        json_object *errors, *first, *detail;
        char excerpt[256];

        if (resp->json && json_object_object_get_ex(resp->json, "errors", &errors) &&
            json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0 &&
            (first = json_object_array_get_idx(errors, 0)) && json_object_is_type(first, json_type_object) &&
            json_object_object_get_ex(first, "detail", &detail) && json_object_is_type(detail, json_type_string))
                snprintf(excerpt, sizeof(excerpt), "%.200s", json_object_get_string(detail));
        else
                http_body_excerpt(resp, excerpt, sizeof(excerpt));
        return vm_error(resp->status == 401 ? -EACCES : resp->status == 404 || resp->status == 403 ? -EPERM : -EPROTO,
                        "%s: HTTP %ld: %s", step, resp->status, excerpt);
}

/* 429 and 503: the verifier asks to come back; Retry-After says when (0: not said) */
static bool come_back(const struct http_response *resp, const struct http_event_extra *extra, unsigned *wait) {
        if (resp->status != 429 && resp->status != 503)
                return false;
        if (!extra->retry_after[0] || push_retry_after_parse(extra->retry_after, wait) < 0)
                *wait = 0;
        return true;
}

/* POST /v3.0/sessions, TPM2_Certify, PATCH /v3.0/sessions/ID: a bearer token */
static int authenticate(struct push_client *pc, unsigned *wait) {
        _cleanup_(response_donep) struct http_response resp = { 0 };
        _cleanup_(freep) char *body = NULL;
        struct http_event_extra extra = { 0 };
        struct push_challenge challenge;
        _cleanup_(secret_freep) struct secret *token = secret_new(PUSH_TOKEN_MAX + 1);
        json_object *data, *attributes, *token_text = NULL;
        char path[128];
        int ret;

        session_forget(pc);
        if (!token)
                return vm_error(-ENOMEM, "session: no secure memory for a token");
        ret = push_session_body(pc->api->id->agent_id, &body);
        if (ret >= 0)
                ret = exchange(pc, "POST", "/v" PUSH_API_VERSION "/sessions", body, &extra, &resp);
        if (ret < 0)
                return ret;
        if (come_back(&resp, &extra, wait))
                return vm_error(-EAGAIN, "session: HTTP %ld, come back in %u s", resp.status, *wait);
        if (resp.status != 200 && resp.status != 201)
                return answer_error("session", &resp);
        ret = push_session_parse(resp.json, pc->api->id->agent_id, &challenge);
        if (ret < 0)
                return ret;
        free(body);
        body = NULL;
        http_response_done(&resp);
        ret = push_pop_body(pc->api, &challenge, &body);
        if (ret < 0)
                return vm_error(ret, "session: proof of possession: %s", vm_error_detail(ret));
        snprintf(path, sizeof(path), "/v" PUSH_API_VERSION "/sessions/%s", challenge.session_id);
        ret = exchange(pc, "PATCH", path, body, &extra, &resp);
        if (ret < 0)
                return ret;
        if (come_back(&resp, &extra, wait))
                return vm_error(-EAGAIN, "session: HTTP %ld, come back in %u s", resp.status, *wait);
        if (resp.status != 200)
                return answer_error("session: proof of possession", &resp);
        ret = push_token_parse(resp.json, (char *)token->data);
        if (json_object_object_get_ex(resp.json, "data", &data) &&
            json_object_object_get_ex(data, "attributes", &attributes))
                json_object_object_get_ex(attributes, "token", &token_text);
        response_wipe(&resp, token_text);
        if (ret == -EACCES)
                return vm_error(ret, "%s: is the agent enrolled with this verifier "
                                "(keylime_tenant -c add --push-model)?", vm_error_detail(ret));
        if (ret < 0)
                return ret;
        if (!(pc->authorization = secret_new(PUSH_TOKEN_MAX + 8)))
                return vm_error(-ENOMEM, "session: no secure memory for a token");
        snprintf((char *)pc->authorization->data, PUSH_TOKEN_MAX + 8, "Bearer %s", (const char *)token->data);
        log_info("push: session open with %s", pc->config->verifier_url);
        return 0;
}

/* POST .../attestations: the index of the attestation opened and the evidence asked for.
 * -ENOKEY when the verifier no longer takes the token (401). */
static int open_attestation(struct push_client *pc, const char *prefix, uint64_t *index,
                            struct push_evidence_request *request, unsigned *wait) {
        _cleanup_(response_donep) struct http_response resp = { 0 };
        _cleanup_(freep) char *body = NULL;
        struct http_event_extra extra = { 0 };
        int ret;

        ret = push_capabilities_body(pc->api, &body);
        if (ret < 0)
                return vm_error(ret, "capabilities: %s", vm_error_detail(ret));
        ret = exchange(pc, "POST", prefix, body, &extra, &resp);
        if (ret < 0)
                return ret;
        if (resp.status == 401)
                return -ENOKEY;
        if (come_back(&resp, &extra, wait))
                return vm_error(-EAGAIN, "attestation: HTTP %ld, come back in %u s", resp.status, *wait);
        if (resp.status != 201)
                return answer_error("attestation", &resp);
        ret = push_location_parse(extra.location, prefix, index);
        if (ret >= 0)
                ret = push_evidence_request_parse(resp.json, pc->config->tpm_hash_alg, request);
        return ret;
}

/* PATCH .../attestations/INDEX with the evidence */
static int give_evidence(struct push_client *pc, const char *path, const struct push_evidence_request *request,
                         unsigned *wait) {
        _cleanup_(response_donep) struct http_response resp = { 0 };
        _cleanup_(freep) char *body = NULL;
        struct http_event_extra extra = { 0 };
        int ret;

        ret = push_evidence_body(pc->api, request, &body);
        if (ret < 0)
                return vm_error(ret, "evidence: %s", vm_error_detail(ret));
        ret = exchange(pc, "PATCH", path, body, &extra, &resp);
        if (ret < 0)
                return ret;
        if (resp.status == 401)
                return -ENOKEY;
        if (come_back(&resp, &extra, wait))
                return vm_error(-EAGAIN, "evidence: HTTP %ld, come back in %u s", resp.status, *wait);
        if (resp.status != 202)
                return answer_error("evidence", &resp);
        if (push_next_attestation_parse(resp.json, wait) < 0)
                *wait = pc->config->attestation_interval_seconds;
        if (pc->on_accepted && (ret = pc->on_accepted(pc->user, resp.json)) < 0)
                return ret;
        return 0;
}

int push_client_attest(struct push_client *pc, unsigned *wait) {
        struct push_evidence_request request;
        char prefix[160], path[192];
        uint64_t index = 0;
        bool fresh = false;
        int ret;

        *wait = 0;
        snprintf(prefix, sizeof(prefix), "/v" PUSH_API_VERSION "/agents/%s/attestations", pc->api->id->agent_id);
        for (int attempt = 0; attempt < 2; attempt++) {
                if (!pc->authorization) {
                        ret = authenticate(pc, wait);
                        if (ret < 0)
                                return ret;
                        fresh = true;
                }
                ret = open_attestation(pc, prefix, &index, &request, wait);
                if (ret >= 0) {
                        snprintf(path, sizeof(path), "%s/%llu", prefix, (unsigned long long)index);
                        ret = give_evidence(pc, path, &request, wait);
                }
                if (ret != -ENOKEY)
                        break;
                /* the session ended (its token expired, or the verifier restarted without it) */
                session_forget(pc);
                if (fresh)
                        return vm_error(-EACCES, "attestation: HTTP 401 with a token just given");
                log_info("push: the verifier no longer takes the session's token: opening another");
        }
        if (ret >= 0) {
                pc->accepted++;
                log_info("push: attestation %llu accepted (%lu so far); the next in %u s", (unsigned long long)index,
                         pc->accepted, *wait);
        }
        return ret;
}

static unsigned backoff_next(struct push_client *pc) {
        unsigned cap = pc->backoff_max ? pc->backoff_max : pc->config->attestation_interval_seconds;
        unsigned wait = pc->backoff ? pc->backoff : pc->config->retry_interval ? pc->config->retry_interval : 1;

        if (wait > cap)
                wait = cap;
        if (pc->config->exponential_backoff)
                pc->backoff = wait > cap / 2 ? cap : 2 * wait;
        else
                pc->backoff = wait;
        return wait;
}

static void on_timer(evutil_socket_t fd, short events, void *user) {
        struct push_client *pc = user;
        struct timeval tv = { 0 };
        unsigned wait = 0;
        int ret;

        (void)fd;
        (void)events;
        ret = push_client_attest(pc, &wait);
        if (ret >= 0)
                pc->backoff = 0;
        else if (ret == -EAGAIN && wait > 0) { /* the verifier's Retry-After, as it asks */
                log_info("push: %s", vm_error_detail(ret));
                notify_status("push: the verifier asks to come back in %u s", wait);
        } else {
                wait = backoff_next(pc);
                log_warning("push: %s; trying again in %u s", vm_error_detail(ret), wait);
                notify_status("push: waiting for the verifier %s (again in %u s)", pc->config->verifier_url, wait);
        }
        tv.tv_sec = wait;
        evtimer_add(pc->timer, &tv);
}

int push_client_start(struct push_client *pc, const struct agent_config *config, struct agent_api *api,
                      struct event_base *base) {
        struct timeval now = { 0 };

        memset(pc, 0, sizeof(*pc));
        pc->config = config;
        pc->api = api;
        pc->tls.ca_file = config->verifier_tls_ca_cert;
        pc->timer = evtimer_new(base, on_timer, pc);
        if (!pc->timer)
                return -ENOMEM;
        log_info("agent %s attesting in push mode to %s (Keylime API v" PUSH_API_VERSION "), no port open",
                 api->id->agent_id, config->verifier_url);
        return evtimer_add(pc->timer, &now) == 0 ? 0 : -ENOMEM;
}

void push_client_stop(struct push_client *pc) {
        if (pc->timer)
                event_free(pc->timer);
        session_forget(pc);
        memset(pc, 0, sizeof(*pc));
}
