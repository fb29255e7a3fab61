#include "verifier/platform_evidence.h"
#include "verifier/poller.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/mb_policy.h"
#include "lib/runtime_policy.h"
#include "lib/tpm2b.h"
#include "lib/json_member.h"
#include "verifier/evidence.h"
#include "verifier/host_evidence.h"
#include "verifier/host_policy.h"
#include "lib/http_response.h"
#include "verifier/http_client.h"
#include "verifier/release.h"
#include "verifier/release_keys.h"
#include "verifier/store.h"
#include "verifier/webhook.h"

#define TICK_MS 100
/* Enrolments are read again the moment the store changes (an agent activated, or the tenant's
 * add, delete or reactivate in another process: store_data_version), checked every tick at
 * most; this full sync is only a backstop. */
#define SYNC_EVERY_MS 60000
/* how often the service manager's status line may change (`systemctl status`) */
#define STATUS_EVERY_MS 3000
#define NONCE_SIZE 20
/* An agent that activated its registration a moment ago may not listen yet (it registers before
 * it makes its payload key and opens its port: seconds under TCG); an initrd waits for its first
 * quote before it can unlock. Until its first good poll since the activation, for this long
 * after it, an unreachable agent is asked again after COMING_UP_RETRY_MS instead of
 * quote_interval (agents that activated long ago, say after a restart of the verifier, are not). */
#define COMING_UP_S 30
#define COMING_UP_RETRY_MS 100
/* Answers up to this size are judged on the poller thread; larger ones (an IMA list from entry
 * 0 of a long boot, or an agent trying to stall the verifier) on the evidence thread, so that
 * one agent's evidence never delays the polls of the others. */
#define INLINE_ANSWER_MAX (1u << 20)

/* One enrolled agent as the poller holds it: its registration, parsed policies, state and
 * the request in flight. */
struct polled {
        char agent_id[AGENT_ID_MAX + 1];
        int64_t revision;
        bool seen; /* in the last sync */
        TPM2B_PUBLIC ak;
        TPM2B_PUBLIC ek;
        char *mtls_cert;
        char ip[64];
        int port;
        struct tpm_policy tpm_policy;
        struct runtime_policy *runtime_policy;
        struct mb_policy *mb_policy;
        struct platform_policy *platform_policy;
        const struct platform_trust *platform_trust; /* the poller's, read-only */
        char platform_facts[160];                    /* what the last good hardware report showed */
        struct host_policy *host_policy;             /* NULL: no host binding checked (§5.9) */
        char host_served[HOST_NAME_SIZE];            /* the host the last judged binding named; "" */
        char host_class_served[HOST_CLASS_NAME_MAX + 1]; /* the host class its binding matched; "" */
        struct attestation state;
        uint64_t next_due_ms;
        int64_t activated_at; /* its registration's last activation (the registrar's last_seen) */
        /* key release (docs/protocol.md §3): the sealed payload, and the release's state
         * (verifier/release.c) */
        char *payload_sealed;
        struct release release;
        enum release_request request; /* the one in flight */
        char *quoted_pubkey;          /* the payload key of the last good integrity quote */
        char pubkey_uncertified[320]; /* why the AK does not vouch for it as TPM-resident; "" it does */
        char refusal_logged[320];     /* the last such reason logged */
        char held_logged[160];        /* the release's "held back" reason last logged */
        char warned[512];             /* the last trouble logged since the last good poll */
        struct curl_slist *headers;
        /* in flight */
        CURL *curl;
        struct http_body body;
        char error[CURL_ERROR_SIZE];
        char nonce[NONCE_SIZE + 1];
        uint32_t mask;
        uint64_t ima_entry;
        uint64_t started_ms;
        /* on the evidence thread: nothing else touches the agent until it comes back */
        bool checking;
        struct http_body answer;
        int verdict;
        char verdict_detail[512]; /* vm_error's detail is per thread: the reason travels here */
        struct measurement_summary measurements;
        struct polled *next_job;
};

struct poller {
        const struct verifier_config *config;
        TPM2_ALG_ID bank;
        struct store *store;
        CURLM *multi;
        struct webhooks *webhooks;
        struct platform_trust platform_trust;
        struct polled **agents;
        size_t count;
        pthread_t thread;
        atomic_bool stop;
        atomic_bool sync_now; /* an agent activated: read the store before the next SYNC_EVERY_MS */
        uint64_t last_sync_ms;
        int64_t data_version; /* the store's at the last sync (store_data_version) */
        uint64_t last_status_ms;
        char status[64]; /* the status line last sent */
        /* the evidence thread: large answers queued to it (todo), judged ones back (done) */
        pthread_t evidence_thread;
        bool evidence_started;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        struct polled *todo, **todo_tail, *done;
        /* failures of push-mode agents (verifier/push_server.c) for the webhook, under `lock` */
        struct failure_note *failures;
};

struct failure_note {
        struct failure_note *next;
        char agent_id[AGENT_ID_MAX + 1];
        char reason[1024];
        int64_t at;
};

