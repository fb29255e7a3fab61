#include "verifier/push_server.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/http_server.h"
#include "lib/log.h"
#include "lib/mb_policy.h"
#include "lib/runtime_policy.h"
#include "lib/tpm2b.h"
#include "verifier/evidence.h"
#include "verifier/platform_evidence.h"
#include "verifier/platform_policy.h"
#include "verifier/push_release.h"
#include "verifier/push_request.h"
#include "verifier/push_session.h"
#include "verifier/registration_limit.h"

#define API_MAX_MINOR 0            /* /v3 and /v3.0 */
#define CHALLENGE_LIFETIME 1800    /* Keylime's challenge_lifetime: seconds to send the evidence */
#define NONCE_LIFETIME 60          /* Keylime's nonce_lifetime: seconds to prove a session */
#define SESSION_LIFETIME 180       /* Keylime's session_lifetime */
#define SESSIONS_PER_SOURCE 50     /* Keylime's session_create_rate_limit_per_ip, a minute */
#define SESSIONS_PER_AGENT 15      /* Keylime's session_create_rate_limit_per_agent, a minute */
#define RATE_RETRY_AFTER 60        /* Keylime's first block: a minute */
#define PUSH_AGENTS_MAX 4096
#define TIME_TEXT 32

enum stage { STAGE_NONE, STAGE_AWAITING, STAGE_EVALUATING, STAGE_COMPLETE };

/* One push-mode enrolment, its parsed policies, and its latest attestation. */
struct push_agent {
        char agent_id[AGENT_ID_MAX + 1];
        int64_t revision;
        TPM2B_PUBLIC ak, ek;
        struct tpm_policy tpm_policy;
        struct runtime_policy *runtime_policy;
        struct mb_policy *mb_policy;
        struct platform_policy *platform_policy;
        char platform_facts[160];
        struct attestation state; /* the persisted state, without policy texts */
        /* the latest attestation (Keylime's resource, index counted from 0 since the load) */
        int64_t index;
        enum stage stage;
        const char *evaluation; /* "pending", "pass", "fail" */
        char failure[512];
        uint8_t challenge[PUSH_CHALLENGE_SIZE];
        char challenge_b64[2 * PUSH_CHALLENGE_SIZE];
        TPM2_ALG_ID bank;
        uint32_t mask;
        const char *signature_scheme;
        enum push_item requested[3];
        size_t requested_count;
        uint64_t ima_offset;
        int64_t boot_time;
        int64_t capabilities_at, challenges_expire_at, evidence_at, completed_at;
        bool retry_at_once; /* the last one asked too late for a new boot's IMA list: no interval */
        struct push_release release; /* vmattest's key release in push mode (verifier/push_release.h) */
        uint64_t evidence_ms; /* CLOCK_MONOTONIC, when the evidence came: poll_ms counts from it */
        /* While its evidence is judged (stage STAGE_EVALUATING), the worker reads the agent and
         * writes its `state` and `platform_facts`; the event loop touches neither, and a reload
         * (the tenant changed the enrolment) leaves it to the job, `orphaned`, to be freed when
         * the job comes back. */
        bool judging, orphaned;
};

/* When an enrolment's deadline started: at the revision the deadline scan last saw. */
struct deadline_start {
        char agent_id[AGENT_ID_MAX + 1];
        int64_t revision;
        int64_t since;
        uint64_t scan; /* the last scan that saw it: the others (deleted) are dropped */
};

struct push_server {
        struct event_base *base;
        const struct verifier_config *config;
        struct store *store;
        struct poller *poller;
        struct event *deadline_timer;
        struct push_sessions sessions;
        struct registration_limit per_source, per_agent;
        struct push_agent *agents[PUSH_AGENTS_MAX];
        int64_t started_at;
        struct deadline_start *starts; /* PUSH_AGENTS_MAX */
        size_t starts_count;
        uint64_t scans;
        /* The worker judges the evidence, one at a time, off the loop that answers registrations
         * (verifier/poller.c's evidence thread, the same way): jobs queue to it in `todo` (at most
         * one an agent: PUSH_AGENTS_MAX), come back in `done`, and `done_fd` wakes the loop. */
        pthread_t worker;
        bool worker_started, stop;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        struct push_job *todo, **todo_tail, *done;
        size_t queued;
        int done_fd;
        struct event *done_event;
};

/* The job of one PATCH: judged on the worker after the 202 went out, recorded on the loop. */
struct push_job {
        struct push_job *next;
        struct push_agent *agent;
        int64_t index;
        json_object *results; /* evidence.c's pull-model `results`, built from the evidence */
        const char *vault_path; /* the release's, when one is due (verifier.conf's, outlives the job) */
        bool allow_software;
        int verdict;
        char verdict_detail[512]; /* vm_error's detail is per thread: the reason travels here */
};

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void push_agent_free(struct push_agent *a) {
        if (!a)
                return;
        tpm_policy_done(&a->tpm_policy);
        runtime_policy_free(a->runtime_policy);
        mb_policy_free(a->mb_policy);
        platform_policy_free(a->platform_policy);
        attestation_done(&a->state);
        push_release_done(&a->release);
        free(a);
}

/* ---- replies (JSON:API, as Keylime's verifier sends them) ---- */

static void reply_document(struct evhttp_request *req, int code, json_object *doc) {
        struct evbuffer *buf = evbuffer_new();
        const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        evbuffer_add(buf, text, strlen(text));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/vnd.api+json");
        evhttp_send_reply(req, code, code < 300 ? "OK" : "Error", buf);
        evbuffer_free(buf);
        json_object_put(doc);
}

/* {"errors": [{"status", "code", "detail"}]}; `retry_after` > 0 adds the header */
static void reply_error(struct evhttp_request *req, int code, const char *error_code, int retry_after, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));
static void reply_error(struct evhttp_request *req, int code, const char *error_code, int retry_after, const char *fmt,
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
        reply_document(req, code, doc);
}

static json_object *time_string(int64_t t) {
        char text[TIME_TEXT];
        time_t tt = (time_t)t;
        struct tm tm;

        gmtime_r(&tt, &tm);
        strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        return json_object_new_string(text);
}

/* ---- agents ---- */

static struct push_agent **agent_slot(struct push_server *s, const char *agent_id) {
        struct push_agent **free_slot = NULL;

        for (size_t i = 0; i < PUSH_AGENTS_MAX; i++) {
                if (s->agents[i] && strcmp(s->agents[i]->agent_id, agent_id) == 0)
                        return &s->agents[i];
                if (!s->agents[i] && !free_slot)
                        free_slot = &s->agents[i];
        }
        return free_slot;
}

