/* The push model's HTTP side: API v3 paths routed to their handlers (TLS only, the body bound,
 * who may call what), the JSON:API replies, and the key release's route (GET
 * .../vmattest/release, verifier/push_release.h). */
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
#include "lib/http_server.h"

/* ---- replies (JSON:API, as Keylime's verifier sends them) ---- */
void push_reply_document(struct evhttp_request *req, int code, json_object *doc) {
        struct evbuffer *buf = evbuffer_new();
        const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        evbuffer_add(buf, text, strlen(text));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/vnd.api+json");
        evhttp_send_reply(req, code, code < 300 ? "OK" : "Error", buf);
        evbuffer_free(buf);
        json_object_put(doc);
}

void push_reply_document_wiped(struct evhttp_request *req, int code, json_object *doc, json_object *secret) {
        struct evbuffer *buf = evbuffer_new();
        int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
        char *text = (char *)json_object_to_json_string_ext(doc, flags);

        /* evbuffer chains are wiped when libevent frees them (lib/event_wipe.h) */
        evbuffer_add(buf, text, strlen(text));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/vnd.api+json");
        evhttp_send_reply(req, code, code < 300 ? "OK" : "Error", buf);
        evbuffer_free(buf);
        OPENSSL_cleanse(text, strlen(text));
        if (secret)
                OPENSSL_cleanse((char *)json_object_get_string(secret), (size_t)json_object_get_string_len(secret));
        json_object_put(doc);
}

/* {"errors": [{"status", "code", "detail"}]}; `retry_after` > 0 adds the header */
void push_reply_error(struct evhttp_request *req, int code, const char *error_code, int retry_after, const char *fmt,
                        ...) {
        json_object *doc = json_object_new_object(), *errors = json_object_new_array(), *error = json_object_new_object();
        char status[8], detail[1024], seconds[16];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        snprintf(status, sizeof(status), "%d", code);
        json_object_object_add(error, "status", json_object_new_string(status));
        json_object_object_add(error, "code", json_object_new_string(error_code));
        json_object_object_add(error, "detail", json_object_new_string(detail));
        json_object_array_add(errors, error);
        json_object_object_add(doc, "errors", errors);
        if (retry_after > 0) {
                snprintf(seconds, sizeof(seconds), "%d", retry_after);
                evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", seconds);
        }
        push_reply_document(req, code, doc);
}

json_object *push_time_string(int64_t t) {
        char text[TIME_TEXT];
        time_t tt = (time_t)t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        return json_object_new_string(text);
}

/* vmattest's key release in push mode (verifier/push_release.h): GET, the agent's own token */
/* the release document holds U and V (wrapped to the agent's TPM key): wiped all the same */
static void document_wipe_freep(char **document) {
        if (*document)
                OPENSSL_cleanse(*document, strlen(*document));
        free(*document);
        *document = NULL;
}

static void handle_release(struct push_server *s, struct evhttp_request *req, const char *agent_id) {
        _cleanup_(document_wipe_freep) char *document = NULL;
        struct evbuffer *buf;
        struct push_agent *a = NULL;
        const char *caller;
        int ret;

        if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
                push_reply_error(req, 405, "method_not_allowed", 0, "vmattest/release: GET");
                return;
        }
        if (!(caller = push_request_agent(s, req)))
                return;
        if (strcmp(caller, agent_id) != 0) {
                log_warning("verifier: agent %s asked for the key release of agent %s: refused", caller, agent_id);
                push_reply_error(req, 403, "forbidden", 0, "an agent may fetch its own key release only");
                return;
        }
        ret = push_agent_get(s, agent_id, &a);
        /* the worker owns the agent while it judges its evidence: the release it may prepare too */
        if (ret >= 0 && a->judging) {
                push_reply_error(req, 503, "unavailable", 1, "agent %s's evidence is being judged", agent_id);
                return;
        }
        if (ret >= 0)
                ret = push_release_take(&a->release, agent_id, &a->state, &document);
        if (ret < 0) {
                push_reply_error(req, push_status_of(ret), ret == -ENOENT ? "no_release" : "unavailable", 0, "%s",
                                 vm_error_detail(ret));
                return;
        }
        /* recorded first: a release the store did not take (once per boot, PCR 15's record)
         * never leaves; the next attestation prepares another once the store works */
        ret = store_attestation_save(s->store, &a->state);
        if (ret == -ESTALE)
                ret = vm_error(-ESTALE, "the enrolment changed meanwhile");
        push_release_recorded(&a->release, agent_id, &a->state, ret);
        if (ret < 0) {
                push_reply_error(req, 503, "release_not_recorded", 0,
                                 "the verifier could not record the key release (%s): nothing released",
                                 vm_error_detail(ret));
                return;
        }
        if (!(buf = evbuffer_new())) {
                push_reply_error(req, 500, "internal_error", 0, "out of memory");
                return;
        }
        evbuffer_add(buf, document, strlen(document)); /* its chains are wiped as freed (lib/event_wipe.h) */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/vnd.api+json");
        evhttp_send_reply(req, 200, "OK", buf);
        evbuffer_free(buf);
}

/* ---- routes ---- */

/* "/v3[.N]/...": the rest after the version, or NULL */
static const char *v3_rest(const char *path) {
        unsigned minor;
        int consumed = 0;

        if (strncmp(path, "/v3", 3) != 0)
                return NULL;
        if (path[3] == '/')
                return path + 3;
        if (sscanf(path, "/v3.%u%n", &minor, &consumed) == 1 && consumed > 0 && path[consumed] == '/' &&
            minor <= API_MAX_MINOR)
                return path + consumed;
        return NULL;
}