static void failures_notify(struct poller *p);

static void random_nonce(char out[NONCE_SIZE + 1]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t bytes[NONCE_SIZE];

        if (RAND_bytes(bytes, sizeof(bytes)) != 1)
                abort(); /* no randomness: a predictable nonce would let old quotes pass */
        for (size_t i = 0; i < NONCE_SIZE; i++)
                out[i] = alphabet[bytes[i] % 62];
        out[NONCE_SIZE] = '\0';
}

static void polled_cancel(struct poller *p, struct polled *a) {
        if (a->headers) {
                curl_slist_free_all(a->headers);
                a->headers = NULL;
        }
        if (a->curl) {
                curl_multi_remove_handle(p->multi, a->curl);
                curl_easy_cleanup(a->curl);
                a->curl = NULL;
        }
        free(a->body.data);
        memset(&a->body, 0, sizeof(a->body));
}

static void polled_free(struct poller *p, struct polled *a) {
        polled_cancel(p, a);
        free(a->answer.data);
        release_done(&a->release);
        free(a->quoted_pubkey);
        free(a->payload_sealed);
        free(a->mtls_cert);
        tpm_policy_done(&a->tpm_policy);
        runtime_policy_free(a->runtime_policy);
        mb_policy_free(a->mb_policy);
        platform_policy_free(a->platform_policy);
        host_policy_free(a->host_policy);
        attestation_done(&a->state);
        free(a);
}

/* Records a failed attestation: the state, the reason, and the webhook. */
static void polled_fail(struct poller *p, struct polled *a, const char *reason) {
        snprintf(a->state.state, sizeof(a->state.state), "failed");
        snprintf(a->state.failure, sizeof(a->state.failure), "%s", reason);
        a->state.failed_at = (int64_t)time(NULL);
        log_error("verifier: agent %s FAILED: %s", a->agent_id, reason);
        if (store_attestation_save(p->store, &a->state) < 0)
                log_error("verifier: agent %s: cannot record the failure: %s", a->agent_id, vm_error_detail(-EIO));
        webhook_notify(p->webhooks, a->agent_id, reason, a->state.failed_at);
}

/* The agent may have registered again since (a new boot: a new mTLS certificate, another
 * address): the contact of its activated registration is taken, never that of one still
 * waiting for its challenge's answer; and the registration must still be of the TPM enrolled. */
static void polled_refresh_contact(struct poller *p, struct polled *a) {
        struct registered_agent reg = { 0 };
        int ret;

        if (store_agent_get(p->store, a->agent_id, &reg) < 0)
                return;
        ret = attestation_check_registration(&a->state, &reg);
        if (ret < 0)
                polled_fail(p, a, vm_error_detail(ret));
        if (ret < 0 || !reg.active) {
                registered_agent_done(&reg);
                return;
        }
        if (reg.mtls_cert && (!a->mtls_cert || strcmp(reg.mtls_cert, a->mtls_cert) != 0)) {
                log_info("verifier: agent %s registered a new mTLS certificate: using it", a->agent_id);
                free(a->mtls_cert);
                a->mtls_cert = reg.mtls_cert, reg.mtls_cert = NULL;
        }
        snprintf(a->ip, sizeof(a->ip), "%s", reg.ip);
        a->port = reg.port;
        a->activated_at = reg.last_seen;
        registered_agent_done(&reg);
}

/* Loads (or reloads, after add or reactivate) one enrolment with its activated registration,
 * which must be of the TPM the enrolment pinned. */
