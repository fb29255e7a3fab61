#include "agent/push_evidence.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/push_release.h"
#include "agent/quote.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/tpm2b.h"

#define PCR_COUNT 24

static void json_putp(json_object **obj) {
        json_object_put(*obj);
}

/* The JSON:API document {"data": {"type": TYPE, ["id": ID,] "attributes": ATTRS}} as text;
 * takes `attrs`. */
static int document_text(const char *type, const char *id, json_object *attrs, char **text) {
        _cleanup_(json_putp) json_object *doc = json_object_new_object();
        json_object *data = json_object_new_object();
        const char *out;
        size_t size;

        if (!doc || !data || !attrs) {
                json_object_put(data);
                json_object_put(attrs);
                return -ENOMEM;
        }
        json_object_object_add(data, "type", json_object_new_string(type));
        if (id)
                json_object_object_add(data, "id", json_object_new_string(id));
        json_object_object_add(data, "attributes", attrs);
        json_object_object_add(doc, "data", data);
        out = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &size);
        *text = out ? strndup(out, size) : NULL;
        return *text ? 0 : -ENOMEM;
}

static json_object *pop_method(void) {
        json_object *method = json_object_new_object();

        if (method) {
                json_object_object_add(method, "authentication_class", json_object_new_string("pop"));
                json_object_object_add(method, "authentication_type", json_object_new_string("tpm_pop"));
        }
        return method;
}

int push_session_body(const char *agent_id, char **text) {
        json_object *attrs = json_object_new_object(), *supported = json_object_new_array();

        if (attrs && supported) {
                json_object_object_add(attrs, "agent_id", json_object_new_string(agent_id));
                json_object_array_add(supported, pop_method());
                json_object_object_add(attrs, "authentication_supported", supported);
                supported = NULL;
        }
        json_object_put(supported);
        return document_text("session", NULL, attrs, text);
}

/* Keylime 7.14.3's proof of possession (models/verifier/auth_session.py, receive_pop): a
 * TPM2_Certify of the registered AK by that AK, the challenge as qualifying data; the verifier
 * checks it with the session's sha256 and rsassa (rust-keylime's generate_tpm_auth_proof). */
static int ak_certify_self(struct agent_api *api, const struct push_challenge *challenge, char **message,
                           char **signature) {
        struct agent_identity *id = api->id;
        TPM2B_DATA extra = { .size = (UINT16)challenge->challenge_size };
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL }; /* the AK's own scheme */
        TPM2B_ATTEST *certified = NULL;
        TPMT_SIGNATURE *sig = NULL;
        uint8_t sig_bytes[sizeof(TPMT_SIGNATURE)];
        size_t sig_size;
        int ret;

        memcpy(extra.buffer, challenge->challenge, challenge->challenge_size);
        ret = TPM_RUN("TPM2_Certify (the AK by itself)",
                      Esys_Certify(id->tpm->esys, id->ak.handle, id->ak.handle, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
                                   ESYS_TR_NONE, &extra, &scheme, &certified, &sig));
        if (ret >= 0)
                ret = tpmt_signature_marshal(sig, sig_bytes, sizeof(sig_bytes), &sig_size);
        if (ret >= 0) {
                *message = base64_encode(certified->attestationData, certified->size);
                *signature = base64_encode(sig_bytes, sig_size);
                if (!*message || !*signature)
                        ret = -ENOMEM;
        }
        Esys_Free(certified);
        Esys_Free(sig);
        return ret;
}

int push_pop_body(struct agent_api *api, const struct push_challenge *challenge, char **text) {
        _cleanup_(freep) char *message = NULL, *signature = NULL;
        json_object *attrs, *provided, *method, *data;
        int ret = ak_certify_self(api, challenge, &message, &signature);

        if (ret < 0)
                return ret;
        attrs = json_object_new_object();
        provided = json_object_new_array();
        method = pop_method();
        data = json_object_new_object();
        if (!attrs || !provided || !method || !data) {
                json_object_put(attrs);
                json_object_put(provided);
                json_object_put(method);
                json_object_put(data);
                return -ENOMEM;
        }
        json_object_object_add(data, "message", json_object_new_string(message));
        json_object_object_add(data, "signature", json_object_new_string(signature));
        json_object_object_add(method, "data", data);
        json_object_array_add(provided, method);
        json_object_object_add(attrs, "agent_id", json_object_new_string(api->id->agent_id));
        json_object_object_add(attrs, "authentication_provided", provided);
        return document_text("session", challenge->session_id, attrs, text);
}

static json_object *string_list(const char *one) {
        json_object *list = json_object_new_array();

        if (list)
                json_object_array_add(list, json_object_new_string(one));
        return list;
}

