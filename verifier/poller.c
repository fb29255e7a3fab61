#include "verifier/poller.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/curl_api.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/http_client.h"
#include "lib/log.h"
#include "lib/mb_policy.h"
#include "lib/runtime_policy.h"
#include "lib/tpm2b.h"
#include "lib/json_member.h"
#include "verifier/evidence.h"
#include "verifier/release.h"
#include "verifier/store.h"
#include "verifier/webhook.h"

#define TICK_MS 100
#define SYNC_EVERY_MS 1000
#define NONCE_SIZE 20
#define POLL_BODY_MAX (1100u << 20) /* an IMA list from entry 0 of a long-running boot */

/* What the request in flight is: the regular integrity poll, or a step of the key release. */
enum phase { PHASE_INTEGRITY, PHASE_IDENTITY, PHASE_UKEY, PHASE_VKEY, PHASE_VERIFY };

/* One enrolled agent as the poller holds it: its registration, parsed policies, state and
 * the request in flight. */
struct polled {
        char agent_id[AGENT_ID_MAX + 1];
        int64_t revision;
        bool seen; /* in the last sync */
        TPM2B_PUBLIC ak;
        char *mtls_cert;
        char ip[64];
        int port;
        struct tpm_policy tpm_policy;
        struct runtime_policy *runtime_policy;
        struct mb_policy *mb_policy;
        struct attestation state;
        uint64_t next_due_ms;
        /* key release (SPEC §3): the sealed payload, and the release in progress this boot */
        char *payload_sealed;
        struct release *release;
        struct quote_clock release_boot;
        bool u_sent, v_sent;
        enum phase phase;
        struct curl_slist *headers;
        /* in flight */
        CURL *curl;
        struct http_body body;
        char error[CURL_ERROR_SIZE];
        char nonce[NONCE_SIZE + 1];
        uint32_t mask;
        uint64_t ima_entry;
        uint64_t started_ms;
};

struct poller {
        const struct verifier_config *config;
        TPM2_ALG_ID bank;
        struct store *store;
        const struct curl_api *curl;
        CURLM *multi;
        struct polled **agents;
        size_t count;
        pthread_t thread;
        atomic_bool stop;
        uint64_t last_sync_ms;
};

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
                p->curl->slist_free_all(a->headers);
                a->headers = NULL;
        }
        if (a->curl) {
                p->curl->multi_remove_handle(p->multi, a->curl);
                p->curl->easy_cleanup(a->curl);
                a->curl = NULL;
        }
        free(a->body.data);
        memset(&a->body, 0, sizeof(a->body));
}