/* "/agents/:id/attestations[/:index]" */
static int parse_attestation_path(const char *rest, char id[AGENT_ID_MAX + 1], char index[24]) {
        const char *p = agent_id_path_take(rest, id, AGENT_ID_MAX + 1);

        if (!p || strncmp(p, "/attestations", 13) != 0)
                return -1;
        p += 13;
        index[0] = '\0';
        if (*p == '\0')
                return 0;
        if (*p++ != '/' || strlen(p) == 0 || strlen(p) >= 24 || strchr(p, '/'))
                return -1;
        if (strcmp(p, "latest") != 0 && strspn(p, "0123456789") != strlen(p))
                return -1;
        snprintf(index, 24, "%s", p);
        return 0;
}

bool push_server_handle(struct push_server *s, struct evhttp_request *req) {
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *rest, *caller;
        enum evhttp_cmd_type method = evhttp_request_get_command(req);
        char agent_id[AGENT_ID_MAX + 1], index[24];
        struct push_agent *a = NULL;
        int ret;

        if (!path || !(rest = v3_rest(path)))
                return false;
        vm_error_clear(); /* a request's errors are its own */
        /* Keylime: challenges, tokens and evidence travel over TLS only */
        if (!http_request_tls(req)) {
                push_reply_error(req, 403, "tls_required", 0, "API v3 (push model) is served on the TLS port only");
                return true;
        }
        /* only the evidence may be longer than any other request (PUSH_EVIDENCE_BODY_MAX) */
        if (!(method == EVHTTP_REQ_PATCH && strncmp(rest, "/agents/", 8) == 0) &&
            evbuffer_get_length(evhttp_request_get_input_buffer(req)) > HTTP_REQUEST_BODY_MAX) {
                push_reply_error(req, 413, "payload_too_large", 0, "the request body is longer than %d bytes",
                                 HTTP_REQUEST_BODY_MAX);
                return true;
        }
        if (strcmp(rest, "/sessions") == 0) {
                if (method == EVHTTP_REQ_POST)
                        push_handle_session_open(s, req);
                else
                        push_reply_error(req, 405, "method_not_allowed", 0, "sessions: POST");
                return true;
        }
        if (strncmp(rest, "/sessions/", 10) == 0) {
                const char *id = rest + 10;

                if (method != EVHTTP_REQ_PATCH)
                        push_reply_error(req, 405, "method_not_allowed", 0, "a session: PATCH");
                else if (strlen(id) != PUSH_SESSION_ID_SIZE || strspn(id, "0123456789abcdef-") != PUSH_SESSION_ID_SIZE)
                        push_reply_error(req, 404, "not_found", 0, "Session not found");
                else
                        push_handle_session_prove(s, req, id);
                return true;
        }
        if (push_release_path(rest, agent_id, sizeof(agent_id)) == 0) {
                handle_release(s, req, agent_id);
                return true;
        }
        if (parse_attestation_path(rest, agent_id, index) < 0) {
                push_reply_error(req, 404, "not_found", 0, "not found: %.100s (API v3.0: sessions, agents/:id/attestations)",
                                 path);
                return true;
        }
        if (method == EVHTTP_REQ_GET) {
                /* the tenant's (Keylime: admin, a client certificate and no Authorization) */
                if (!http_request_client_verified(req)) {
                        push_reply_error(req, 403, "forbidden", 0,
                                         "reading attestations needs a client certificate from the trusted_client_ca");
                        return true;
                }
        } else if (method == EVHTTP_REQ_POST || method == EVHTTP_REQ_PATCH) {
                if (!(caller = push_request_agent(s, req)))
                        return true;
                /* an agent acts on its own attestations only */
                if (strcmp(caller, agent_id) != 0) {
                        log_warning("verifier: agent %s asked for the attestations of agent %s: refused", caller,
                                    agent_id);
                        push_reply_error(req, 403, "forbidden", 0, "an agent may submit attestations for its own id only");
                        return true;
                }
        } else {
                push_reply_error(req, 405, "method_not_allowed", 0, "attestations: GET, POST, PATCH");
                return true;
        }
        ret = push_agent_get(s, agent_id, &a);
        if (ret < 0) {
                push_reply_error(req, push_status_of(ret), ret == -ENOENT ? "not_found" : "unavailable", 0, "%s",
                                 vm_error_detail(ret));
                return true;
        }
        if (method == EVHTTP_REQ_GET && (strcmp(index, "latest") == 0 || index[0] == '\0' ||
                                         strtoll(index, NULL, 10) == a->index))
                push_handle_attestation_show(s, req, a);
        else if (method == EVHTTP_REQ_GET)
                push_reply_error(req, 404, "not_found", 0, "only the latest attestation is kept");
        else if (method == EVHTTP_REQ_POST && index[0] == '\0')
                push_handle_attestation_create(s, req, a);
        else if (method == EVHTTP_REQ_PATCH && index[0])
                push_handle_attestation_update(s, req, a, index);
        else
                push_reply_error(req, 405, "method_not_allowed", 0, "POST .../attestations, PATCH .../attestations/latest");
        return true;
}

/* Jobs never judged or never collected (at exit), an orphaned agent with each. */
