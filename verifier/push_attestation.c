/* The push model's attestation routes: POST .../attestations takes the agent's capabilities and
 * answers the challenge the verifier chose (Keylime's TPM engine); PATCH .../attestations/latest
 * takes the evidence, answers 202 and queues it to the worker (push_judge.c); GET shows it. */
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
#include <openssl/rand.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/encoding.h"
#include "lib/hashalg.h"
#include "lib/http_server.h"
#include "lib/tpm2b.h"

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

                json_object_object_add(system_info, "boot_time", push_time_string(a->boot_time));
                json_object_object_add(attributes, "system_info", system_info);
        }
        json_object_object_add(attributes, "capabilities_received_at", push_time_string(a->capabilities_at));
        json_object_object_add(attributes, "challenges_expire_at", push_time_string(a->challenges_expire_at));
        if (a->evidence_at)
                json_object_object_add(attributes, "evidence_received_at", push_time_string(a->evidence_at));
        if (a->completed_at)
                json_object_object_add(attributes, "verification_completed_at", push_time_string(a->completed_at));
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

void push_handle_attestation_create(struct push_server *s, struct evhttp_request *req, struct push_agent *a) {
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
                push_reply_error(req, 503, "verification_in_progress", 1,
                                 "Cannot create attestation for agent '%s' while the last attestation is still being verified.",
                                 a->agent_id);
                return;
        }
        /* a release is fetched right after the evidence that earned it, never after another one */
        push_release_withdraw(&a->release, a->agent_id, "a new attestation began before it was fetched");
        if (strcmp(a->state.state, "failed") == 0) {
                json_object_put(body);
                push_reply_error(req, 403, "agent_attestations_disabled", 0,
                                 "Attestations for agent '%s' are disabled: it failed (%s); the tenant reactivates it",
                                 a->agent_id, a->state.failure);
                return;
        }
        wait = seconds_to_next(s, a, now);
        if (wait > 0) {
                json_object_put(body);
                push_reply_error(req, 429, "premature_attestation", (int)wait,
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
                push_reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        if (RAND_bytes(a->challenge, sizeof(a->challenge)) != 1 ||
            !(b64 = base64_encode(a->challenge, sizeof(a->challenge)))) {
                push_reply_error(req, 500, "internal_error", 0, "no random bytes for a challenge");
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
        push_reply_document(req, 201, attestation_document(a, agent_path, false));
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

void push_handle_attestation_update(struct push_server *s, struct evhttp_request *req, struct push_agent *a,
                                      const char *index_text) {
        json_object *body;
        struct push_evidence ev;
        struct push_job *job;
        char agent_path[256];
        int64_t now = (int64_t)time(NULL);
        int ret;

        if (a->index < 0) {
                push_reply_error(req, 404, "not_found", 0, "No attestation exists for agent '%s'.", a->agent_id);
                return;
        }
        if (strcmp(index_text, "latest") != 0 && strtoll(index_text, NULL, 10) != a->index) {
                push_reply_error(req, 403, "old_attestation", 0, "Attestation %.20s is not the latest for agent '%s'.",
                                 index_text, a->agent_id);
                return;
        }
        if (a->stage != STAGE_AWAITING) {
                push_reply_error(req, 403, "evidence_immutable", 0,
                                 "Cannot alter evidence for attestation %lld which has already been received and accepted.",
                                 (long long)a->index);
                return;
        }
        if (now >= a->challenges_expire_at) {
                push_reply_error(req, 403, "challenges_expired", 0,
                                 "Challenges for attestation %lld expired. Create a new attestation and try again.",
                                 (long long)a->index);
                return;
        }
        if (s->queued >= PUSH_AGENTS_MAX) { /* one job an agent at most: never, but bounded all the same */
                push_reply_error(req, 503, "verification_in_progress", 1, "the verifier is judging %zu attestations",
                                 s->queued);
                return;
        }
        if (!(body = http_request_json(req)))
                return;
        ret = push_evidence_parse(body, a->requested, a->requested_count, &ev);
        if (ret < 0) {
                json_object_put(body);
                push_reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        job = calloc(1, sizeof(*job));
        if (job)
                job->results = results_of(a, &ev);
        if (job && job->results && (ret = push_release_evidence(&a->release, body, job->results)) < 0) {
                json_object_put(body);
                push_job_free(job);
                push_reply_error(req, 400, "invalid_request", 0, "%s", vm_error_detail(ret));
                return;
        }
        json_object_put(body);
        if (!job || !job->results) {
                free(job);
                push_reply_error(req, 500, "internal_error", 0, "out of memory");
                return;
        }
        job->agent = a;
        job->index = a->index;
        job->vault_path = s->config->payload_vault;
        job->allow_software = s->config->allow_software_payload_key;
        a->stage = STAGE_EVALUATING;
        a->evidence_at = now;
        a->evidence_ms = monotonic_ms();
        agent_path_of(req, agent_path, sizeof(agent_path));
        {
                json_object *doc = attestation_document(a, agent_path, true), *meta = json_object_new_object();

                json_object_object_add(meta, "seconds_to_next_attestation",
                                       json_object_new_int64((int64_t)s->config->quote_interval));
                json_object_object_add(doc, "meta", meta);
                push_reply_document(req, 202, doc);
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
        push_job_queue(s, job);
}

void push_handle_attestation_show(struct push_server *s, struct evhttp_request *req, struct push_agent *a) {
        char agent_path[256];

        (void)s;
        if (a->index < 0) {
                push_reply_error(req, 404, "not_found", 0, "No attestation exists for agent '%s'.", a->agent_id);
                return;
        }
        agent_path_of(req, agent_path, sizeof(agent_path));
        push_reply_document(req, 200, attestation_document(a, agent_path, true));
}
