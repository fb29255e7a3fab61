/* The push model's server (verifier/push_server.h): its life (the worker thread, the deadline
 * timer, the session tables), the push agents loaded from the store and reloaded when the
 * tenant changes an enrolment, and an agent's failure recorded. The HTTP side is push_routes.c's. */
#include "verifier/push_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/hashalg.h"
#include "lib/tpm2b.h"

void push_agent_free(struct push_agent *a) {
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
        push_release_init(&a->release, &a->state, s->config->push_release_ttl_seconds);
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
int push_agent_get(struct push_server *s, const char *agent_id, struct push_agent **out) {
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
void push_agent_fail(struct push_server *s, struct push_agent *a, const char *reason) {
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

int push_status_of(int ret) {
        return ret == -ENOENT ? 404 : ret == -EPERM || ret == -EACCES ? 403 : ret == -ENOSPC ? 503 : 500;
}

void push_jobs_free(struct push_job *job) {
        while (job) {
                struct push_job *next = job->next;

                push_job_free(job);
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
        ret = push_sessions_init(&s->sessions, NONCE_LIFETIME, SESSION_LIFETIME);
        if (ret >= 0)
                ret = push_rate_limit_init(&s->per_source, PUSH_RATE_SOURCES, SESSIONS_PER_SOURCE, SESSIONS_OVERFLOW);
        /* only agents loaded can prove a session: the table holds them all, it never overflows */
        if (ret >= 0)
                ret = push_rate_limit_init(&s->per_agent, PUSH_AGENTS_MAX, SESSIONS_PER_AGENT, SESSIONS_PER_AGENT);
        if (ret >= 0 && !(s->starts = calloc(PUSH_AGENTS_MAX, sizeof(*s->starts))))
                ret = -ENOMEM;
        s->pending_tail = &s->pending;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->wake, NULL);
        if (ret >= 0 && (s->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
                ret = vm_error(-errno, "push worker: eventfd: %s", strerror(errno));
        if (ret >= 0 && (!(s->done_event = event_new(base, s->done_fd, EV_READ | EV_PERSIST, push_jobs_collect, s)) ||
                         event_add(s->done_event, NULL) < 0))
                ret = -ENOMEM;
        if (ret >= 0 && pthread_create(&s->worker, NULL, push_worker_main, s) != 0)
                ret = vm_error(-EAGAIN, "cannot start the push model's worker thread");
        else if (ret >= 0)
                s->worker_started = true;
        if (ret >= 0 && (!(s->deadline_timer = event_new(base, -1, EV_PERSIST, push_deadline_check, s)) ||
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
        push_jobs_free(s->pending);
        push_jobs_free(s->done);
        if (s->done_event)
                event_free(s->done_event);
        if (s->done_fd >= 0)
                close(s->done_fd);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        for (size_t i = 0; i < PUSH_AGENTS_MAX; i++)
                push_agent_free(s->agents[i]);
        push_sessions_done(&s->sessions);
        push_rate_limit_done(&s->per_source);
        push_rate_limit_done(&s->per_agent);
        free(s->starts);
        free(s);
}