static int polled_load(struct poller *p, const char *agent_id, struct polled **out) {
        struct polled *a = calloc(1, sizeof(*a));
        struct registered_agent reg = { 0 };
        int ret;

        if (!a)
                return -ENOMEM;
        snprintf(a->agent_id, sizeof(a->agent_id), "%s", agent_id);
        ret = store_attestation_get(p->store, agent_id, true, &a->state);
        if (ret >= 0)
                ret = store_agent_get(p->store, agent_id, &reg);
        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "agent %s is not registered at this registrar", agent_id);
        if (ret >= 0 && !reg.active)
                ret = vm_error(-EPERM, "agent %s never activated its registration", agent_id);
        if (ret >= 0)
                ret = attestation_check_registration(&a->state, &reg);
        if (ret >= 0 && !reg.mtls_cert)
                ret = vm_error(-EPERM, "agent %s registered no mTLS certificate: it cannot be polled", agent_id);
        if (ret >= 0)
                ret = tpm2b_public_unmarshal(reg.aik_tpm, reg.aik_tpm_size, &a->ak);
        if (ret >= 0)
                ret = tpm2b_public_unmarshal(reg.ek_tpm, reg.ek_tpm_size, &a->ek);
        if (ret >= 0) {
                a->mtls_cert = reg.mtls_cert, reg.mtls_cert = NULL;
                snprintf(a->ip, sizeof(a->ip), "%s", reg.ip);
                a->port = reg.port;
                a->activated_at = reg.last_seen;
                ret = tpm_policy_load(a->state.tpm_policy, strlen(a->state.tpm_policy), p->bank, &a->tpm_policy);
        }
        if (ret >= 0 && a->state.runtime_policy)
                ret = runtime_policy_parse(a->state.runtime_policy, strlen(a->state.runtime_policy), &a->runtime_policy);
        if (ret >= 0 && a->runtime_policy)
                runtime_policy_allow_violations(a->runtime_policy, p->config->ima_allow_violations);
        if (ret >= 0 && a->state.mb_policy)
                ret = mb_policy_parse(a->state.mb_policy, strlen(a->state.mb_policy), &a->mb_policy);
        if (ret >= 0 && a->state.platform_policy)
                ret = platform_policy_parse(a->state.platform_policy, strlen(a->state.platform_policy),
                                            &a->platform_policy);
        if (ret >= 0 && a->state.host_policy)
                ret = host_policy_parse(a->state.host_policy, strlen(a->state.host_policy), &a->host_policy);
        a->platform_trust = &p->platform_trust;
        registered_agent_done(&reg);
        a->revision = a->state.revision;
        a->payload_sealed = a->state.payload, a->state.payload = NULL;
        release_init(&a->release, a->payload_sealed != NULL, a->state.released_reset, a->state.released_restart);
        a->release.pcr9_pin_missing = a->state.pcr9_pin_required && !a->state.pcr9_pinned_by[0];
        /* the policy texts were parsed: keep only the parsed forms */
        attestation_done(&a->state);
        *out = a;
        return ret;
}

static struct polled *find(struct poller *p, const char *agent_id) {
        for (size_t i = 0; i < p->count; i++)
                if (strcmp(p->agents[i]->agent_id, agent_id) == 0)
                        return p->agents[i];
        return NULL;
}

static int sync_one(const struct attestation *row, void *user) {
        struct poller *p = user;
        struct polled *a = find(p, row->agent_id), *fresh = NULL;
        int ret;

        /* a push-mode agent submits its evidence (verifier/push_server.c): not polled; one that
         * was polled until now is dropped below, as unseen */
        if (row->push)
                return 0;
        /* an agent on the evidence thread is reloaded at the next sync after it comes back */
        if (a && (a->revision == row->revision || a->checking)) {
                a->seen = true;
                return 0;
        }
        ret = polled_load(p, row->agent_id, &fresh);
        if (a) { /* reactivated or re-added: the fresh copy replaces it */
                for (size_t i = 0; i < p->count; i++)
                        if (p->agents[i] == a)
                                p->agents[i] = fresh;
                polled_free(p, a);
        } else {
                struct polled **grown = realloc(p->agents, (p->count + 1) * sizeof(*grown));

                if (!grown) {
                        polled_free(p, fresh);
                        return 0;
                }
                p->agents = grown;
                p->agents[p->count++] = fresh;
        }
        fresh->seen = true;
        if (ret < 0 && strcmp(fresh->state.state, "failed") != 0)
                polled_fail(p, fresh, vm_error_detail(ret));
        else if (ret >= 0)
                log_info("verifier: polling agent %s at %s:%d every %u s", fresh->agent_id, fresh->ip, fresh->port,
                         p->config->quote_interval);
        return 0;
}

/* Brings the poller's list in line with the store: new, changed and deleted enrolments. */
static void sync_agents(struct poller *p) {
        size_t kept = 0;

        for (size_t i = 0; i < p->count; i++)
                p->agents[i]->seen = false;
        if (store_attestation_foreach(p->store, sync_one, p) < 0) {
                log_error("verifier: %s", vm_error_detail(-EIO));
                return;
        }
        for (size_t i = 0; i < p->count; i++) {
                if (p->agents[i]->seen || p->agents[i]->checking)
                        p->agents[kept++] = p->agents[i];
                else {
                        log_info("verifier: agent %s deleted: no longer polled", p->agents[i]->agent_id);
                        polled_free(p, p->agents[i]);
                }
        }
        p->count = kept;
}

/* Starts one request to the agent: `path` (with its query) under /v2.6/, POSTing `post_body`
 * when it is not NULL (the body must live until the request ends). */