static void polled_free(struct poller *p, struct polled *a) {
        polled_cancel(p, a);
        release_free(a->release);
        free(a->payload_sealed);
        free(a->mtls_cert);
        tpm_policy_done(&a->tpm_policy);
        runtime_policy_free(a->runtime_policy);
        mb_policy_free(a->mb_policy);
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
        webhook_notify(p->config->webhook_url, a->agent_id, reason, a->state.failed_at);
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
        if (ret >= 0) {
                a->mtls_cert = reg.mtls_cert, reg.mtls_cert = NULL;
                snprintf(a->ip, sizeof(a->ip), "%s", reg.ip);
                a->port = reg.port;
                ret = tpm_policy_load(a->state.tpm_policy, strlen(a->state.tpm_policy), p->bank, &a->tpm_policy);
        }
        if (ret >= 0 && a->state.runtime_policy)
                ret = runtime_policy_parse(a->state.runtime_policy, strlen(a->state.runtime_policy), &a->runtime_policy);
        if (ret >= 0 && a->state.mb_policy)
                ret = mb_policy_parse(a->state.mb_policy, strlen(a->state.mb_policy), &a->mb_policy);
        registered_agent_done(&reg);
        a->revision = a->state.revision;
        a->payload_sealed = a->state.payload, a->state.payload = NULL;
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

        if (a && a->revision == row->revision) {
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
                if (p->agents[i]->seen)
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
static void start_request(struct poller *p, struct polled *a, enum phase phase, const char *path, const char *post_body) {
        const struct curl_api *c = p->curl;
        struct curl_blob pinned = { .data = a->mtls_cert, .len = strlen(a->mtls_cert), .flags = CURL_BLOB_COPY };
        char url[512];

        snprintf(url, sizeof(url), "https://%s%s%s:%d/v2.6/%s", strchr(a->ip, ':') ? "[" : "", a->ip,
                 strchr(a->ip, ':') ? "]" : "", a->port, path);
        a->phase = phase;
        a->curl = c->easy_init();
        if (!a->curl)
                return;
        a->body = (struct http_body){ .max = POLL_BODY_MAX };
        a->error[0] = '\0';
        c->easy_setopt(a->curl, CURLOPT_URL, url);
        c->easy_setopt(a->curl, CURLOPT_PRIVATE, a);
        c->easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, http_body_write);
        c->easy_setopt(a->curl, CURLOPT_WRITEDATA, &a->body);
        c->easy_setopt(a->curl, CURLOPT_ERRORBUFFER, a->error);
        c->easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
        c->easy_setopt(a->curl, CURLOPT_TIMEOUT_MS, (long)p->config->request_timeout * 1000);
        c->easy_setopt(a->curl, CURLOPT_PROTOCOLS_STR, "https");
        /* SPEC §2: trust exactly the certificate the agent registered; host names are not checked */
        c->easy_setopt(a->curl, CURLOPT_CAINFO_BLOB, &pinned);
        c->easy_setopt(a->curl, CURLOPT_CAPATH, NULL);
        c->easy_setopt(a->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        c->easy_setopt(a->curl, CURLOPT_SSL_VERIFYHOST, 0L);
        c->easy_setopt(a->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        c->easy_setopt(a->curl, CURLOPT_SSLCERT, p->config->client_cert);
        c->easy_setopt(a->curl, CURLOPT_SSLKEY, p->config->client_key);
        if (post_body) {
                a->headers = c->slist_append(NULL, "Content-Type: application/json");
                c->easy_setopt(a->curl, CURLOPT_HTTPHEADER, a->headers);
                c->easy_setopt(a->curl, CURLOPT_POSTFIELDS, post_body);
        }
        a->started_ms = now_ms();
        c->multi_add_handle(p->multi, a->curl);
}

static void start_poll(struct poller *p, struct polled *a) {
        char path[256];

        random_nonce(a->nonce);
        a->mask = evidence_mask(&a->tpm_policy, a->runtime_policy != NULL, a->mb_policy != NULL, a->payload_sealed != NULL);
        a->ima_entry = a->state.ima_next_entry;
        snprintf(path, sizeof(path), "quotes/integrity?nonce=%s&mask=0x%x&partial=0&ima_ml_entry=%llu", a->nonce, a->mask,
                 (unsigned long long)a->ima_entry);
        start_request(p, a, PHASE_INTEGRITY, path, NULL);
}

/* True while this boot's payload has not been released: then every poll is a step of it. */
static bool release_pending(const struct polled *a) {
        const struct attestation *s = &a->state;

        return a->payload_sealed && !(s->clock.valid && s->released_reset == s->clock.reset_count &&
                                      s->released_restart == s->clock.restart_count);
}

static void release_abandon(struct polled *a) {
        release_free(a->release);
        a->release = NULL;
        a->u_sent = a->v_sent = false;
}

/* The next request for an agent that is due. */
static void start_next(struct poller *p, struct polled *a) {
        char path[128];

        if (!release_pending(a)) {
                start_poll(p, a);
                return;
        }
        /* a release prepared in an earlier boot is void: U and V go to this boot's agent */
        if (a->release && quote_clock_rebooted(&a->release_boot, &a->state.clock))
                release_abandon(a);
        if (!a->release) { /* U follows a good identity quote */
                random_nonce(a->nonce);
                snprintf(path, sizeof(path), "quotes/identity?nonce=%s", a->nonce);
                start_request(p, a, PHASE_IDENTITY, path, NULL);
        } else if (!a->u_sent)
                start_request(p, a, PHASE_UKEY, "keys/ukey", a->release->ukey_body);
        else
                start_poll(p, a); /* V follows the first good integrity quote */
}

/* A good identity quote: its pubkey is the one PCR 16 vouches for; U goes to it. */
static int identity_checked(struct poller *p, struct polled *a, json_object *results) {
        struct quote_expect expect = { .ak = &a->ak, .nonce = a->nonce, .hash_alg = a->tpm_policy.bank,
                                       .mask = 0, .last = a->state.clock };
        const char *quote_text, *pubkey;
        struct quote quote;
        struct quote_clock clock;
        int ret;

        ret = json_member_string(results, "quote", 64 * 1024, false, &quote_text);
        if (ret >= 0)
                ret = json_member_string(results, "pubkey", 4096, false, &pubkey);
        if (ret < 0)
                return vm_error(-EBADMSG, "identity quote: %s", vm_error_detail(ret));
        expect.pubkey_pem = pubkey;
        ret = quote_check(quote_text, &expect, &quote, &clock);
        if (ret < 0)
                return vm_error(ret, "identity quote: %s", vm_error_detail(ret));
        a->state.clock = clock;
        ret = release_prepare(p->config->payload_vault, a->payload_sealed, a->agent_id, pubkey, &a->release);
        if (ret < 0)
                return vm_error(-EIO, "key release: %s", vm_error_detail(ret)); /* the verifier's problem */
        a->release_boot = clock;
        return 0;
}

static void release_record(struct polled *a, const char *how) {
        a->state.released_reset = a->release_boot.reset_count;
        a->state.released_restart = a->release_boot.restart_count;
        a->state.released_at = (int64_t)time(NULL);
        release_abandon(a);
        log_info("verifier: agent %s: payload released for this boot (%s)", a->agent_id, how);
}

/* V was delivered but /keys/verify went unanswered (the agent stopped): a release event in this
 * boot's PCR 15 log is the agent saying it authenticated K, which only this release's V can
 * have given it; without one, the release starts over. */
static void release_settle(struct polled *a, bool key_released) {
        if (key_released)
                release_record(a, "V delivered, and PCR 15's log records the release");
        else
                release_abandon(a);
}

/* One step of the key release came back 200: go on to the next one. */
static int release_step(struct poller *p, struct polled *a, json_object *results) {
        char path[64];
        const char *hmac;
        int ret;

        switch (a->phase) {
        case PHASE_IDENTITY:
                ret = identity_checked(p, a, results);
                if (ret == -EIO) { /* the verifier could not prepare: not the agent's fault */
                        snprintf(a->state.last_error, sizeof(a->state.last_error), "%s", vm_error_detail(ret));
                        log_error("verifier: agent %s: %s", a->agent_id, vm_error_detail(ret));
                        return 0;
                }
                if (ret >= 0)
                        start_request(p, a, PHASE_UKEY, "keys/ukey", a->release->ukey_body);
                return ret;
        case PHASE_UKEY:
                a->u_sent = true;
                a->next_due_ms = now_ms(); /* the integrity quote that earns V, at once */
                return 0;
        case PHASE_VKEY:
                a->v_sent = true;
                snprintf(path, sizeof(path), "keys/verify?challenge=%s", a->release->challenge);
                start_request(p, a, PHASE_VERIFY, path, NULL);
                return 0;
        case PHASE_VERIFY:
                ret = json_member_string(results, "hmac", 256, false, &hmac);
                if (ret < 0 || !release_verify(a->release, hmac))
                        return vm_error(-EPERM, "key release: the agent's /keys/verify answer does not prove it holds K");
                release_record(a, "the agent proved it holds K");
                return 0;
        case PHASE_INTEGRITY:
                break;
        }
        return 0;
}

/* A poll came back: judge it, then record the outcome. */
static void finish_poll(struct poller *p, struct polled *a, CURLcode code) {
        bool key_released = false;
        long status = 0;
        json_object *body = NULL, *results;
        char excerpt[sizeof(a->state.last_error)];
        int ret;

        a->state.last_poll = (int64_t)time(NULL);
        a->state.polls++;
        a->state.poll_ms = (unsigned)(now_ms() - a->started_ms);
        a->next_due_ms = a->started_ms + (uint64_t)p->config->quote_interval * 1000;
        if (code == CURLE_OK)
                p->curl->easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK || status != 200) {
                /* unreachable is not untrustworthy: record it and keep polling */
                if (code != CURLE_OK)
                        ret = http_curl_failure(p->curl, code, "agent", a->error);
                else
                        ret = vm_error(-EIO, "HTTP %ld: %.150s", status, a->body.data ? a->body.data : "");
                snprintf(excerpt, sizeof(excerpt), "%s", vm_error_detail(ret));
                if (strcmp(a->state.last_error, excerpt) != 0)
                        log_warning("verifier: agent %s at %s:%d: %s", a->agent_id, a->ip, a->port, excerpt);
                snprintf(a->state.last_error, sizeof(a->state.last_error), "%s", excerpt);
                /* a key release interrupted starts over, with a fresh K; but once V was delivered
                 * the agent may hold K (an initrd's unlock exits once it has used it): the next
                 * integrity quote's PCR 15 log tells */
                if (a->phase != PHASE_INTEGRITY && a->phase != PHASE_IDENTITY && !(a->phase == PHASE_VERIFY && a->v_sent))
                        release_abandon(a);
                polled_cancel(p, a);
                polled_refresh_contact(p, a);
                store_attestation_save(p->store, &a->state);
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
        else if (a->phase != PHASE_INTEGRITY) {
                ret = release_step(p, a, results);
                json_object_put(body);
                if (ret < 0)
                        polled_fail(p, a, vm_error_detail(ret));
                else
                        store_attestation_save(p->store, &a->state);
                return;
        } else {
                struct evidence_input in = {
                        .ak = &a->ak,
                        .tpm_policy = &a->tpm_policy,
                        .runtime_policy = a->runtime_policy,
                        .mb_policy = a->mb_policy,
                        .nonce = a->nonce,
                        .mask = a->mask,
                        .ima_entry = a->ima_entry,
                        .key_released = &key_released,
                };

                ret = evidence_check(&in, results, &a->state);
                /* SPEC §5.2: one key per boot; a release event this verifier did not make is a second one */
                if (ret >= 0 && key_released && a->release && a->u_sent && !a->v_sent)
                        ret = vm_error(-EPERM, "key release refused: PCR 15's log already holds a key release in this boot");
                else if (ret >= 0 && a->release && a->v_sent)
                        release_settle(a, key_released);
        }
        json_object_put(body);
        if (ret < 0) {
                polled_fail(p, a, vm_error_detail(ret));
                return;
        }
        if (a->state.last_error[0] || a->state.last_ok == 0)
                log_info("verifier: agent %s attests (quote, PCRs%s%s)", a->agent_id, a->mb_policy ? ", measured boot" : "",
                         a->runtime_policy ? ", IMA" : "");
        a->state.last_ok = a->state.last_poll;
        a->state.last_error[0] = '\0';
        if (store_attestation_save(p->store, &a->state) == -ESTALE)
                log_debug("verifier: agent %s changed while polled: reloading", a->agent_id);
        /* SPEC §3: V after the first good integrity quote of the boot U was released in */
        if (a->release && a->u_sent && !a->v_sent)
                start_request(p, a, PHASE_VKEY, "keys/vkey", a->release->vkey_body);
}

static void *poller_main(void *user) {
        struct poller *p = user;

        while (!atomic_load(&p->stop)) {
                uint64_t now = now_ms();
                int running = 0, queued;
                CURLMsg *msg;

                if (now - p->last_sync_ms >= SYNC_EVERY_MS) {
                        sync_agents(p);
                        p->last_sync_ms = now;
                }
                for (size_t i = 0; i < p->count; i++) {
                        struct polled *a = p->agents[i];

                        if (!a->curl && strcmp(a->state.state, "polling") == 0 && now >= a->next_due_ms)
                                start_next(p, a);
                }
                p->curl->multi_perform(p->multi, &running);
                while ((msg = p->curl->multi_info_read(p->multi, &queued))) {
                        struct polled *a = NULL;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        p->curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
                        if (a)
                                finish_poll(p, a, msg->data.result);
                }
                p->curl->multi_poll(p->multi, NULL, 0, TICK_MS, NULL);
        }
        return NULL;
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
        ret = curl_api_get(&p->curl);
        if (ret >= 0)
                ret = store_open(config->database, true, &p->store);
        if (ret >= 0 && !(p->multi = p->curl->multi_init()))
                ret = -ENOMEM;
        if (ret >= 0 && pthread_create(&p->thread, NULL, poller_main, p) != 0)
                ret = vm_error(-EAGAIN, "cannot start the poller thread");
        if (ret < 0) {
                if (p->multi)
                        p->curl->multi_cleanup(p->multi);
                store_free(p->store);
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
        for (size_t i = 0; i < p->count; i++)
                polled_free(p, p->agents[i]);
        free(p->agents);
        p->curl->multi_cleanup(p->multi);
        store_free(p->store);
        free(p);
}
