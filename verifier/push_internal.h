/* What the push model's files share (verifier/push_server.h says what the push model does):
 * the server, its agents and the worker's jobs. Inside verifier/ only. The jobs:
 *   push_server.c       the server's life, its agents loaded from the store, failures recorded
 *   push_routes.c       HTTP: the v3 paths routed, JSON:API replies, the key release route
 *   push_auth.c         the session routes (open, prove), their rate limits, the Bearer token
 *   push_attestation.c  the attestation routes: capabilities -> challenge, evidence -> a job
 *   push_judge.c        the worker thread that judges evidence, and its outcome on the loop
 *   push_deadline.c     the failure of an agent that stops submitting evidence
 *   push_rate_limit.c   the bounded rate-limit tables */
#pragma once

#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/agent_id.h"
#include "lib/mb_policy.h"
#include "lib/runtime_policy.h"
#include "verifier/evidence.h"
#include "verifier/platform_policy.h"
#include "verifier/push_rate_limit.h"
#include "verifier/push_release.h"
#include "verifier/push_request.h"
#include "verifier/push_server.h"
#include "verifier/push_session.h"

#define API_MAX_MINOR 0            /* /v3 and /v3.0 */
#define CHALLENGE_LIFETIME 1800    /* Keylime's challenge_lifetime: seconds to send the evidence */
#define NONCE_LIFETIME 60          /* Keylime's nonce_lifetime: seconds to prove a session */
#define SESSION_LIFETIME 180       /* Keylime's session_lifetime */
#define SESSIONS_PER_SOURCE 50     /* Keylime's session_create_rate_limit_per_ip, a minute */
#define SESSIONS_PER_AGENT 15      /* Keylime's session_create_rate_limit_per_agent, a minute: proved ones */
#define SESSIONS_OVERFLOW 50       /* a minute, shared by sources first seen while the table is full */
#define PUSH_RATE_SOURCES 1024     /* sources counted at once (verifier/push_rate_limit.h) */
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
        struct push_rate_limit per_source, per_agent; /* verifier/push_rate_limit.h */
        struct push_agent *agents[PUSH_AGENTS_MAX];
        int64_t started_at;
        struct deadline_start *starts; /* PUSH_AGENTS_MAX */
        size_t starts_count;
        uint64_t scans;
        /* The worker judges the evidence, one at a time, off the loop that answers registrations
         * (verifier/poller.c's evidence thread, the same way): jobs queue to it in `pending` (at most
         * one an agent: PUSH_AGENTS_MAX), come back in `done`, and `done_fd` wakes the loop. */
        pthread_t worker;
        bool worker_started, stop;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        struct push_job *pending, **pending_tail, *done;
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

/* push_server.c */
void push_agent_free(struct push_agent *a);
/* The agent as enrolled now: reloaded when the tenant changed its enrolment (add, reactivate). */
int push_agent_get(struct push_server *s, const char *agent_id, struct push_agent **out);
void push_agent_fail(struct push_server *s, struct push_agent *a, const char *reason);
/* An error's HTTP status: 404, 403, 503 or 500. */
int push_status_of(int ret);

/* push_routes.c: replies (JSON:API, as Keylime's verifier sends them) */
void push_reply_document(struct evhttp_request *req, int code, json_object *doc);
/* {"errors": [{"status", "code", "detail"}]}; `retry_after` > 0 adds the header */
void push_reply_error(struct evhttp_request *req, int code, const char *error_code, int retry_after, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
/* The same, then wipes the document's text and `secret` (a string member, may be NULL) before
 * freeing them: for a reply that carries a token. */
void push_reply_document_wiped(struct evhttp_request *req, int code, json_object *doc, json_object *secret);
json_object *push_time_string(int64_t t);
/* The agent the request's Bearer token authenticates; on failure the reply (401) is sent. */
const char *push_request_agent(struct push_server *s, struct evhttp_request *req);

/* push_auth.c */
void push_handle_session_open(struct push_server *s, struct evhttp_request *req);
void push_handle_session_prove(struct push_server *s, struct evhttp_request *req, const char *session_id);

/* push_attestation.c */
void push_handle_attestation_create(struct push_server *s, struct evhttp_request *req, struct push_agent *a);
void push_handle_attestation_update(struct push_server *s, struct evhttp_request *req, struct push_agent *a,
                                    const char *index_text);
void push_handle_attestation_show(struct push_server *s, struct evhttp_request *req, struct push_agent *a);

/* push_judge.c */
void *push_worker_main(void *user);
void push_jobs_collect(evutil_socket_t fd, short events, void *user);
/* Hands the job to the worker; the agent is the job's until it comes back. */
void push_job_queue(struct push_server *s, struct push_job *job);
void push_job_free(struct push_job *job);
/* Jobs never judged or never collected (at exit), an orphaned agent with each. */
void push_jobs_free(struct push_job *job);

/* push_deadline.c: the timer's callback */
void push_deadline_check(evutil_socket_t fd, short events, void *user);