/* The enrolment with its activated registration, which must be of the TPM pinned at add. */
static int agent_load(struct push_server *s, const char *agent_id, struct push_agent **out) {
        _cleanup_(freep) struct push_agent *a = calloc(1, sizeof(*a));
        struct registered_agent reg = { 0 };
        TPM2_ALG_ID bank = hashalg_for_quotes(s->config->tpm_hash_alg);
        int ret;

        if (!a)
                return -ENOMEM;
        snprintf(a->agent_id, sizeof(a->agent_id), "%s", agent_id);
        ret = store_attestation_get(s->store, agent_id, true, &a->state);
        if (ret >= 0 && !a->state.push)
                ret = vm_error(-ENOENT, "agent %s is enrolled in pull mode (polled), not push", agent_id);
        if (ret >= 0)
                ret = store_agent_get(s->store, agent_id, &reg);
        if (ret == -ENOENT && !vm_error_detail(ret)[0])
                ret = vm_error(-ENOENT, "no enrolled agent with id %s", agent_id);
        if (ret >= 0 && !reg.active)
                ret = vm_error(-EPERM, "agent %s never activated its registration", agent_id);
        if (ret >= 0)
                ret = attestation_check_registration(&a->state, &reg);
        if (ret >= 0)
                ret = tpm2b_public_unmarshal(reg.aik_tpm, reg.aik_tpm_size, &a->ak);
        if (ret >= 0)
                ret = tpm2b_public_unmarshal(reg.ek_tpm, reg.ek_tpm_size, &a->ek);
        registered_agent_done(&reg);
        if (ret >= 0)
                ret = tpm_policy_load(a->state.tpm_policy, strlen(a->state.tpm_policy), bank, &a->tpm_policy);
        if (ret >= 0 && a->state.runtime_policy)
                ret = runtime_policy_parse(a->state.runtime_policy, strlen(a->state.runtime_policy), &a->runtime_policy);
        if (ret >= 0 && a->runtime_policy)
                runtime_policy_allow_violations(a->runtime_policy, s->config->ima_allow_violations);
        if (ret >= 0 && a->state.mb_policy)
                ret = mb_policy_parse(a->state.mb_policy, strlen(a->state.mb_policy), &a->mb_policy);
        if (ret >= 0 && a->state.platform_policy)
                ret = platform_policy_parse(a->state.platform_policy, strlen(a->state.platform_policy),
                                            &a->platform_policy);
        if (ret < 0) {
                tpm_policy_done(&a->tpm_policy);
                runtime_policy_free(a->runtime_policy);
                mb_policy_free(a->mb_policy);
                platform_policy_free(a->platform_policy);
                attestation_done(&a->state);
                return ret;
        }
        a->revision = a->state.revision;
        a->index = -1;
        a->evaluation = "pending";
        push_release_init(&a->release, &a->state);
        /* the policy texts were parsed: keep only the parsed forms */
        attestation_done(&a->state);
        ret = store_attestation_get(s->store, agent_id, false, &a->state);
        if (ret < 0) {
                push_agent_free(TAKE_PTR(a));
                return ret;
        }
        *out = TAKE_PTR(a);
        return 0;
}

/* The agent as enrolled now: reloaded when the tenant changed its enrolment (add, reactivate). */
static int agent_get(struct push_server *s, const char *agent_id, struct push_agent **out) {
        struct push_agent **slot = agent_slot(s, agent_id), *fresh = NULL;
        struct attestation row;
        int ret = store_attestation_get(s->store, agent_id, false, &row);

        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "no enrolled agent with id %s", agent_id);
        if (ret >= 0 && !row.push)
                ret = vm_error(-ENOENT, "agent %s is enrolled in pull mode (polled), not push", agent_id);
        if (ret >= 0 && slot && *slot && (*slot)->revision == row.revision) {
                attestation_done(&row);
                *out = *slot;
                return 0;
        }
        attestation_done(&row);
        if (ret >= 0 && !slot)
                ret = vm_error(-ENOSPC, "the verifier holds %d push agents at most", PUSH_AGENTS_MAX);
        if (ret >= 0)
                ret = agent_load(s, agent_id, &fresh);
        if (slot && *slot) {
                if ((*slot)->judging)
                        (*slot)->orphaned = true; /* the job frees it when it comes back */
                else
                        push_agent_free(*slot);
                *slot = NULL;
        }
        if (ret < 0)
                return ret;
        *slot = fresh;
        *out = fresh;
        return 0;
}

/* Records a failure: the state, the reason, the webhook (once: the deadline scan and the
 * evidence path see the recorded state); the agent's sessions end. An enrolment that changed
 * meanwhile (-ESTALE: add, reactivate) was not the one judged: nothing is recorded or told,
 * and the next evidence is judged against the new one (the deadline starts again with it). */
static void agent_fail(struct push_server *s, struct push_agent *a, const char *reason) {
        int ret;

        push_release_withdraw(&a->release, a->agent_id, "the agent failed");
        snprintf(a->state.state, sizeof(a->state.state), "failed");
        snprintf(a->state.failure, sizeof(a->state.failure), "%s", reason);
        a->state.failed_at = (int64_t)time(NULL);
        ret = store_attestation_save(s->store, &a->state);
        if (ret == -ESTALE) {
                log_info("verifier: agent %s: its enrolment changed while it was judged: not failed (%s)",
                         a->agent_id, reason);
                return;
        }
        log_error("verifier: agent %s FAILED: %s", a->agent_id, reason);
        if (ret < 0)
                log_error("verifier: agent %s: cannot record the failure: %s", a->agent_id, vm_error_detail(-EIO));
        poller_notify_failure(s->poller, a->agent_id, reason, a->state.failed_at);
        push_session_end_agent(&s->sessions, a->agent_id);
}

static int status_of(int ret) {
        return ret == -ENOENT ? 404 : ret == -EPERM || ret == -EACCES ? 403 : ret == -ENOSPC ? 503 : 500;
}

/* ---- authentication ---- */

/* The agent the request's Bearer token authenticates; on failure the reply (401) is sent. */
static const char *request_agent(struct push_server *s, struct evhttp_request *req) {
        const char *header = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        const char *agent = NULL;

        if (header && strncmp(header, "Bearer ", 7) == 0)
                agent = push_session_agent(&s->sessions, header + 7, (int64_t)time(NULL));
        if (!agent)
                reply_error(req, 401, "unauthorized", 0, "%s",
                            header ? "invalid or expired authentication token: open a session (POST /v3.0/sessions)"
                                   : "an Authorization: Bearer token from POST/PATCH /v3.0/sessions is required");
        return agent;
}