/* the AK as Keylime's certification_keys describe it (models/verifier/evidence.py) */
static json_object *certification_key(struct agent_api *api) {
        const TPM2B_PUBLIC *pub = &api->id->ak.public;
        _cleanup_(freep) char *name = hex_encode(api->id->ak.name.name, api->id->ak.name.size);
        _cleanup_(freep) char *public = tpm2b_public_base64(pub);
        const char *bank = hashalg_name(api->config->tpm_hash_alg);
        json_object *key = json_object_new_object();

        if (!key || !name || !public) {
                json_object_put(key);
                return NULL;
        }
        json_object_object_add(key, "key_class", json_object_new_string("asymmetric"));
        json_object_object_add(key, "key_algorithm", json_object_new_string("rsa"));
        json_object_object_add(key, "key_size", json_object_new_int(pub->publicArea.parameters.rsaDetail.keyBits));
        json_object_object_add(key, "server_identifier", json_object_new_string("ak"));
        json_object_object_add(key, "local_identifier", json_object_new_string(name));
        json_object_object_add(key, "public", json_object_new_string(public));
        json_object_object_add(key, "allowable_hash_algorithms", string_list(bank));
        json_object_object_add(key, "allowable_signature_schemes", string_list("rsassa"));
        return key;
}

static json_object *quote_capabilities(struct agent_api *api) {
        const char *bank = hashalg_name(api->config->tpm_hash_alg);
        json_object *item = json_object_new_object(), *caps = json_object_new_object();
        json_object *subjects = json_object_new_object(), *pcrs = json_object_new_array();
        json_object *keys = json_object_new_array();

        if (!item || !caps || !subjects || !pcrs || !keys) {
                json_object_put(item);
                json_object_put(caps);
                json_object_put(subjects);
                json_object_put(pcrs);
                json_object_put(keys);
                return NULL;
        }
        for (int i = 0; i < PCR_COUNT; i++)
                json_object_array_add(pcrs, json_object_new_int(i));
        json_object_object_add(subjects, bank, pcrs);
        json_object_array_add(keys, certification_key(api));
        json_object_object_add(caps, "component_version", json_object_new_string("2.0"));
        json_object_object_add(caps, "hash_algorithms", string_list(bank));
        json_object_object_add(caps, "signature_schemes", string_list("rsassa"));
        json_object_object_add(caps, "available_subjects", subjects);
        json_object_object_add(caps, "certification_keys", keys);
        json_object_object_add(item, "evidence_class", json_object_new_string("certification"));
        json_object_object_add(item, "evidence_type", json_object_new_string("tpm_quote"));
        json_object_object_add(item, "capabilities", caps);
        return item;
}

/* `count` < 0: no entry_count (the event log's entries are not counted: it goes whole) */
static json_object *log_capabilities(const char *type, const char *format, bool partial, int64_t count) {
        json_object *item = json_object_new_object(), *caps = json_object_new_object();

        if (!item || !caps) {
                json_object_put(item);
                json_object_put(caps);
                return NULL;
        }
        if (count >= 0)
                json_object_object_add(caps, "entry_count", json_object_new_int64(count));
        json_object_object_add(caps, "supports_partial_access", json_object_new_boolean(partial));
        json_object_object_add(caps, "appendable", json_object_new_boolean(partial));
        json_object_object_add(caps, "formats", string_list(format));
        json_object_object_add(item, "evidence_class", json_object_new_string("log"));
        json_object_object_add(item, "evidence_type", json_object_new_string(type));
        json_object_object_add(item, "capabilities", caps);
        return item;
}

static int add_item(json_object *list, json_object *item) {
        if (!item)
                return -ENOMEM;
        json_object_array_add(list, item);
        return 0;
}

int push_capabilities_body(struct agent_api *api, char **text) {
        _cleanup_(freep) char *event_log = NULL;
        json_object *attrs, *supported, *system_info;
        time_t boot = (time_t)agent_boot_time();
        char boot_iso[32];
        struct tm tm;
        uint64_t entries;
        int ret;

        attrs = json_object_new_object();
        supported = json_object_new_array();
        system_info = json_object_new_object();
        if (!attrs || !supported || !system_info) {
                json_object_put(attrs);
                json_object_put(supported);
                json_object_put(system_info);
                return -ENOMEM;
        }
        json_object_object_add(attrs, "evidence_supported", supported);
        json_object_object_add(attrs, "system_info", system_info);
        ret = add_item(supported, quote_capabilities(api));
        if (ret >= 0)
                ret = agent_api_event_log(api, &event_log);
        if (ret >= 0 && event_log)
                ret = add_item(supported, log_capabilities("uefi_log", "application/octet-stream", false, -1));
        if (ret >= 0) {
                ret = ima_source_count(&api->ima, &entries);
                if (ret >= 0)
                        ret = add_item(supported, log_capabilities("ima_log", "text/plain", true, (int64_t)entries));
                else if (ret == -ENOENT)
                        ret = 0; /* IMA is off: no list to offer */
        }
        if (ret >= 0 && boot > 0 && gmtime_r(&boot, &tm) &&
            strftime(boot_iso, sizeof(boot_iso), "%Y-%m-%dT%H:%M:%S+00:00", &tm) > 0)
                json_object_object_add(system_info, "boot_time", json_object_new_string(boot_iso));
        if (ret < 0) {
                json_object_put(attrs);
                return ret;
        }
        return document_text("attestation", NULL, attrs, text);
}

