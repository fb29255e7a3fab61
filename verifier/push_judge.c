/* The push model's evidence judging, off the event loop: one worker thread takes the queued
 * evidence, judges it by the same checks as a poll (verifier/evidence.c) and prepares a key
 * release after a passing one; the outcome is recorded back on the loop. */
#include "verifier/push_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/encoding.h"
#include "lib/tpm2b.h"

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

void push_job_free(struct push_job *job) {
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

void *push_worker_main(void *user) {
        struct push_server *s = user;
        uint64_t one = 1;

        pthread_mutex_lock(&s->lock);
        while (!s->stop) {
                struct push_job *job = s->pending;

                if (!job) {
                        pthread_cond_wait(&s->wake, &s->lock);
                        continue;
                }
                s->pending = job->next;
                if (!s->pending)
                        s->pending_tail = &s->pending;
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
                push_job_free(job); /* the tenant changed the enrolment meanwhile: this evidence is void */
                return;
        }
        vm_error_clear();
        if (ret < 0)
                ret = vm_error(ret, "%s", job->verdict_detail);
        a->completed_at = now;
        a->state.poll_ms = (unsigned)(monotonic_ms() - a->evidence_ms);
        a->stage = STAGE_COMPLETE;
        push_job_free(job);
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
                push_agent_fail(s, a, vm_error_detail(ret));
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

void push_jobs_collect(evutil_socket_t fd, short events, void *user) {
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
void push_job_queue(struct push_server *s, struct push_job *job) {
        job->agent->judging = true;
        s->queued++;
        pthread_mutex_lock(&s->lock);
        job->next = NULL;
        *s->pending_tail = job;
        s->pending_tail = &job->next;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
}
