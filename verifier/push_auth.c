/* The push model's authentication routes (Keylime 7.14.3's sessions): POST /v3.0/sessions opens
 * a challenge, PATCH /v3.0/sessions/:id proves the AK over it and gets a token; the Bearer
 * token of every other request checked; the session rate limits applied (push_rate_limit.h). */
#include "verifier/push_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/http_server.h"
#include "lib/secret.h"

/* ---- authentication ---- */

const char *push_request_agent(struct push_server *s, struct evhttp_request *req) {
        char *header = (char *)evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        const char *agent = NULL;
        bool present = header != NULL;

        if (header && strncmp(header, "Bearer ", 7) == 0)
                agent = push_session_agent(&s->sessions, header + 7, (int64_t)time(NULL));
        /* the token is read once: wiped in the request's headers now (libevent's own copies of
         * the request line and chains are wiped as freed, lib/event_wipe.h) */
        if (header)
                OPENSSL_cleanse(header, strlen(header));
        if (!agent)
                push_reply_error(req, 401, "unauthorized", 0, "%s",
                                 present
                                         ? "invalid or expired authentication token: open a session (POST /v3.0/sessions)"
                                         : "an Authorization: Bearer token from POST/PATCH /v3.0/sessions is required");
        return agent;
}

void push_handle_session_open(struct push_server *s, struct evhttp_request *req) {
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        json_object *body = http_request_json(req), *doc, *data, *attributes, *methods, *method, *params;
        struct push_session_request request;
        struct push_session *session;
        char *peer = NULL, *challenge, source[PUSH_RATE_KEY_MAX + 1];
        ev_uint16_t port = 0;
        int64_t now = (int64_t)time(NULL);
        int ret;

        if (!body)
                return;
        if (conn)
                evhttp_connection_get_peer(conn, &peer, &port);
        /* unauthenticated: counted by where it comes from, never by the agent id it names (anyone
         * could name a victim's id and spend its budget) */
        push_rate_source_key(peer ? peer : "", source, sizeof(source));
        if (!push_rate_limit_allow(&s->per_source, source, now)) {
                json_object_put(body);
                push_reply_error(req, 429, "too_many_requests", RATE_RETRY_AFTER,
                                 "Rate limit exceeded. Please try again later.");
                return;
        }
        ret = push_session_request_parse(body, false, &request);
        json_object_put(body);
        if (ret < 0) {
                push_reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        ret = push_session_open(&s->sessions, request.agent_id, now, &session);
        if (ret < 0 || !(challenge = base64_encode(session->challenge, sizeof(session->challenge)))) {
                push_reply_error(req, 500, "internal_error", 0, "cannot open a session");
                return;
        }
        doc = json_object_new_object(), data = json_object_new_object(), attributes = json_object_new_object();
        methods = json_object_new_array(), method = json_object_new_object(), params = json_object_new_object();
        json_object_object_add(params, "challenge", json_object_new_string(challenge));
        json_object_object_add(method, "authentication_class", json_object_new_string("pop"));
        json_object_object_add(method, "authentication_type", json_object_new_string("tpm_pop"));
        json_object_object_add(method, "chosen_parameters", params);
        json_object_array_add(methods, method);
        json_object_object_add(attributes, "agent_id", json_object_new_string(request.agent_id));
        json_object_object_add(attributes, "authentication_requested", methods);
        json_object_object_add(attributes, "created_at", push_time_string(session->created_at));
        json_object_object_add(attributes, "challenges_expire_at", push_time_string(session->challenge_expires_at));
        json_object_object_add(data, "type", json_object_new_string("session"));
        json_object_object_add(data, "id", json_object_new_string(session->id));
        json_object_object_add(data, "attributes", attributes);
        json_object_object_add(doc, "data", data);
        free(challenge);
        push_reply_document(req, 200, doc);
}

/* Keylime answers a proof with 200 and evaluation "pass" (and the token) or "fail" (200 for an
 * unenrolled agent or an expired challenge, 401 for a proof that does not verify). */
static void reply_session(struct evhttp_request *req, int code, const char *session_id, const char *agent_id,
                          const char *token) {
        json_object *doc = json_object_new_object(), *data = json_object_new_object();
        json_object *attributes = json_object_new_object(), *token_text = NULL;

        json_object_object_add(attributes, "agent_id", json_object_new_string(agent_id));
        json_object_object_add(attributes, "evaluation", json_object_new_string(token ? "pass" : "fail"));
        if (token) {
                token_text = json_object_new_string(token);
                json_object_object_add(attributes, "token", token_text);
                json_object_object_add(attributes, "token_expires_at", push_time_string((int64_t)time(NULL) + SESSION_LIFETIME));
        }
        json_object_object_add(attributes, "response_received_at", push_time_string((int64_t)time(NULL)));
        json_object_object_add(data, "type", json_object_new_string("session"));
        json_object_object_add(data, "id", json_object_new_string(session_id));
        json_object_object_add(data, "attributes", attributes);
        json_object_object_add(doc, "data", data);
        /* the token's copies in the document and its text are wiped before json-c frees them */
        push_reply_document_wiped(req, code, doc, token_text);
}

void push_handle_session_prove(struct push_server *s, struct evhttp_request *req, const char *session_id) {
        json_object *body = http_request_json(req);
        struct push_session_request request;
        struct push_session *session;
        struct push_agent *agent = NULL;
        _cleanup_(freep) uint8_t *attest = NULL;
        _cleanup_(freep) uint8_t *signature = NULL;
        size_t attest_size = 0, signature_size = 0;
        _cleanup_(secret_freep) struct secret *token = NULL;
        int64_t now = (int64_t)time(NULL);
        int ret;

        if (!body)
                return;
        ret = push_session_request_parse(body, true, &request);
        if (ret >= 0 && base64_decode(request.message, strlen(request.message), &attest, &attest_size) < 0)
                ret = vm_error(-EBADMSG, "authentication_provided: message is not base64");
        if (ret >= 0 && base64_decode(request.signature, strlen(request.signature), &signature, &signature_size) < 0)
                ret = vm_error(-EBADMSG, "authentication_provided: signature is not base64");
        json_object_put(body);
        if (ret < 0) {
                push_reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        session = push_session_find(&s->sessions, session_id, now);
        if (!session) {
                push_reply_error(req, 404, "not_found", 0, "Session not found");
                return;
        }
        if (strcmp(session->agent_id, request.agent_id) != 0) {
                push_reply_error(req, 400, "invalid_request", 0, "Agent ID mismatch");
                return;
        }
        ret = push_agent_get(s, request.agent_id, &agent);
        if (ret < 0) { /* Keylime tells nothing more to an agent it does not know */
                log_info("verifier: push session of agent %s refused: %s", request.agent_id, vm_error_detail(ret));
                push_session_end_agent(&s->sessions, request.agent_id);
                reply_session(req, 200, session_id, request.agent_id, NULL);
                return;
        }
        /* the agent's own budget: only proved sessions spend it, so only the agent can (checked
         * before the proof, counted after it) */
        if (push_rate_limit_exhausted(&s->per_agent, request.agent_id, now)) {
                log_warning("verifier: agent %s opened more than %d proved sessions in a minute: refused",
                            request.agent_id, SESSIONS_PER_AGENT);
                push_reply_error(req, 429, "too_many_requests", RATE_RETRY_AFTER,
                                 "Rate limit exceeded for this agent. Please try again later.");
                return;
        }
        if (!(token = secret_new(PUSH_TOKEN_MAX + 1))) {
                push_reply_error(req, 500, "internal_error", 0, "no secure memory for a token");
                return;
        }
        ret = push_session_prove(&s->sessions, session, &agent->ak, attest, attest_size, signature, signature_size, now,
                                 (char *)token->data);
        if (ret < 0) {
                log_warning("verifier: agent %s failed to authenticate: %s", request.agent_id, vm_error_detail(ret));
                reply_session(req, 401, session_id, request.agent_id, NULL);
                return;
        }
        log_info("verifier: agent %s authenticated (push session %.8s...)", request.agent_id, session_id);
        push_rate_limit_count(&s->per_agent, request.agent_id, now);
        reply_session(req, 200, session_id, request.agent_id, (const char *)token->data);
}