static json_object *evidence_item(const char *class, const char *type, json_object *data) {
        json_object *item = json_object_new_object();

        if (!item || !data) {
                json_object_put(item);
                json_object_put(data);
                return NULL;
        }
        json_object_object_add(item, "evidence_class", json_object_new_string(class));
        json_object_object_add(item, "evidence_type", json_object_new_string(type));
        json_object_object_add(item, "data", data);
        return item;
}

/* message, signature and subject_data are the three parts of the pull model's quote string
 * (docs/protocol.md §2.3), each base64: Keylime joins them back into one (tpm_engine.py) */
static json_object *quote_evidence(struct agent_api *api, const struct push_evidence_item *asked, int *ret) {
        _cleanup_(freep) char *message = NULL, *signature = NULL, *pcrs = NULL;
        struct quote_parts *parts = malloc(sizeof(*parts));
        json_object *data;

        *ret = parts ? agent_api_quote(api, asked->challenge, asked->challenge_size, asked->mask, parts) : -ENOMEM;
        if (*ret < 0) {
                free(parts);
                return NULL;
        }
        message = base64_encode(parts->attest, parts->attest_size);
        signature = base64_encode(parts->signature, parts->signature_size);
        pcrs = base64_encode(parts->pcrblob, parts->pcrblob_size);
        free(parts);
        data = json_object_new_object();
        if (!message || !signature || !pcrs || !data) {
                json_object_put(data);
                *ret = -ENOMEM;
                return NULL;
        }
        json_object_object_add(data, "message", json_object_new_string(message));
        json_object_object_add(data, "signature", json_object_new_string(signature));
        json_object_object_add(data, "subject_data", json_object_new_string(pcrs));
        return evidence_item("certification", "tpm_quote", data);
}

static json_object *uefi_evidence(struct agent_api *api, int *ret) {
        _cleanup_(freep) char *event_log = NULL;
        json_object *data;

        *ret = agent_api_event_log(api, &event_log);
        if (*ret < 0)
                return NULL;
        data = json_object_new_object();
        if (data)
                json_object_object_add(data, "entries", json_object_new_string(event_log ? event_log : ""));
        return evidence_item("log", "uefi_log", data);
}

/* the entries from the one asked for, at most entry_count of them; the verifier counts the
 * entries by their newlines */
static json_object *ima_evidence(struct agent_api *api, const struct push_evidence_item *asked, int *ret) {
        _cleanup_(freep) char *list = NULL;
        size_t size = 0, lines = 0, keep;
        uint64_t start = 0;
        json_object *data;

        *ret = ima_source_read(&api->ima, asked->starting_offset, &list, &size, &start);
        if (*ret == -ENOENT)
                *ret = 0; /* the list went away: none to give */
        if (*ret < 0)
                return NULL;
        if (start != asked->starting_offset)
                log_warning("push: the IMA list restarted: giving it from entry 0, not %llu",
                            (unsigned long long)asked->starting_offset);
        for (keep = 0; keep < size; keep++) {
                if (asked->entry_count_limited && lines == asked->entry_count)
                        break;
                lines += list[keep] == '\n';
        }
        data = json_object_new_object();
        if (data) {
                json_object_object_add(data, "entries", json_object_new_string_len(list ? list : "", (int)keep));
                json_object_object_add(data, "entry_count", json_object_new_int64((int64_t)lines));
        }
        return evidence_item("log", "ima_log", data);
}

int push_evidence_body(struct agent_api *api, const struct push_evidence_request *request, char **text) {
        json_object *attrs = json_object_new_object(), *collected = json_object_new_array(), *item = NULL;
        json_object *items[PUSH_EVIDENCE_MAX] = { 0 };
        int ret = attrs && collected ? 0 : -ENOMEM;

        if (ret < 0) {
                json_object_put(attrs);
                json_object_put(collected);
                return ret;
        }
        json_object_object_add(attrs, "evidence_collected", collected);
        /* the quote first, whatever the order: the lists read after it may hold more than it
         * covers, never less (docs/protocol.md §2.2) */
        for (size_t pass = 0; pass < 2 && ret >= 0; pass++)
                for (size_t i = 0; i < request->count && ret >= 0; i++) {
                        const struct push_evidence_item *asked = &request->items[i];

                        if ((asked->type == PUSH_TPM_QUOTE) != (pass == 0))
                                continue;
                        item = asked->type == PUSH_TPM_QUOTE ? quote_evidence(api, asked, &ret)
                               : asked->type == PUSH_UEFI_LOG ? uefi_evidence(api, &ret)
                                                              : ima_evidence(api, asked, &ret);
                        if (ret >= 0 && !item)
                                ret = -ENOMEM;
                        items[i] = item;
                }
        for (size_t i = 0; i < request->count; i++) {
                if (ret >= 0)
                        json_object_array_add(collected, items[i]);
                else
                        json_object_put(items[i]);
        }
        if (ret >= 0)
                ret = push_release_offer(api, attrs); /* a vmattest extension (docs/protocol.md §4.3) */
        if (ret < 0) {
                json_object_put(attrs);
                return ret;
        }
        return document_text("attestation", NULL, attrs, text);
}