static void start_request(struct poller *p, struct polled *a, enum release_request request, const char *path,
                          const char *post_body) {
        struct curl_blob pinned = { .data = a->mtls_cert, .len = strlen(a->mtls_cert), .flags = CURL_BLOB_COPY };
        char url[512];

        snprintf(url, sizeof(url), "https://%s%s%s:%d/v2.6/%s", strchr(a->ip, ':') ? "[" : "", a->ip,
                 strchr(a->ip, ':') ? "]" : "", a->port, path);
        a->request = request;
        a->curl = curl_easy_init();
        if (!a->curl)
                return;
        a->body = (struct http_body){ .max = (size_t)p->config->max_answer_mib << 20 };
        a->error[0] = '\0';
        curl_easy_setopt(a->curl, CURLOPT_URL, url);
        curl_easy_setopt(a->curl, CURLOPT_PRIVATE, a);
        curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, http_body_write);
        curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, &a->body);
        curl_easy_setopt(a->curl, CURLOPT_ERRORBUFFER, a->error);
        curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(a->curl, CURLOPT_TIMEOUT_MS, (long)p->config->request_timeout * 1000);
        curl_easy_setopt(a->curl, CURLOPT_PROTOCOLS_STR, "https");
        /* docs/protocol.md §2: trust exactly the certificate the agent registered; host names are
         * not checked */
        curl_easy_setopt(a->curl, CURLOPT_CAINFO_BLOB, &pinned);
        curl_easy_setopt(a->curl, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(a->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(a->curl, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(a->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        curl_easy_setopt(a->curl, CURLOPT_SSLCERT, p->config->client_cert);
        curl_easy_setopt(a->curl, CURLOPT_SSLKEY, p->config->client_key);
        if (post_body) {
                a->headers = curl_slist_append(NULL, "Content-Type: application/json");
                curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, a->headers);
                curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, post_body);
        }
        a->started_ms = monotonic_ms();
        curl_multi_add_handle(p->multi, a->curl);
}

static void start_poll(struct poller *p, struct polled *a) {
        char path[256];

        random_nonce(a->nonce);
        a->mask = evidence_mask(&a->tpm_policy, a->runtime_policy != NULL, a->mb_policy != NULL, a->payload_sealed != NULL);
        a->ima_entry = a->state.ima_next_entry;
        snprintf(path, sizeof(path), "quotes/integrity?nonce=%s&mask=0x%x&partial=0&ima_ml_entry=%llu", a->nonce, a->mask,
                 (unsigned long long)a->ima_entry);
        start_request(p, a, RELEASE_ASK_INTEGRITY, path, NULL);
}

/* The next request for an agent that is due: the release's, or the regular poll. */
static void start_next(struct poller *p, struct polled *a) {
        char path[128];

        switch (release_next(&a->release)) {
        case RELEASE_POST_UKEY:
                start_request(p, a, RELEASE_POST_UKEY, "keys/ukey", a->release.keys->ukey_body);
                return;
        case RELEASE_POST_VKEY:
                start_request(p, a, RELEASE_POST_VKEY, "keys/vkey", a->release.keys->vkey_body);
                return;
        case RELEASE_ASK_VERIFY:
                snprintf(path, sizeof(path), "keys/verify?challenge=%s", a->release.keys->challenge);
                start_request(p, a, RELEASE_ASK_VERIFY, path, NULL);
                return;
        case RELEASE_ASK_INTEGRITY:
                break;
        }
        start_poll(p, a);
}

/* A release starts: K, U and V for the payload key the quote just checked vouched for. */
static void release_start(struct poller *p, struct polled *a) {
        struct release_keys *keys;
        int ret;

        /* docs/protocol.md §5.10: U and V go only to a key that never leaves the agent's TPM */
        if (a->pubkey_uncertified[0] && !p->config->allow_software_payload_key) {
                snprintf(a->state.last_error, sizeof(a->state.last_error),
                         "key release refused: the payload key is not certified as TPM-resident by the agent's AK: %s "
                         "(software_payload_key = allow in verifier.conf accepts software keys)",
                         a->pubkey_uncertified);
                if (strcmp(a->refusal_logged, a->pubkey_uncertified) != 0)
                        log_error("verifier: agent %s: %s", a->agent_id, a->state.last_error);
                snprintf(a->refusal_logged, sizeof(a->refusal_logged), "%s", a->pubkey_uncertified);
                release_request_failed(&a->release);
                return;
        }
        ret = release_keys_prepare(p->config->payload_vault, a->payload_sealed, a->agent_id, a->quoted_pubkey, &keys);

        if (ret < 0) { /* the verifier could not prepare: not the agent's fault; tried again next poll */
                snprintf(a->state.last_error, sizeof(a->state.last_error), "key release: %s", vm_error_detail(ret));
                log_error("verifier: agent %s: key release: %s", a->agent_id, vm_error_detail(ret));
                release_request_failed(&a->release);
                return;
        }
        release_keys_ready(&a->release, keys);
}

/* The release recorded for this boot: kept in the store (status shows it; a restart, or a
 * re-enrolment, of the verifier does not release it again). */
static void release_recorded(struct polled *a, const char *how) {
        a->state.released_reset = a->release.released_reset;
        a->state.released_restart = a->release.released_restart;
        a->state.released_at = (int64_t)time(NULL);
        log_info("verifier: agent %s: payload released for this boot (%s)", a->agent_id, how);
}

/* One step of the key release came back 200: feed it to the release, go on at once. */
static int release_step(struct poller *p, struct polled *a, json_object *results) {
        const char *hmac = NULL;
        int ret;

        switch (a->request) {
        case RELEASE_POST_UKEY:
                release_ukey_delivered(&a->release); /* the integrity quote that earns V, at once */
                ret = 0;
                break;
        case RELEASE_POST_VKEY:
                release_vkey_delivered(&a->release);
                ret = 0;
                break;
        case RELEASE_ASK_VERIFY:
                json_member_string(results, "hmac", 256, false, &hmac);
                ret = release_verified(&a->release, hmac);
                if (ret > 0)
                        release_recorded(a, "the agent proved it holds K");
                break;
        case RELEASE_ASK_INTEGRITY:
        default:
                return 0;
        }
        if (ret >= 0)
                a->next_due_ms = monotonic_ms();
        return ret;
}

/* An integrity quote's answer against the agent's policies (evidence.c); on the poller thread
 * or on the evidence thread, the agent held by one of them only. */
static int judge(struct polled *a, json_object *results, struct measurement_summary *measurements) {
        const char *host_class = "";
        int ret;
        struct evidence_input in = {
                .ak = &a->ak,
                .tpm_policy = &a->tpm_policy,
                .runtime_policy = a->runtime_policy,
                .mb_policy = a->mb_policy,
                .platform = a->platform_policy,
                .platform_trust = a->platform_trust,
                .ek = &a->ek,
                .platform_facts = a->platform_facts,
                .platform_facts_size = sizeof(a->platform_facts),
                .host_policy = a->host_policy,
                .host = a->host_served,
                .host_size = sizeof(a->host_served),
                .host_class = &host_class,
                .nonce = a->nonce,
                .mask = a->mask,
                .ima_entry = a->ima_entry,
                .measurements = measurements,
                .pubkey_pem = &a->quoted_pubkey,
                .pubkey_uncertified = a->pubkey_uncertified,
                .pubkey_uncertified_size = sizeof(a->pubkey_uncertified),
                .first_boot_pins = a->state.pcr9_pinned_by[0] ? 1u << 9 : 0,
                .first_boot_reset = a->state.pcr9_pinned_by[0] ? a->state.pcr9_pin_reset : -1,
        };

        free(a->quoted_pubkey);
        a->quoted_pubkey = NULL;
        ret = evidence_check(&in, results, &a->state);
        snprintf(a->host_class_served, sizeof(a->host_class_served), "%s", ret >= 0 ? host_class : "");
        return ret;
}

/* docs/protocol.md §5.9: the host a good quote's binding named, against the one before. A change
 * (a migration, or a binding no longer served where the policy does not require one) is an
 * event: logged, kept in the status and told to the webhook; the new host passed the host policy
 * already, or the quote would have failed. */
static void host_followed(struct poller *p, struct polled *a) {
        char class_text[HOST_CLASS_NAME_MAX + 16] = "";

        if (!a->host_policy)
                return;
        if (a->host_class_served[0])
                snprintf(class_text, sizeof(class_text), ", host class %s", a->host_class_served);
        if (strcmp(a->host_served, a->state.host) == 0) {
                /* the same host, rebooted into firmware of another class the policy allows */
                if (strcmp(a->host_class_served, a->state.host_class) != 0)
                        log_info("verifier: agent %s: host %s now matches host class %s (it matched %s)", a->agent_id,
                                 a->host_served, a->host_class_served[0] ? a->host_class_served : "(unnamed)",
                                 a->state.host_class[0] ? a->state.host_class : "(unnamed)");
                snprintf(a->state.host_class, sizeof(a->state.host_class), "%s", a->host_class_served);
                return;
        }
        if (!a->state.host[0])
                log_info("verifier: agent %s runs on host %s (its host AK's Name, trusted by the host policy%s)",
                         a->agent_id, a->host_served, class_text);
        else {
                a->state.host_changed_at = (int64_t)time(NULL);
                snprintf(a->state.previous_host, sizeof(a->state.previous_host), "%s", a->state.host);
                if (a->host_served[0])
                        log_warning("verifier: agent %s: HOST CHANGED from %s to %s, which the host policy trusts%s: "
                                    "it keeps attesting",
                                    a->agent_id, a->state.host, a->host_served, class_text);
                else
                        log_warning("verifier: agent %s: HOST CHANGED: it served no host binding (it ran on %s), "
                                    "which its host policy does not require",
                                    a->agent_id, a->state.host);
                webhook_notify_host_change(p->webhooks, a->agent_id, a->state.host, a->host_served,
                                           a->state.host_changed_at);
        }
        snprintf(a->state.host, sizeof(a->state.host), "%s", a->host_served);
        snprintf(a->state.host_class, sizeof(a->state.host_class), "%s", a->host_class_served);
}

/* The outcome of an integrity poll, the release's say on it, recorded (poller thread). */
static void integrity_judged(struct poller *p, struct polled *a, int ret, const struct measurement_summary *measurements) {
        int decision = RELEASE_GO_ON;

        if (ret >= 0) {
                decision = release_integrity_quoted(&a->release, &a->state.clock,
                                                    a->mask & (1u << MEASUREMENT_PCR) ? measurements : NULL);
                ret = decision < 0 ? decision : 0;
        }
        if (ret == -EAGAIN) { /* nothing verified, nothing failed: ask again at once */
                log_info("verifier: agent %s: %s", a->agent_id, vm_error_detail(ret));
                a->next_due_ms = monotonic_ms();
                store_attestation_save(p->store, &a->state);
                return;
        }
        if (ret < 0 && a->host_policy && a->state.host[0] && a->host_served[0] &&
            strcmp(a->state.host, a->host_served) != 0)
                ret = vm_error(ret, "%s (the host changed from %s to %s)", vm_error_detail(ret), a->state.host,
                               a->host_served);
        if (ret < 0) {
                polled_fail(p, a, vm_error_detail(ret));
                return;
        }
        host_followed(p, a);
        if (a->warned[0] || a->state.last_ok == 0)
                log_info("verifier: agent %s attests (quote, PCRs%s%s%s%s%s)", a->agent_id,
                         a->mb_policy ? ", measured boot" : "", a->runtime_policy ? ", IMA" : "",
                         a->platform_policy ? ", hardware report: " : "", a->platform_policy ? a->platform_facts : "",
                         !a->host_policy ? "" : a->host_served[0] ? ", host binding" : ", no host binding");
        a->warned[0] = '\0';
        a->state.last_ok = a->state.last_poll;
        a->state.last_error[0] = '\0';
        /* after the success is recorded: preparing a release may record an error of its own */
        if (decision == RELEASE_RECORDED)
                release_recorded(a, "V delivered, and PCR 15's log records the release");
        else if (decision == RELEASE_PREPARE)
                release_start(p, a);
        if (strcmp(a->release.held, a->held_logged) != 0 && a->release.held[0])
                log_info("verifier: agent %s: no key release in this boot: %s", a->agent_id, a->release.held);
        snprintf(a->held_logged, sizeof(a->held_logged), "%s", a->release.held);
        if (store_attestation_save(p->store, &a->state) == -ESTALE)
                log_debug("verifier: agent %s changed while polled: reloading", a->agent_id);
        /* docs/protocol.md §3: U or V right after the quote that earned it */
        if (release_next(&a->release) != RELEASE_ASK_INTEGRITY)
                a->next_due_ms = monotonic_ms();
}

/* A large answer goes to the evidence thread; the agent is its until it comes back. */
static void evidence_queue(struct poller *p, struct polled *a) {
        a->answer = a->body;
        a->body = (struct http_body){ 0 };
        polled_cancel(p, a);
        a->checking = true;
        a->next_job = NULL;
        pthread_mutex_lock(&p->lock);
        *p->todo_tail = a;
        p->todo_tail = &a->next_job;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

/* Activated a moment ago and not attested since: it may not listen yet. */
static bool coming_up(const struct polled *a) {
        int64_t now = (int64_t)time(NULL);

        return a->state.last_ok <= a->activated_at && now - a->activated_at < COMING_UP_S;
}

/* A poll came back: judge it, then record the outcome. */
static void finish_poll(struct poller *p, struct polled *a, CURLcode code) {
        vm_error_clear(); /* this answer's errors are its own */
        struct measurement_summary measurements = { 0 };
        long status = 0;
        json_object *body = NULL, *results;
        char excerpt[sizeof(a->state.last_error)];
        int ret;

        a->state.last_poll = (int64_t)time(NULL);
        a->state.polls++;
        a->state.poll_ms = (unsigned)(monotonic_ms() - a->started_ms);
        a->next_due_ms = a->started_ms + (uint64_t)p->config->quote_interval * 1000;
        if (code == CURLE_OK)
                curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK || status != 200) {
                /* unreachable is not untrustworthy: record it and keep polling */
                if (code != CURLE_OK)
                        ret = http_curl_failure(code, &a->body, "agent", a->error);
                else
                        ret = vm_error(-EIO, "HTTP %ld: %.150s", status, a->body.data ? a->body.data : "");
                snprintf(excerpt, sizeof(excerpt), "%s", vm_error_detail(ret));
                /* once per kind of trouble, until a good poll (a refused U recurs every round) */
                if (strcmp(a->warned, excerpt) != 0)
                        log_warning("verifier: agent %s at %s:%d: %s", a->agent_id, a->ip, a->port, excerpt);
                snprintf(a->warned, sizeof(a->warned), "%s", excerpt);
                snprintf(a->state.last_error, sizeof(a->state.last_error), "%s", excerpt);
                if (a->request != RELEASE_ASK_INTEGRITY)
                        release_request_failed(&a->release);
                polled_cancel(p, a);
                polled_refresh_contact(p, a);
                if (code != CURLE_OK && coming_up(a))
                        a->next_due_ms = monotonic_ms() + COMING_UP_RETRY_MS;
                store_attestation_save(p->store, &a->state);
                return;
        }
        if (a->request == RELEASE_ASK_INTEGRITY && a->body.size > INLINE_ANSWER_MAX) {
                evidence_queue(p, a);
                return;
        }
        body = a->body.data ? http_parse_json(a->body.data, a->body.size) : NULL;
        results = body && json_object_object_get_ex(body, "results", &results) &&
                                  json_object_is_type(results, json_type_object)
                          ? results
                          : NULL;
        polled_cancel(p, a);
        if (!results)
                ret = vm_error(-EBADMSG, "the agent's answer is not Keylime's {code,status,results} JSON");
        else if (a->request != RELEASE_ASK_INTEGRITY) {
                ret = release_step(p, a, results);
                json_object_put(body);
                if (ret < 0)
                        polled_fail(p, a, vm_error_detail(ret));
                else
                        store_attestation_save(p->store, &a->state);
                return;
        } else
                ret = judge(a, results, &measurements);
        json_object_put(body);
        integrity_judged(p, a, ret, &measurements);
}

/* The evidence thread: judges the large answers queued to it, one at a time, and hands each
 * agent back to the poller thread (which it wakes). */
static void *evidence_main(void *user) {
        struct poller *p = user;

        pthread_mutex_lock(&p->lock);
        while (!atomic_load(&p->stop)) {
                struct polled *a = p->todo;
                json_object *body, *results;

                if (!a) {
                        pthread_cond_wait(&p->wake, &p->lock);
                        continue;
                }
                p->todo = a->next_job;
                if (!p->todo)
                        p->todo_tail = &p->todo;
                pthread_mutex_unlock(&p->lock);

                body = http_parse_json(a->answer.data, a->answer.size);
                results = body && json_object_object_get_ex(body, "results", &results) &&
                                          json_object_is_type(results, json_type_object)
                                  ? results
                                  : NULL;
                a->verdict = results ? judge(a, results, &a->measurements)
                                     : vm_error(-EBADMSG, "the agent's answer is not Keylime's {code,status,results} JSON");
                snprintf(a->verdict_detail, sizeof(a->verdict_detail), "%s", a->verdict < 0 ? vm_error_detail(a->verdict) : "");
                json_object_put(body);
                free(a->answer.data);
                a->answer = (struct http_body){ 0 };

                pthread_mutex_lock(&p->lock);
                a->next_job = p->done;
                p->done = a;
                curl_multi_wakeup(p->multi);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

/* The agents the evidence thread has judged: their outcome, recorded on the poller thread. */
static void evidence_collect(struct poller *p) {
        struct polled *a;

        pthread_mutex_lock(&p->lock);
        a = p->done;
        p->done = NULL;
        pthread_mutex_unlock(&p->lock);
        while (a) {
                struct polled *next = a->next_job;
                int ret = a->verdict;

                a->checking = false;
                if (ret < 0)
                        ret = vm_error(ret, "%s", a->verdict_detail);
                integrity_judged(p, a, ret, &a->measurements);
                a = next;
        }
}

/* The service manager's status line: how many agents are polled and how many failed, sent
 * when it changes. */
static void status_update(struct poller *p) {
        unsigned polled = 0, failed = 0;
        char status[sizeof(p->status)];

        for (size_t i = 0; i < p->count; i++) {
                polled += strcmp(p->agents[i]->state.state, "polling") == 0;
                failed += strcmp(p->agents[i]->state.state, "failed") == 0;
        }
        snprintf(status, sizeof(status), "%u agents polled, %u failed", polled, failed);
        if (strcmp(status, p->status) == 0)
                return;
        snprintf(p->status, sizeof(p->status), "%s", status);
        notify_status("%s", status);
}

/* Issue 12, attest at once: an enrolment the tenant just added (or changed) is attested now, not
 * at the next full sync; an initrd waits for its first quote before it can unlock. */
static bool store_changed(struct poller *p) {
        int64_t version = p->data_version;

        if (store_data_version(p->store, &version) < 0 || version == p->data_version)
                return false;
        p->data_version = version;
        return true;
}

/* How long the loop may sleep: a tick at most, and not past the moment an idle agent is due. A
 * key release is a chain of requests, each due the moment the last one came back (a quote, U,
 * a quote, V): each waiting for the next tick would add up to a tick apiece to the initrd's
 * unlock. */
static int poll_wait_ms(struct poller *p) {
        uint64_t now = monotonic_ms(), wait = TICK_MS;

        for (size_t i = 0; i < p->count; i++) {
                const struct polled *a = p->agents[i];

                if (a->curl || a->checking || strcmp(a->state.state, "polling") != 0)
                        continue;
                if (a->next_due_ms <= now)
                        return 0;
                if (a->next_due_ms - now < wait)
                        wait = a->next_due_ms - now;
        }
        return (int)wait;
}

static void *poller_main(void *user) {
        struct poller *p = user;

        while (!atomic_load(&p->stop)) {
                uint64_t now = monotonic_ms();
                int running = 0, queued;
                CURLMsg *msg;

                if (atomic_exchange(&p->sync_now, false) || now - p->last_sync_ms >= SYNC_EVERY_MS ||
                    store_changed(p)) {
                        sync_agents(p);
                        p->last_sync_ms = now;
                }
                if (now - p->last_status_ms >= STATUS_EVERY_MS) {
                        status_update(p);
                        p->last_status_ms = now;
                }
                for (size_t i = 0; i < p->count; i++) {
                        struct polled *a = p->agents[i];

                        if (!a->curl && !a->checking && strcmp(a->state.state, "polling") == 0 && now >= a->next_due_ms)
                                start_next(p, a);
                }
                curl_multi_perform(p->multi, &running);
                while ((msg = curl_multi_info_read(p->multi, &queued))) {
                        struct polled *a = NULL;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        if (webhook_finished(p->webhooks, msg->easy_handle, msg->data.result))
                                continue;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
                        if (a)
                                finish_poll(p, a, msg->data.result);
                }
                evidence_collect(p);
                failures_notify(p);
                curl_multi_poll(p->multi, NULL, 0, poll_wait_ms(p), NULL);
        }
        return NULL;
}

void poller_notify_failure(struct poller *p, const char *agent_id, const char *reason, int64_t at) {
        struct failure_note *note = p ? calloc(1, sizeof(*note)) : NULL;

        if (!note)
                return;
        snprintf(note->agent_id, sizeof(note->agent_id), "%s", agent_id);
        snprintf(note->reason, sizeof(note->reason), "%s", reason);
        note->at = at;
        pthread_mutex_lock(&p->lock);
        note->next = p->failures;
        p->failures = note;
        pthread_mutex_unlock(&p->lock);
        curl_multi_wakeup(p->multi);
}

/* The push agents' failures, POSTed to the webhook from this thread, which owns its transfers. */
static void failures_notify(struct poller *p) {
        struct failure_note *note;

        pthread_mutex_lock(&p->lock);
        note = p->failures;
        p->failures = NULL;
        pthread_mutex_unlock(&p->lock);
        while (note) {
                struct failure_note *next = note->next;

                webhook_notify(p->webhooks, note->agent_id, note->reason, note->at);
                free(note);
                note = next;
        }
}

void poller_sync_now(struct poller *p) {
        if (!p)
                return;
        atomic_store(&p->sync_now, true);
        curl_multi_wakeup(p->multi);
}

static void evidence_stop(struct poller *p) {
        if (!p->evidence_started)
                return;
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->stop, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->evidence_thread, NULL);
        p->evidence_started = false;
}

int poller_start(const struct verifier_config *config, struct poller **out) {
        struct poller *p = calloc(1, sizeof(*p));
        int ret;

        if (!p)
                return -ENOMEM;
        p->config = config;
        p->bank = hashalg_for_quotes(config->tpm_hash_alg);
        if (p->bank == TPM2_ALG_ERROR) {
                free(p);
                return vm_error(-EINVAL, "[verifier] tpm_hash_alg \"%s\" is not sha256, sha384 or sha512", config->tpm_hash_alg);
        }
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        p->todo_tail = &p->todo;
        ret = store_open(config->database, true, &p->store);
        if (ret >= 0 && !(p->multi = curl_multi_init()))
                ret = -ENOMEM;
        if (ret >= 0)
                ret = webhooks_new(p->multi, config->webhook_url, &p->webhooks);
        if (ret >= 0)
                ret = platform_trust_load(config->amd_certs_dir, config->intel_root_ca, config->platform_test_roots,
                                          &p->platform_trust);
        p->platform_trust.vcek_cache_dir = config->vcek_cache_dir;
        if (ret >= 0 && pthread_create(&p->evidence_thread, NULL, evidence_main, p) != 0)
                ret = vm_error(-EAGAIN, "cannot start the evidence thread");
        p->evidence_started = ret >= 0;
        if (ret >= 0 && pthread_create(&p->thread, NULL, poller_main, p) != 0)
                ret = vm_error(-EAGAIN, "cannot start the poller thread");
        if (ret < 0) {
                evidence_stop(p);
                platform_trust_done(&p->platform_trust);
                webhooks_free(p->webhooks);
                if (p->multi)
                        curl_multi_cleanup(p->multi);
                store_free(p->store);
                pthread_cond_destroy(&p->wake);
                pthread_mutex_destroy(&p->lock);
                free(p);
                return ret;
        }
        *out = p;
        return 0;
}

void poller_stop(struct poller *p) {
        if (!p)
                return;
        atomic_store(&p->stop, true);
        pthread_join(p->thread, NULL);
        evidence_stop(p); /* an agent still queued or judged is freed with the others below */
        while (p->failures) {
                struct failure_note *next = p->failures->next;

                free(p->failures);
                p->failures = next;
        }
        webhooks_free(p->webhooks);
        for (size_t i = 0; i < p->count; i++)
                polled_free(p, p->agents[i]);
        free(p->agents);
        platform_trust_done(&p->platform_trust);
        curl_multi_cleanup(p->multi);
        store_free(p->store);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
}