static void handle_session_open(struct push_server *s, struct evhttp_request *req) {
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        json_object *body = http_request_json(req), *doc, *data, *attributes, *methods, *method, *params;
        struct push_session_request request;
        struct push_session *session;
        char *peer = NULL, *challenge, agent_key[sizeof(s->per_agent.sources[0].addr)];
        ev_uint16_t port = 0;
        int64_t now = (int64_t)time(NULL);
        int ret;

        if (!body)
                return;
        if (conn)
                evhttp_connection_get_peer(conn, &peer, &port);
        if (peer && !registration_limit_allow(&s->per_source, peer, (time_t)now)) {
                json_object_put(body);
                reply_error(req, 429, "too_many_requests", RATE_RETRY_AFTER, "Rate limit exceeded. Please try again later.");
                return;
        }
        ret = push_session_request_parse(body, false, &request);
        json_object_put(body);
        if (ret < 0) {
                reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        /* the table keys on 63 characters: a longer id is counted under its start */
        snprintf(agent_key, sizeof(agent_key), "%.63s", request.agent_id);
        if (!registration_limit_allow(&s->per_agent, agent_key, (time_t)now)) {
                reply_error(req, 429, "too_many_requests", RATE_RETRY_AFTER,
                            "Rate limit exceeded for this agent. Please try again later.");
                return;
        }
        ret = push_session_open(&s->sessions, request.agent_id, now, &session);
        if (ret < 0 || !(challenge = base64_encode(session->challenge, sizeof(session->challenge)))) {
                reply_error(req, 500, "internal_error", 0, "cannot open a session");
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
        json_object_object_add(attributes, "created_at", time_string(session->created_at));
        json_object_object_add(attributes, "challenges_expire_at", time_string(session->challenge_expires_at));
        json_object_object_add(data, "type", json_object_new_string("session"));
        json_object_object_add(data, "id", json_object_new_string(session->id));
        json_object_object_add(data, "attributes", attributes);
        json_object_object_add(doc, "data", data);
        free(challenge);
        reply_document(req, 200, doc);
}

/* Keylime answers a proof with 200 and evaluation "pass" (and the token) or "fail" (200 for an
 * unenrolled agent or an expired challenge, 401 for a proof that does not verify). */
static void reply_session(struct evhttp_request *req, int code, const char *session_id, const char *agent_id,
                          const char *token) {
        json_object *doc = json_object_new_object(), *data = json_object_new_object();
        json_object *attributes = json_object_new_object();

        json_object_object_add(attributes, "agent_id", json_object_new_string(agent_id));
        json_object_object_add(attributes, "evaluation", json_object_new_string(token ? "pass" : "fail"));
        if (token) {
                json_object_object_add(attributes, "token", json_object_new_string(token));
                json_object_object_add(attributes, "token_expires_at", time_string((int64_t)time(NULL) + SESSION_LIFETIME));
        }
        json_object_object_add(attributes, "response_received_at", time_string((int64_t)time(NULL)));
        json_object_object_add(data, "type", json_object_new_string("session"));
        json_object_object_add(data, "id", json_object_new_string(session_id));
        json_object_object_add(data, "attributes", attributes);
        json_object_object_add(doc, "data", data);
        reply_document(req, code, doc);
}

static void handle_session_prove(struct push_server *s, struct evhttp_request *req, const char *session_id) {
        json_object *body = http_request_json(req);
        struct push_session_request request;
        struct push_session *session;
        struct push_agent *agent = NULL;
        _cleanup_(freep) uint8_t *attest = NULL;
        _cleanup_(freep) uint8_t *signature = NULL;
        size_t attest_size = 0, signature_size = 0;
        char token[PUSH_TOKEN_MAX + 1];
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
                reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        session = push_session_find(&s->sessions, session_id, now);
        if (!session) {
                reply_error(req, 404, "not_found", 0, "Session not found");
                return;
        }
        if (strcmp(session->agent_id, request.agent_id) != 0) {
                reply_error(req, 400, "invalid_request", 0, "Agent ID mismatch");
                return;
        }
        ret = agent_get(s, request.agent_id, &agent);
        if (ret < 0) { /* Keylime tells nothing more to an agent it does not know */
                log_info("verifier: push session of agent %s refused: %s", request.agent_id, vm_error_detail(ret));
                push_session_end_agent(&s->sessions, request.agent_id);
                reply_session(req, 200, session_id, request.agent_id, NULL);
                return;
        }
        ret = push_session_prove(&s->sessions, session, &agent->ak, attest, attest_size, signature, signature_size, now,
                                 token);
        if (ret < 0) {
                log_warning("verifier: agent %s failed to authenticate: %s", request.agent_id, vm_error_detail(ret));
                reply_session(req, 401, session_id, request.agent_id, NULL);
                return;
        }
        log_info("verifier: agent %s authenticated (push session %.8s...)", request.agent_id, session_id);
        reply_session(req, 200, session_id, request.agent_id, token);
        OPENSSL_cleanse(token, sizeof(token));
}

/* ---- attestations ---- */

static const char *item_type_name(enum push_item item) {
        return item == PUSH_TPM_QUOTE ? "tpm_quote" : item == PUSH_UEFI_LOG ? "uefi_log" : "ima_log";
}

static json_object *pcr_list(uint32_t mask) {
        json_object *list = json_object_new_array();

        for (int pcr = 0; pcr < 24; pcr++)
                if (mask & (1u << pcr))
                        json_object_array_add(list, json_object_new_int(pcr));
        return list;
}

/* The attestation resource: evidence_requested (POST's answer) or its state (GET, PATCH). */
static json_object *attestation_document(const struct push_agent *a, const char *agent_path, bool state) {
        json_object *doc = json_object_new_object(), *data = json_object_new_object();
        json_object *attributes = json_object_new_object(), *items = json_object_new_array(), *links;
        const char *stage = a->stage == STAGE_AWAITING     ? "awaiting_evidence"
                            : a->stage == STAGE_EVALUATING ? "evaluating_evidence"
                                                           : "verification_complete";
        char index[24], self[256];

        for (size_t i = 0; i < a->requested_count; i++) {
                json_object *item = json_object_new_object(), *params = json_object_new_object();

                json_object_object_add(item, "evidence_class",
                                       json_object_new_string(a->requested[i] == PUSH_TPM_QUOTE ? "certification" : "log"));
                json_object_object_add(item, "evidence_type", json_object_new_string(item_type_name(a->requested[i])));
                if (a->requested[i] == PUSH_TPM_QUOTE) {
                        json_object *key = json_object_new_object(), *subjects = json_object_new_object();
                        char *ak = tpm2b_public_base64(&a->ak);
                        bool ecc = a->ak.publicArea.type == TPM2_ALG_ECC;

                        json_object_object_add(params, "challenge", json_object_new_string(a->challenge_b64));
                        json_object_object_add(params, "signature_scheme", json_object_new_string(a->signature_scheme));
                        json_object_object_add(params, "hash_algorithm", json_object_new_string(hashalg_name(a->bank)));
                        json_object_object_add(subjects, hashalg_name(a->bank), pcr_list(a->mask));
                        json_object_object_add(params, "selected_subjects", subjects);
                        json_object_object_add(key, "key_class", json_object_new_string("asymmetric"));
                        json_object_object_add(key, "key_algorithm", json_object_new_string(ecc ? "ecc" : "rsa"));
                        json_object_object_add(key, "key_size",
                                               json_object_new_int(ecc ? (a->ak.publicArea.parameters.eccDetail.curveID ==
                                                                                          TPM2_ECC_NIST_P384
                                                                                  ? 384
                                                                                  : 256)
                                                                       : a->ak.publicArea.parameters.rsaDetail.keyBits));
                        json_object_object_add(key, "server_identifier", json_object_new_string("ak"));
                        if (ak)
                                json_object_object_add(key, "public", json_object_new_string(ak));
                        free(ak);
                        json_object_object_add(params, "certification_key", key);
                } else if (a->requested[i] == PUSH_UEFI_LOG)
                        json_object_object_add(params, "format", json_object_new_string("application/octet-stream"));
                else {
                        json_object_object_add(params, "starting_offset", json_object_new_int64((int64_t)a->ima_offset));
                        json_object_object_add(params, "format", json_object_new_string("text/plain"));
                }
                json_object_object_add(item, "chosen_parameters", params);
                json_object_array_add(items, item);
        }
        json_object_object_add(attributes, "stage", json_object_new_string(stage));
        if (state) {
                json_object_object_add(attributes, "evaluation", json_object_new_string(a->evaluation));
                if (a->failure[0]) /* a vmattest extension: the reason, as `status` shows it */
                        json_object_object_add(attributes, "failure_reason", json_object_new_string(a->failure));
        }
        json_object_object_add(attributes, state ? "evidence" : "evidence_requested", items);
        if (a->boot_time >= 0) {
                json_object *system_info = json_object_new_object();

                json_object_object_add(system_info, "boot_time", time_string(a->boot_time));
                json_object_object_add(attributes, "system_info", system_info);
        }
        json_object_object_add(attributes, "capabilities_received_at", time_string(a->capabilities_at));
        json_object_object_add(attributes, "challenges_expire_at", time_string(a->challenges_expire_at));
        if (a->evidence_at)
                json_object_object_add(attributes, "evidence_received_at", time_string(a->evidence_at));
        if (a->completed_at)
                json_object_object_add(attributes, "verification_completed_at", time_string(a->completed_at));
        snprintf(index, sizeof(index), "%lld", (long long)a->index);
        snprintf(self, sizeof(self), "%s/attestations/%s", agent_path, index);
        links = json_object_new_object();
        json_object_object_add(links, "self", json_object_new_string(self));
        json_object_object_add(data, "type", json_object_new_string("attestation"));
        json_object_object_add(data, "id", json_object_new_string(index));
        json_object_object_add(data, "attributes", attributes);
        json_object_object_add(data, "links", links);
        json_object_object_add(doc, "data", data);
        return doc;
}

/* Seconds until the agent may start its next attestation (Keylime's quote_interval after the
 * last evidence received). */
static int64_t seconds_to_next(const struct push_server *s, const struct push_agent *a, int64_t now) {
        int64_t next = a->evidence_at + (int64_t)s->config->quote_interval;

        return a->evidence_at && !a->retry_at_once && next > now ? next - now : 0;
}

/* What one attestation asks for, chosen from the agent's capabilities. */
struct push_choice {
        TPM2_ALG_ID bank;
        uint32_t mask;
        const char *signature_scheme;
        enum push_item requested[3];
        size_t requested_count;
        uint64_t ima_offset;
        int64_t boot_time;
};

/* The verifier's choices from the agent's capabilities (Keylime's TPM engine), into `c`. */
static int choose_parameters(struct push_server *s, const struct push_agent *a, const struct push_capabilities *caps,
                             struct push_choice *c) {
        int bank_index;
        bool ecc = a->ak.publicArea.type == TPM2_ALG_ECC;

        memset(c, 0, sizeof(*c));
        c->bank = hashalg_for_quotes(s->config->tpm_hash_alg);
        bank_index = c->bank == TPM2_ALG_SHA256 ? PUSH_SHA256 : c->bank == TPM2_ALG_SHA384 ? PUSH_SHA384 : PUSH_SHA512;
        c->mask = evidence_mask(&a->tpm_policy, a->runtime_policy != NULL, a->mb_policy != NULL, false) |
                  push_release_mask(&a->release);
        c->requested_count = 0;
        if (!caps->tpm_quote)
                return vm_error(-EBADMSG, "evidence: must contain a certification item of type 'tpm_quote' (component "
                                          "version 2.0) per agent policy");
        if (!(caps->hash_algorithms & (1u << bank_index)))
                return vm_error(-EBADMSG, "evidence: must have 'tpm_quote' with capabilities which satisfy agent policy "
                                          "(check 'hash_algorithms': %s is required)",
                                hashalg_name(c->bank));
        if ((caps->subjects[bank_index] & c->mask) != c->mask)
                return vm_error(-EBADMSG, "evidence: must have 'tpm_quote' with capabilities which satisfy agent policy "
                                          "(check the correct numbered PCRs are given for an allowable PCR bank: %s "
                                          "PCRs 0x%x)",
                                hashalg_name(c->bank), c->mask);
        if (ecc ? !(caps->ecdsa && caps->key_ecc) : !(caps->rsassa && caps->key_rsa))
                return vm_error(-EBADMSG, "evidence: must have 'tpm_quote' with capabilities which satisfy agent policy "
                                          "(check 'signature_schemes' and 'certification_keys': the AK is %s, %s)",
                                ecc ? "ECC" : "RSA", ecc ? "ecdsa" : "rsassa");
        c->signature_scheme = ecc ? "ecdsa" : "rsassa";
        c->requested[c->requested_count++] = PUSH_TPM_QUOTE;
        if (a->mb_policy) {
                if (!caps->uefi_log)
                        return vm_error(-EBADMSG, "evidence: must have 'uefi_log' with format 'application/octet-stream'");
                c->requested[c->requested_count++] = PUSH_UEFI_LOG;
        } else if ((c->mask & push_release_mask(&a->release)) && caps->uefi_log)
                c->requested[c->requested_count++] = PUSH_UEFI_LOG; /* the PCR 15 log */
        c->boot_time = caps->boot_time;
        if (!a->runtime_policy)
                return 0;
        if (!caps->ima_log)
                return vm_error(-EBADMSG, "evidence: must have 'ima_log' with format 'text/plain' and which supports "
                                          "partial access");
        if (caps->boot_time < 0)
                return vm_error(-EBADMSG, "system_info/boot_time: is required");
        /* Keylime's offset: where the last verified list stopped, in the same boot; 0 in a new one */
        if (a->state.boottime && caps->boot_time < a->state.boottime)
                return vm_error(-EBADMSG, "system_info/boot_time: must be equal to or greater than the boot time of last "
                                          "attestation");
        c->ima_offset = a->state.boottime == caps->boot_time ? a->state.ima_next_entry : 0;
        if (c->ima_offset > caps->ima_entry_count)
                return vm_error(-EBADMSG, "ima_log/entry_count: must be greater than or equal to the calculated starting "
                                          "offset of '%llu'",
                                (unsigned long long)c->ima_offset);
        c->requested[c->requested_count++] = PUSH_IMA_LOG;
        return 0;
}

static int agent_path_of(struct evhttp_request *req, char *out, size_t size) {
        const char *uri = evhttp_request_get_uri(req);
        const char *end = strstr(uri, "/attestations");

        snprintf(out, size, "%.*s", end ? (int)(end - uri) : 0, uri);
        return 0;
}

static void handle_attestation_create(struct push_server *s, struct evhttp_request *req, struct push_agent *a) {
        json_object *body = http_request_json(req);
        struct push_capabilities caps;
        struct push_choice choice;
        int64_t now = (int64_t)time(NULL), wait;
        char agent_path[256], location[320], *b64;
        int ret;

        if (!body)
                return;
        /* first: while judged, the agent's state is the worker's */
        if (a->stage == STAGE_EVALUATING) {
                json_object_put(body);
                reply_error(req, 503, "verification_in_progress", 1,
                            "Cannot create attestation for agent '%s' while the last attestation is still being verified.",
                            a->agent_id);
                return;
        }
        /* a release is fetched right after the evidence that earned it, never after another one */
        push_release_withdraw(&a->release, a->agent_id, "a new attestation began before it was fetched");
        if (strcmp(a->state.state, "failed") == 0) {
                json_object_put(body);
                reply_error(req, 403, "agent_attestations_disabled", 0,
                            "Attestations for agent '%s' are disabled: it failed (%s); the tenant reactivates it",
                            a->agent_id, a->state.failure);
                return;
        }
        wait = seconds_to_next(s, a, now);
        if (wait > 0) {
                json_object_put(body);
                reply_error(req, 429, "premature_attestation", (int)wait,
                            "Cannot create attestation for agent '%s' before the configured interval has elapsed. Wait "
                            "%lld seconds before trying again.",
                            a->agent_id, (long long)wait);
                return;
        }
        ret = push_capabilities_parse(body, &caps);
        json_object_put(body);
        if (ret >= 0)
                ret = choose_parameters(s, a, &caps, &choice);
        if (ret < 0) {
                reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        if (RAND_bytes(a->challenge, sizeof(a->challenge)) != 1 ||
            !(b64 = base64_encode(a->challenge, sizeof(a->challenge)))) {
                reply_error(req, 500, "internal_error", 0, "no random bytes for a challenge");
                return;
        }
        snprintf(a->challenge_b64, sizeof(a->challenge_b64), "%s", b64);
        free(b64);
        /* only now: a refused POST leaves the attestation awaiting evidence as it was asked */
        a->bank = choice.bank;
        a->mask = choice.mask;
        a->signature_scheme = choice.signature_scheme;
        memcpy(a->requested, choice.requested, sizeof(a->requested));
        a->requested_count = choice.requested_count;
        a->ima_offset = choice.ima_offset;
        a->boot_time = choice.boot_time;
        a->index++;
        a->stage = STAGE_AWAITING;
        a->evaluation = "pending";
        a->failure[0] = '\0';
        a->capabilities_at = now;
        a->challenges_expire_at = now + CHALLENGE_LIFETIME;
        a->evidence_at = a->completed_at = 0;
        a->retry_at_once = false;
        agent_path_of(req, agent_path, sizeof(agent_path));
        log_debug("verifier: agent %s: attestation %lld, PCRs 0x%x in %s, IMA from entry %llu", a->agent_id,
                  (long long)a->index, a->mask, hashalg_name(a->bank), (unsigned long long)a->ima_offset);
        /* Keylime names the new attestation's path, and an agent PATCHes its evidence there */
        snprintf(location, sizeof(location), "%s/attestations/%lld", agent_path, (long long)a->index);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
        reply_document(req, 201, attestation_document(a, agent_path, false));
}

/* evidence.c's input, the pull model's `results` of GET /quotes/integrity, from the evidence */
static json_object *results_of(const struct push_agent *a, const struct push_evidence *ev) {
        json_object *results = json_object_new_object();
        size_t size = 1 + strlen(ev->message) + 1 + strlen(ev->signature) + 1 + strlen(ev->subject_data) + 1;
        char *quote = malloc(size);

        if (!results || !quote) {
                free(quote);
                json_object_put(results);
                return NULL;
        }
        snprintf(quote, size, "r%s:%s:%s", ev->message, ev->signature, ev->subject_data);
        json_object_object_add(results, "quote", json_object_new_string(quote));
        free(quote);
        json_object_object_add(results, "hash_alg", json_object_new_string(hashalg_name(a->bank)));
        if (ev->uefi_entries)
                json_object_object_add(results, "mb_measurement_list", json_object_new_string(ev->uefi_entries));
        if (ev->ima_entries) {
                json_object_object_add(results, "ima_measurement_list", json_object_new_string(ev->ima_entries));
                json_object_object_add(results, "ima_measurement_list_entry", json_object_new_int64((int64_t)a->ima_offset));
        }
        return results;
}

/* Keylime takes the challenge as the quote's extraData either as its bytes (rust-keylime) or
 * as its base64 text: the quote's own extraData says which (its signature is checked later).
 * `quote` is the quote string's body: the TPMS_ATTEST's base64 up to the first ':'. */
static bool quote_over_challenge_bytes(const struct push_agent *a, const char *quote) {
        _cleanup_(freep) uint8_t *bytes = NULL;
        size_t size = 0;
        TPMS_ATTEST attest;

        return base64_decode(quote, strcspn(quote, ":"), &bytes, &size) >= 0 &&
               tpms_attest_unmarshal(bytes, size, &attest) >= 0 && attest.extraData.size == PUSH_CHALLENGE_SIZE &&
               memcmp(attest.extraData.buffer, a->challenge, PUSH_CHALLENGE_SIZE) == 0;
}

static void job_free(struct push_job *job) {
        if (job->agent && job->agent->orphaned)
                push_agent_free(job->agent);
        json_object_put(job->results);
        free(job);
}

/* On the worker: the same checks as a poll's (verifier/evidence.c). Reads the agent, writes
 * its `state` (see struct push_agent); the store and the sessions are the loop's. */
static void job_judge(struct push_job *job) {
        struct push_agent *a = job->agent;
        const char *message = NULL;
        json_object *quote;

        vm_error_clear();
        if (json_object_object_get_ex(job->results, "quote", &quote))
                message = json_object_get_string(quote) + 1;
        bool bytes = message && quote_over_challenge_bytes(a, message);
        struct measurement_summary measurements = { 0 };
        bool keyed = a->release.key_offered && (a->mask & push_release_mask(&a->release));
        struct evidence_input in = {
                .ak = &a->ak,
                .ek = &a->ek,
                .tpm_policy = &a->tpm_policy,
                .runtime_policy = a->runtime_policy,
                .mb_policy = a->mb_policy,
                .platform = a->platform_policy,
                .platform_facts = a->platform_facts,
                .platform_facts_size = sizeof(a->platform_facts),
                .nonce = bytes ? (const char *)a->challenge : a->challenge_b64,
                .nonce_size = bytes ? PUSH_CHALLENGE_SIZE : strlen(a->challenge_b64),
                .no_payload_key = !keyed,
                .measurements = (a->mask & push_release_mask(&a->release)) ? &measurements : NULL,
                .pubkey_pem = keyed ? &a->release.pubkey_pem : NULL,
                .pubkey_uncertified = a->release.uncertified,
                .pubkey_uncertified_size = sizeof(a->release.uncertified),
                .mask = a->mask,
                .ima_entry = a->ima_offset,
                .first_boot_pins = a->state.pcr9_pinned_by[0] ? 1u << 9 : 0,
                .first_boot_reset = a->state.pcr9_pinned_by[0] ? a->state.pcr9_pin_reset : -1,
        };

        job->verdict = evidence_check(&in, job->results, &a->state);
        if (job->verdict >= 0)
                job->verdict = push_release_judged(&a->release, a->agent_id, job->vault_path, job->allow_software,
                                                   in.measurements, &a->state);
        snprintf(job->verdict_detail, sizeof(job->verdict_detail), "%s",
                 job->verdict < 0 ? vm_error_detail(job->verdict) : "");
}

static void *worker_main(void *user) {
        struct push_server *s = user;
        uint64_t one = 1;

        pthread_mutex_lock(&s->lock);
        while (!s->stop) {
                struct push_job *job = s->todo;

                if (!job) {
                        pthread_cond_wait(&s->wake, &s->lock);
                        continue;
                }
                s->todo = job->next;
                if (!s->todo)
                        s->todo_tail = &s->todo;
                pthread_mutex_unlock(&s->lock);
                job_judge(job);
                pthread_mutex_lock(&s->lock);
                job->next = s->done;
                s->done = job;
                if (write(s->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                        log_error("verifier: push worker: cannot wake the event loop: %s", strerror(errno));
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

/* Back on the loop: the outcome recorded, as a poll's. */
static void job_finish(struct push_server *s, struct push_job *job) {
        struct push_agent *a = job->agent;
        int64_t now = (int64_t)time(NULL);
        int ret = job->verdict;

        a->judging = false;
        if (a->orphaned || a->index != job->index || a->stage != STAGE_EVALUATING) {
                job_free(job); /* the tenant changed the enrolment meanwhile: this evidence is void */
                return;
        }
        vm_error_clear();
        if (ret < 0)
                ret = vm_error(ret, "%s", job->verdict_detail);
        a->completed_at = now;
        a->state.poll_ms = (unsigned)(now_ms() - a->evidence_ms);
        a->stage = STAGE_COMPLETE;
        job_free(job);
        log_debug("verifier: agent %s: evidence judged in %u ms", a->agent_id, a->state.poll_ms);
        if (ret == -EAGAIN) { /* nothing verified, nothing failed: the next attestation at once */
                a->evaluation = "fail";
                snprintf(a->failure, sizeof(a->failure), "%s", vm_error_detail(ret));
                a->retry_at_once = true;
                log_info("verifier: agent %s: %s", a->agent_id, vm_error_detail(ret));
                store_attestation_save(s->store, &a->state);
                return;
        }
        if (ret < 0) {
                a->evaluation = "fail";
                snprintf(a->failure, sizeof(a->failure), "%s", vm_error_detail(ret));
                agent_fail(s, a, vm_error_detail(ret));
                return;
        }
        if (a->state.last_ok == 0)
                log_info("verifier: agent %s attests in push mode (quote, PCRs%s%s)", a->agent_id,
                         a->mb_policy ? ", measured boot" : "", a->runtime_policy ? ", IMA" : "");
        a->evaluation = "pass";
        a->state.last_ok = a->state.last_poll;
        a->state.last_error[0] = '\0';
        if (a->boot_time >= 0)
                a->state.boottime = a->boot_time;
        /* a good quote proves the AK again (Keylime's extend_token_on_attestation) */
        push_session_extend(&s->sessions, a->agent_id, now);
        if (store_attestation_save(s->store, &a->state) == -ESTALE)
                log_debug("verifier: agent %s changed while attested: reloading", a->agent_id);
}

static void jobs_collect(evutil_socket_t fd, short events, void *user) {
        struct push_server *s = user;
        struct push_job *job;
        uint64_t count;

        (void)events;
        if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                log_error("verifier: push worker: %s", strerror(errno));
        pthread_mutex_lock(&s->lock);
        job = s->done;
        s->done = NULL;
        pthread_mutex_unlock(&s->lock);
        while (job) {
                struct push_job *next = job->next;

                s->queued--;
                job_finish(s, job);
                job = next;
        }
}

/* Hands the job to the worker; the agent is the job's until it comes back. `queued` is the
 * loop's alone (at most one job an agent: the caller checked there is room). */
static void job_queue(struct push_server *s, struct push_job *job) {
        job->agent->judging = true;
        s->queued++;
        pthread_mutex_lock(&s->lock);
        job->next = NULL;
        *s->todo_tail = job;
        s->todo_tail = &job->next;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
}

static void handle_attestation_update(struct push_server *s, struct evhttp_request *req, struct push_agent *a,
                                      const char *index_text) {
        json_object *body;
        struct push_evidence ev;
        struct push_job *job;
        char agent_path[256];
        int64_t now = (int64_t)time(NULL);
        int ret;

        if (a->index < 0) {
                reply_error(req, 404, "not_found", 0, "No attestation exists for agent '%s'.", a->agent_id);
                return;
        }
        if (strcmp(index_text, "latest") != 0 && strtoll(index_text, NULL, 10) != a->index) {
                reply_error(req, 403, "old_attestation", 0, "Attestation %.20s is not the latest for agent '%s'.",
                            index_text, a->agent_id);
                return;
        }
        if (a->stage != STAGE_AWAITING) {
                reply_error(req, 403, "evidence_immutable", 0,
                            "Cannot alter evidence for attestation %lld which has already been received and accepted.",
                            (long long)a->index);
                return;
        }
        if (now >= a->challenges_expire_at) {
                reply_error(req, 403, "challenges_expired", 0,
                            "Challenges for attestation %lld expired. Create a new attestation and try again.",
                            (long long)a->index);
                return;
        }
        if (s->queued >= PUSH_AGENTS_MAX) { /* one job an agent at most: never, but bounded all the same */
                reply_error(req, 503, "verification_in_progress", 1, "the verifier is judging %zu attestations",
                            s->queued);
                return;
        }
        if (!(body = http_request_json(req)))
                return;
        ret = push_evidence_parse(body, a->requested, a->requested_count, &ev);
        if (ret < 0) {
                json_object_put(body);
                reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        job = calloc(1, sizeof(*job));
        if (job)
                job->results = results_of(a, &ev);
        if (job && job->results && (ret = push_release_evidence(&a->release, body, job->results)) < 0) {
                json_object_put(body);
                job_free(job);
                reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        json_object_put(body);
        if (!job || !job->results) {
                free(job);
                reply_error(req, 500, "internal_error", 0, "out of memory");
                return;
        }
        job->agent = a;
        job->index = a->index;
        job->vault_path = s->config->payload_vault;
        job->allow_software = s->config->allow_software_payload_key;
        a->stage = STAGE_EVALUATING;
        a->evidence_at = now;
        a->evidence_ms = now_ms();
        agent_path_of(req, agent_path, sizeof(agent_path));
        {
                json_object *doc = attestation_document(a, agent_path, true), *meta = json_object_new_object();

                json_object_object_add(meta, "seconds_to_next_attestation",
                                       json_object_new_int64((int64_t)s->config->quote_interval));
                json_object_object_add(doc, "meta", meta);
                reply_document(req, 202, doc);
        }
        /* a new boot (a later boot_time): its list is replayed from entry 0 over a reset PCR 10 */
        if (a->runtime_policy && a->ima_offset == 0) {
                a->state.ima_next_entry = 0;
                a->state.ima_pcr10_size = 0;
        }
        a->state.last_poll = now;
        a->state.polls++;
        /* judged off the loop once the 202 is on its way (Keylime: "verify after the response is
         * sent"), so that a long IMA list holds up no registration */
        job_queue(s, job);
}

static void handle_attestation_show(struct push_server *s, struct evhttp_request *req, struct push_agent *a) {
        char agent_path[256];

        (void)s;
        if (a->index < 0) {
                reply_error(req, 404, "not_found", 0, "No attestation exists for agent '%s'.", a->agent_id);
                return;
        }
        agent_path_of(req, agent_path, sizeof(agent_path));
        reply_document(req, 200, attestation_document(a, agent_path, true));
}

/* vmattest's key release in push mode (verifier/push_release.h): GET, the agent's own token */
static void handle_release(struct push_server *s, struct evhttp_request *req, const char *agent_id) {
        _cleanup_(freep) char *document = NULL;
        struct push_agent *a = NULL;
        const char *caller;
        int ret;

        if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
                reply_error(req, 405, "method_not_allowed", 0, "vmattest/release: GET");
                return;
        }
        if (!(caller = request_agent(s, req)))
                return;
        if (strcmp(caller, agent_id) != 0) {
                log_warning("verifier: agent %s asked for the key release of agent %s: refused", caller, agent_id);
                reply_error(req, 403, "forbidden", 0, "an agent may fetch its own key release only");
                return;
        }
        ret = agent_get(s, agent_id, &a);
        /* the worker owns the agent while it judges its evidence: the release it may prepare too */
        if (ret >= 0 && a->judging) {
                reply_error(req, 503, "unavailable", 1, "agent %s's evidence is being judged", agent_id);
                return;
        }
        if (ret >= 0)
                ret = push_release_take(&a->release, agent_id, &a->state, &document);
        if (ret < 0) {
                reply_error(req, status_of(ret), ret == -ENOENT ? "no_release" : "unavailable", 0, "%s",
                            vm_error_detail(ret));
                return;
        }
        if (store_attestation_save(s->store, &a->state) < 0)
                log_error("verifier: agent %s: cannot record the release: %s", agent_id, vm_error_detail(-EIO));
        reply_document(req, 200, json_tokener_parse(document));
}

/* ---- deadlines ---- */

struct deadline_scan {
        struct push_server *server;
        int64_t now;
        char late[64][AGENT_ID_MAX + 1]; /* failed after the scan, outside the store's cursor */
        int64_t since[64];
        size_t count;
};

/* When the enrolment's deadline started: the first scan that saw this revision of it. The
 * tenant's add and reactivate give a new revision: an agent reactivated long after its last
 * evidence has a whole deadline again, not a failure at once. */
static int64_t deadline_started(struct push_server *s, const struct attestation *row, int64_t now) {
        struct deadline_start *start = NULL;

        for (size_t i = 0; i < s->starts_count && !start; i++)
                if (strcmp(s->starts[i].agent_id, row->agent_id) == 0)
                        start = &s->starts[i];
        if (!start && s->starts_count < PUSH_AGENTS_MAX) {
                start = &s->starts[s->starts_count++];
                snprintf(start->agent_id, sizeof(start->agent_id), "%s", row->agent_id);
                start->revision = row->revision;
                start->since = now;
        }
        if (!start)
                return now; /* more push agents than the verifier serves: none is failed for it */
        start->scan = s->scans;
        if (start->revision != row->revision) {
                start->revision = row->revision;
                start->since = now;
        }
        return start->since;
}

static int deadline_one(const struct attestation *row, void *user) {
        struct deadline_scan *scan = user;
        int64_t limit = (int64_t)scan->server->config->quote_interval * PUSH_DEADLINE_INTERVALS;
        int64_t since = row->last_poll > row->added_at ? row->last_poll : row->added_at, started;

        if (!row->push)
                return 0;
        /* a restart is no one's fault: its time counts as a submission, as does a reactivation */
        started = deadline_started(scan->server, row, scan->now);
        if (started > since)
                since = started;
        if (scan->server->started_at > since)
                since = scan->server->started_at;
        /* the boot's key released, its initrd hands the identity over to the root's agent:
         * switch-root and the root's start take longer than a few quote intervals */
        if (row->released_at > 0 && row->released_at + PUSH_HANDOVER_GRACE > since + limit)
                limit = row->released_at + PUSH_HANDOVER_GRACE - since;
        if (row->push && strcmp(row->state, "polling") == 0 && scan->now - since > limit && scan->count < 64) {
                snprintf(scan->late[scan->count], sizeof(scan->late[0]), "%s", row->agent_id);
                scan->since[scan->count++] = since;
        }
        return 0;
}

static void deadline_check(evutil_socket_t fd, short events, void *user) {
        struct push_server *s = user;
        struct deadline_scan *scan = calloc(1, sizeof(*scan));
        char reason[256];

        (void)fd, (void)events;
        if (!scan)
                return;
        vm_error_clear();
        scan->server = s;
        scan->now = (int64_t)time(NULL);
        s->scans++;
        if (store_attestation_foreach(s->store, deadline_one, scan) < 0)
                log_error("verifier: push deadlines: %s", vm_error_detail(-EIO));
        else /* the enrolments deleted since the last scan */
                for (size_t i = 0; i < s->starts_count;)
                        if (s->starts[i].scan != s->scans)
                                s->starts[i] = s->starts[--s->starts_count];
                        else
                                i++;
        for (size_t i = 0; i < scan->count; i++) {
                struct push_agent *a = NULL;

                snprintf(reason, sizeof(reason),
                         "push: missed its deadline: no evidence for %lld s (%d quote intervals of %u s)",
                         (long long)(scan->now - scan->since[i]), PUSH_DEADLINE_INTERVALS, s->config->quote_interval);
                if (agent_get(s, scan->late[i], &a) < 0) {
                        /* one that cannot be loaded fails all the same, on its row */
                        struct attestation row;

                        if (store_attestation_get(s->store, scan->late[i], false, &row) < 0)
                                continue;
                        snprintf(row.state, sizeof(row.state), "failed");
                        snprintf(row.failure, sizeof(row.failure), "%s (%s)", reason, vm_error_detail(-EPERM));
                        row.failed_at = scan->now;
                        if (store_attestation_save(s->store, &row) != -ESTALE) {
                                log_error("verifier: agent %s FAILED: %s", row.agent_id, row.failure);
                                poller_notify_failure(s->poller, row.agent_id, row.failure, row.failed_at);
                        }
                        attestation_done(&row);
                        continue;
                }
                if (a->stage == STAGE_EVALUATING)
                        continue;
                agent_fail(s, a, reason);
        }
        free(scan);
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
        const char *p;
        size_t n;

        if (strncmp(rest, "/agents/", 8) != 0)
                return -1;
        p = rest + 8;
        n = strcspn(p, "/");
        if (n == 0 || n > AGENT_ID_MAX)
                return -1;
        memcpy(id, p, n);
        id[n] = '\0';
        if (!agent_id_valid(id))
                return -1;
        p += n;
        if (strncmp(p, "/attestations", 13) != 0)
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
                reply_error(req, 403, "tls_required", 0, "API v3 (push model) is served on the TLS port only");
                return true;
        }
        /* only the evidence may be longer than any other request (PUSH_EVIDENCE_BODY_MAX) */
        if (!(method == EVHTTP_REQ_PATCH && strncmp(rest, "/agents/", 8) == 0) &&
            evbuffer_get_length(evhttp_request_get_input_buffer(req)) > HTTP_REQUEST_BODY_MAX) {
                reply_error(req, 413, "payload_too_large", 0, "the request body is longer than %d bytes",
                            HTTP_REQUEST_BODY_MAX);
                return true;
        }
        if (strcmp(rest, "/sessions") == 0) {
                if (method == EVHTTP_REQ_POST)
                        handle_session_open(s, req);
                else
                        reply_error(req, 405, "method_not_allowed", 0, "sessions: POST");
                return true;
        }
        if (strncmp(rest, "/sessions/", 10) == 0) {
                const char *id = rest + 10;

                if (method != EVHTTP_REQ_PATCH)
                        reply_error(req, 405, "method_not_allowed", 0, "a session: PATCH");
                else if (strlen(id) != PUSH_SESSION_ID_SIZE || strspn(id, "0123456789abcdef-") != PUSH_SESSION_ID_SIZE)
                        reply_error(req, 404, "not_found", 0, "Session not found");
                else
                        handle_session_prove(s, req, id);
                return true;
        }
        if (push_release_path(rest, agent_id, sizeof(agent_id)) == 0) {
                handle_release(s, req, agent_id);
                return true;
        }
        if (parse_attestation_path(rest, agent_id, index) < 0) {
                reply_error(req, 404, "not_found", 0, "not found: %.100s (API v3.0: sessions, agents/:id/attestations)",
                            path);
                return true;
        }
        if (method == EVHTTP_REQ_GET) {
                /* the tenant's (Keylime: admin, a client certificate and no Authorization) */
                if (!http_request_client_verified(req)) {
                        reply_error(req, 403, "forbidden", 0,
                                    "reading attestations needs a client certificate from the trusted_client_ca");
                        return true;
                }
        } else if (method == EVHTTP_REQ_POST || method == EVHTTP_REQ_PATCH) {
                if (!(caller = request_agent(s, req)))
                        return true;
                /* an agent acts on its own attestations only */
                if (strcmp(caller, agent_id) != 0) {
                        log_warning("verifier: agent %s asked for the attestations of agent %s: refused", caller,
                                    agent_id);
                        reply_error(req, 403, "forbidden", 0, "an agent may submit attestations for its own id only");
                        return true;
                }
        } else {
                reply_error(req, 405, "method_not_allowed", 0, "attestations: GET, POST, PATCH");
                return true;
        }
        ret = agent_get(s, agent_id, &a);
        if (ret < 0) {
                reply_error(req, status_of(ret), ret == -ENOENT ? "not_found" : "unavailable", 0, "%s",
                            vm_error_detail(ret));
                return true;
        }
        if (method == EVHTTP_REQ_GET && (strcmp(index, "latest") == 0 || index[0] == '\0' ||
                                         strtoll(index, NULL, 10) == a->index))
                handle_attestation_show(s, req, a);
        else if (method == EVHTTP_REQ_GET)
                reply_error(req, 404, "not_found", 0, "only the latest attestation is kept");
        else if (method == EVHTTP_REQ_POST && index[0] == '\0')
                handle_attestation_create(s, req, a);
        else if (method == EVHTTP_REQ_PATCH && index[0])
                handle_attestation_update(s, req, a, index);
        else
                reply_error(req, 405, "method_not_allowed", 0, "POST .../attestations, PATCH .../attestations/latest");
        return true;
}

/* Jobs never judged or never collected (at exit), an orphaned agent with each. */
static void jobs_free(struct push_job *job) {
        while (job) {
                struct push_job *next = job->next;

                job_free(job);
                job = next;
        }
}

int push_server_new(struct event_base *base, const struct verifier_config *config, struct store *store,
                    struct poller *poller, struct push_server **out) {
        struct push_server *s = calloc(1, sizeof(*s));
        int ret;

        if (!s)
                return -ENOMEM;
        s->done_fd = -1;
        s->base = base;
        s->config = config;
        s->store = store;
        s->poller = poller;
        s->started_at = (int64_t)time(NULL);
        s->per_source.per_source = SESSIONS_PER_SOURCE;
        s->per_agent.per_source = SESSIONS_PER_AGENT;
        ret = push_sessions_init(&s->sessions, NONCE_LIFETIME, SESSION_LIFETIME);
        if (ret >= 0 && !(s->starts = calloc(PUSH_AGENTS_MAX, sizeof(*s->starts))))
                ret = -ENOMEM;
        s->todo_tail = &s->todo;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->wake, NULL);
        if (ret >= 0 && (s->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
                ret = vm_error(-errno, "push worker: eventfd: %s", strerror(errno));
        if (ret >= 0 && (!(s->done_event = event_new(base, s->done_fd, EV_READ | EV_PERSIST, jobs_collect, s)) ||
                         event_add(s->done_event, NULL) < 0))
                ret = -ENOMEM;
        if (ret >= 0 && pthread_create(&s->worker, NULL, worker_main, s) != 0)
                ret = vm_error(-EAGAIN, "cannot start the push model's worker thread");
        else if (ret >= 0)
                s->worker_started = true;
        if (ret >= 0 && (!(s->deadline_timer = event_new(base, -1, EV_PERSIST, deadline_check, s)) ||
                         event_add(s->deadline_timer, &(struct timeval){ 1, 0 }) < 0))
                ret = -ENOMEM;
        if (ret < 0) {
                push_server_free(s);
                return ret;
        }
        *out = s;
        return 0;
}

void push_server_free(struct push_server *s) {
        if (!s)
                return;
        if (s->deadline_timer)
                event_free(s->deadline_timer);
        if (s->worker_started) {
                pthread_mutex_lock(&s->lock);
                s->stop = true;
                pthread_cond_broadcast(&s->wake);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->worker, NULL); /* after the job it is judging, if any */
        }
        jobs_free(s->todo);
        jobs_free(s->done);
        if (s->done_event)
                event_free(s->done_event);
        if (s->done_fd >= 0)
                close(s->done_fd);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        for (size_t i = 0; i < PUSH_AGENTS_MAX; i++)
                push_agent_free(s->agents[i]);
        push_sessions_done(&s->sessions);
        free(s->starts);
        free(s);
}
