#include "agent/api.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "agent/pcr.h"
#include "agent/quote.h"
#include "agent/quote_query.h"
#include "agent/revocation.h"
#include "agent/tsm_evidence.h"
#include "lib/cleanup.h"
#include "lib/display.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/http_server.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/measurement_log.h"
#include "lib/tpm2b.h"

#define FIRMWARE_LOG_MAX (4u << 20)
#define IMA_PCR 10
#define PAYLOAD_PCR 16
#define REVOCATION_LOGGED_MAX 640 /* bytes of a notification's message in its log line */

/* Revocation notifications (docs/protocol.md §2.8): the key that signs them and the agent's own
 * actions, said once at start. Neither a certificate that cannot be loaded nor an action that
 * would not run stops the agent (in the initrd it stands between the machine and its disk key):
 * each is a warning, repeated for every notification it concerns. */
static void revocation_setup(struct agent_api *api) {
        const struct agent_config *config = api->config;
        int ret;

        revocation_actions_init(&api->revocation_actions, config);
        if (!config->revocation_cert[0]) {
                snprintf(api->revocation_unusable, sizeof(api->revocation_unusable), "no revocation_cert configured");
                return;
        }
        ret = revocation_cert_load(config->revocation_cert, &api->revocation_key);
        if (ret < 0) {
                snprintf(api->revocation_unusable, sizeof(api->revocation_unusable), "%s", vm_error_detail(ret));
                log_warning("%s: revocation notifications will be ignored", api->revocation_unusable);
                return;
        }
        log_info("revocation notifications: signatures checked with %s; actions: %s", config->revocation_cert,
                 revocation_actions_configured(&api->revocation_actions) ? config->revocation_actions
                                                                           : "none (each notification is logged)");
        if (revocation_actions_configured(&api->revocation_actions) &&
            (ret = revocation_actions_check(&api->revocation_actions)) < 0)
                log_warning("%s: that action and those after it will not run", vm_error_detail(ret));
}

int agent_api_init(struct agent_api *api, const struct agent_config *config, struct agent_identity *id,
                   struct payload_key *payload) {
        int ret;

        memset(api, 0, sizeof(*api));
        api->config = config;
        api->id = id;
        api->payload = payload;
        ima_source_init(&api->ima, config->ima_ml_path);
        key_release_init(&api->keys, payload, id->agent_id);
        revocation_setup(api);
        ret = host_binding_evidence_start(&api->host_binding, config, id->tpm, &id->ek->public);
        if (ret < 0)
                return ret;
        return pcr_value_after_one_extend(config->tpm_hash_alg, payload->public_pem, strlen(payload->public_pem),
                                          api->pcr16);
}

void agent_api_done(struct agent_api *api) {
        ima_source_done(&api->ima);
        key_release_done(&api->keys);
        revocation_actions_done(&api->revocation_actions);
        EVP_PKEY_free(api->revocation_key);
        api->revocation_key = NULL;
}

/* docs/protocol.md §2: enc_alg names the EK's algorithm, with its size from API 2.5 on */
static const char *enc_alg_name(const struct agent_api *api, unsigned minor) {
        const TPMT_PUBLIC *ek = &api->id->ek->public.publicArea;

        if (ek->type == TPM2_ALG_RSA)
                return minor >= 5 ? "rsa2048" : "rsa";
        if (minor < 5)
                return "ecc";
        return ek->parameters.eccDetail.curveID == TPM2_ECC_NIST_P384 ? "ecc384" : "ecc256";
}

/* Quotes `mask` plus PCR 16 (docs/protocol.md §2: the verifier's mask never has it). If PCR 16 no longer
 * holds the payload key's binding (someone reset or extended it), the key is bound again and
 * the quote retaken once. */
int agent_api_quote(struct agent_api *api, const uint8_t *nonce, size_t nonce_size, uint32_t mask,
                    struct quote_parts *parts) {
        struct quote_request req = {
                .nonce = nonce,
                .nonce_size = nonce_size,
                .bank = api->config->tpm_hash_alg,
                .mask = mask | 1u << PAYLOAD_PCR,
        };
        size_t size = hashalg_size(req.bank);
        struct pcr_values pcrs;
        int ret;

        for (int attempt = 0; attempt < 2; attempt++) {
                ret = quote_take(api->id->tpm, &api->id->ak, &req, parts, &pcrs);
                if (ret < 0)
                        return ret;
                if (pcrs.value[PAYLOAD_PCR].size == size && memcmp(pcrs.value[PAYLOAD_PCR].buffer, api->pcr16, size) == 0)
                        return 0;
                log_warning("PCR 16 no longer holds the payload key's binding: binding it again");
                /* a TPM reset takes a TPM-resident key with it: the binding is then a new key's */
                ret = payload_key_renew_if_gone(api->payload, &api->id->ak);
                if (ret > 0)
                        ret = pcr_value_after_one_extend(req.bank, api->payload->public_pem,
                                                         strlen(api->payload->public_pem), api->pcr16);
                if (ret >= 0)
                        ret = payload_key_bind(api->id->tpm, api->payload, req.bank);
                if (ret < 0)
                        return ret;
        }
        return vm_error(-EIO, "PCR 16 does not keep the payload key's binding");
}

/* docs/protocol.md §5.10: the AK's TPM2_Certify of the payload key, and the key's public area
 * (the verifier computes the certified Name from it). */
static int pubkey_certify(const struct payload_key *pk, json_object *results) {
        _cleanup_(freep) char *attest = base64_encode(pk->certify_attest, pk->certify_attest_size);
        _cleanup_(freep) char *signature = base64_encode(pk->certify_signature, pk->certify_signature_size);
        _cleanup_(freep) char *public = tpm2b_public_base64(&pk->in_tpm.public);
        json_object *certify;

        if (!attest || !signature || !public || !(certify = json_object_new_object()))
                return -ENOMEM;
        json_object_object_add(certify, "attest", json_object_new_string(attest));
        json_object_object_add(certify, "signature", json_object_new_string(signature));
        json_object_object_add(certify, "public", json_object_new_string(public));
        json_object_object_add(results, "pubkey_certify", certify);
        return 0;
}

static json_object *quote_results(struct agent_api *api, unsigned minor, const struct quote_parts *parts, bool with_pubkey) {
        json_object *results = json_object_new_object();
        char *quote = NULL;

        if (quote_string_encode(parts, &quote) < 0) {
                json_object_put(results);
                return NULL;
        }
        json_object_object_add(results, "quote", json_object_new_string(quote));
        json_object_object_add(results, "hash_alg", json_object_new_string(hashalg_name(api->config->tpm_hash_alg)));
        json_object_object_add(results, "enc_alg", json_object_new_string(enc_alg_name(api, minor)));
        json_object_object_add(results, "sign_alg", json_object_new_string(ak_sign_alg_name(&api->id->ak)));
        if (with_pubkey)
                json_object_object_add(results, "pubkey", json_object_new_string(api->payload->public_pem));
        if (with_pubkey && payload_key_in_tpm(api->payload) && pubkey_certify(api->payload, results) < 0) {
                json_object_put(results);
                results = NULL;
        }
        free(quote);
        return results;
}

/* Our records carry a digest for each bank the TPM had active; a firmware log that declares
 * other banks makes the joined log malformed, which verifiers refuse: say why, here. */
static void warn_banks_differ(struct agent_api *api, const uint8_t *firmware, size_t size, const TPM2_ALG_ID *banks,
                              size_t nbanks) {
        struct eventlog_spec_id spec;
        bool same;

        if (api->banks_warned || eventlog_spec_id(firmware, size, &spec) < 0)
                return;
        same = spec.algorithm_count == nbanks; /* as sets: each event may list its digests in any order */
        for (size_t i = 0; same && i < nbanks; i++) {
                same = false;
                for (uint32_t j = 0; j < spec.algorithm_count; j++)
                        same = same || spec.algorithms[j].alg == banks[i];
        }
        if (same)
                return;
        api->banks_warned = true;
        log_error("%s declares %u banks and %s %zu: verifiers will refuse the event log served (mb_measurement_list)",
                  api->config->measuredboot_ml_path, spec.algorithm_count, api->config->vmattest_ml_path, nbanks);
}

/* docs/protocol.md §8: mb_measurement_list is the firmware's event log followed by the PCR 15
 * records of our own log (their Spec ID event dropped), so that one log replays every PCR; our
 * log alone when the firmware left none (a TPM without firmware, such as a test's swtpm). */
int agent_api_event_log(struct agent_api *api, char **base64) {
        _cleanup_(freep) char *firmware = NULL, *own = NULL, *b64 = NULL;
        _cleanup_(freep) uint8_t *joined = NULL;
        TPM2_ALG_ID banks[EVENTLOG_MAX_ALGORITHMS];
        size_t firmware_size = 0, own_size = 0, nbanks, records = 0;
        int ret;

        ret = file_read_all(api->config->measuredboot_ml_path, FIRMWARE_LOG_MAX, &firmware, &firmware_size);
        if (ret < 0 && ret != -ENOENT)
                return ret;
        if (api->config->pcr15_in_event_log) {
                ret = file_read_all(api->config->vmattest_ml_path, MEASUREMENT_LOG_MAX, &own, &own_size);
                if (ret < 0 && ret != -ENOENT)
                        return ret;
        }
        if (own_size > 0 && firmware_size > 0) {
                ret = measurement_log_banks((const uint8_t *)own, own_size, banks, EVENTLOG_MAX_ALGORITHMS, &nbanks,
                                            &records);
                if (ret < 0)
                        return vm_error(ret, "%s: %s", api->config->vmattest_ml_path, vm_error_detail(ret));
                warn_banks_differ(api, (const uint8_t *)firmware, firmware_size, banks, nbanks);
        }
        *base64 = NULL;
        if (firmware_size == 0 && own_size == 0)
                return 0;
        if (firmware_size == 0 || own_size == 0)
                b64 = firmware_size ? base64_encode(firmware, firmware_size) : base64_encode(own, own_size);
        else {
                joined = malloc(firmware_size + own_size - records);
                if (!joined)
                        return -ENOMEM;
                memcpy(joined, firmware, firmware_size);
                memcpy(joined + firmware_size, own + records, own_size - records);
                b64 = base64_encode(joined, firmware_size + own_size - records);
        }
        if (!b64)
                return -ENOMEM;
        *base64 = TAKE_PTR(b64);
        return 0;
}

static int add_event_log(struct agent_api *api, json_object *results) {
        _cleanup_(freep) char *b64 = NULL;
        int ret = agent_api_event_log(api, &b64);

        if (ret >= 0 && b64)
                json_object_object_add(results, "mb_measurement_list", json_object_new_string(b64));
        return ret;
}

/* The measurement lists asked for alongside an integrity quote. */
static int add_measurement_lists(struct agent_api *api, json_object *results, uint32_t mask, uint64_t ima_entry) {
        char *data = NULL;
        size_t size;
        uint64_t start;
        int ret;

        if (mask & (1u << IMA_PCR)) {
                ret = ima_source_read(&api->ima, ima_entry, &data, &size, &start);
                if (ret == -ENOENT)
                        log_debug("%s does not exist: no IMA list to serve", api->config->ima_ml_path);
                else if (ret < 0)
                        return ret;
                else {
                        json_object_object_add(results, "ima_measurement_list", json_object_new_string_len(data, (int)size));
                        json_object_object_add(results, "ima_measurement_list_entry", json_object_new_int64((int64_t)start));
                        free(data);
                }
        }
        if (mask & (1u | 1u << MEASUREMENT_PCR)) {
                ret = add_event_log(api, results);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

long agent_boot_time(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/stat", "re");
        char line[256];
        long btime = 0;

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "btime %ld", &btime) == 1)
                        break;
        return btime;
}

/* The hardware report for this request's nonce (docs/protocol.md §5): none to serve is no
 * error unless platform_report is required; a report that failed is, so that the verifier
 * never gets this quote without it. */
static int add_platform_evidence(struct agent_api *api, json_object *results, const char *nonce) {
        json_object *evidence;
        TPM2B_NAME ek_name;
        int ret;

        if (!tsm_evidence_wanted(api->config, api->id->tpm))
                return 0;
        if ((ret = tpm2b_public_name(&api->id->ek->public, &ek_name)) < 0)
                return vm_error(ret, "platform report: the EK's Name: %s", vm_error_detail(ret));
        ret = tsm_evidence_take(api->config, api->id->tpm, (const uint8_t *)nonce, strlen(nonce), &api->id->ak.name,
                                &ek_name, &evidence);
        if (ret >= 0 && evidence)
                json_object_object_add(results, "platform_evidence", evidence);
        return ret;
}

static int handle_quote(struct agent_api *api, struct evhttp_request *req, unsigned minor, bool integrity,
                        struct evkeyvalq *query) {
        struct quote_query asked;
        struct quote_parts parts;
        json_object *results;
        int ret;

        ret = quote_query_parse(query, integrity, &asked);
        if (ret < 0) {
                http_reply_error(req, 400, "%s", vm_error_detail(ret));
                return 400;
        }

        ret = agent_api_quote(api, (const uint8_t *)asked.nonce, strlen(asked.nonce), asked.mask, &parts);
        results = ret >= 0 ? quote_results(api, minor, &parts, asked.with_pubkey) : NULL;
        if (ret >= 0 && !results)
                ret = -ENOMEM;
        /* the lists are read after the quote: they may hold more than it covers, never less */
        if (ret >= 0 && integrity) {
                ret = add_measurement_lists(api, results, asked.mask, asked.ima_entry);
                json_object_object_add(results, "boottime", json_object_new_int64(agent_boot_time()));
        }
        if (ret >= 0 && integrity) {
                ret = add_platform_evidence(api, results, asked.nonce);
                if (ret >= 0)
                        ret = host_binding_evidence_add(&api->host_binding, api->id->tpm, asked.nonce, results);
                if (ret < 0) {
                        json_object_put(results);
                        log_error("quote refused: %s", vm_error_detail(ret));
                        http_reply_error(req, 503, "quote refused: %s", vm_error_detail(ret));
                        return 503;
                }
        }
        if (ret < 0) {
                json_object_put(results);
                log_error("quote failed: %s", vm_error_detail(ret));
                http_reply_error(req, 500, "quote failed: %s", vm_error_detail(ret));
                return 500;
        }
        http_reply(req, 200, "Success", results);
        return 200;
}

static int handle_version(struct evhttp_request *req) {
        json_object *results = json_object_new_object(), *versions = json_object_new_array();
        char version[8];

        for (int minor = AGENT_API_MIN_MINOR; minor <= AGENT_API_MAX_MINOR; minor++) {
                snprintf(version, sizeof(version), "2.%d", minor);
                json_object_array_add(versions, json_object_new_string(version));
        }
        json_object_object_add(results, "supported_version", json_object_new_string(version));
        json_object_object_add(results, "supported_versions", versions);
        http_reply(req, 200, "Success", results);
        return 200;
}

static int handle_info(struct agent_api *api, struct evhttp_request *req, unsigned minor) {
        json_object *results = json_object_new_object();

        json_object_object_add(results, "agent_uuid", json_object_new_string(api->id->agent_id));
        json_object_object_add(results, "tpm_hash_alg", json_object_new_string(hashalg_name(api->config->tpm_hash_alg)));
        json_object_object_add(results, "tpm_enc_alg", json_object_new_string(enc_alg_name(api, minor)));
        json_object_object_add(results, "tpm_sign_alg", json_object_new_string(ak_sign_alg_name(&api->id->ak)));
        json_object_object_add(results, "ak_handle", json_object_new_int64(api->id->ak.persistent));
        http_reply(req, 200, "Success", results);
        return 200;
}

/* POST /keys/ukey and /keys/vkey (docs/protocol.md §3). The reasons given never describe a
 * secret. */
static int handle_key_half(struct agent_api *api, struct evhttp_request *req, bool is_u) {
        json_object *body = http_request_json(req);
        const char *encrypted_key, *auth_tag = NULL, *payload = NULL;
        int ret;

        if (!body)
                return 400;
        ret = json_member_string(body, "encrypted_key", 1024, false, &encrypted_key);
        if (ret >= 0 && is_u)
                ret = json_member_string(body, "auth_tag", 256, false, &auth_tag);
        if (ret >= 0 && is_u)
                ret = json_member_string(body, "payload", 1u << 21, true, &payload);
        if (ret >= 0)
                ret = is_u ? key_release_ukey(&api->keys, encrypted_key, auth_tag, payload)
                           : key_release_vkey(&api->keys, encrypted_key);
        json_object_put(body);
        if (ret < 0) {
                http_reply_error(req, ret == -ENOMEM ? 500 : 400, "%s", vm_error_detail(ret));
                return ret == -ENOMEM ? 500 : 400;
        }
        http_reply(req, 200, "Success", NULL);
        if (!api->key_released_told && key_release_complete(&api->keys)) {
                api->key_released_told = true;
                if (api->on_key_released)
                        api->on_key_released(api->release_user);
        }
        return 200;
}

static int handle_key_verify(struct agent_api *api, struct evhttp_request *req, struct evkeyvalq *query) {
        char hmac[97];
        json_object *results;
        int ret = key_release_verify(&api->keys, evhttp_find_header(query, "challenge"), hmac);

        if (ret < 0) {
                http_reply_error(req, 400, "%s", vm_error_detail(ret));
                return 400;
        }
        results = json_object_new_object();
        json_object_object_add(results, "hmac", json_object_new_string(hmac));
        http_reply(req, 200, "Success", results);
        api->keys_verified = true;
        if (api->on_key_verified)
                api->on_key_verified(api->release_user);
        return 200;
}

/* POST /notifications/revocation (docs/protocol.md §2.8): a verifier says an agent failed. The
 * message is logged once its signature verified under revocation_cert, and handed to the
 * agent's own actions; nothing in it is run. Without a usable certificate the notification is
 * ignored with 200, as rust-keylime does (its worker drops it with a warning). */
static int handle_revocation(struct agent_api *api, struct evhttp_request *req) {
        struct evbuffer *input = evhttp_request_get_input_buffer(req);
        struct event_base *base = evhttp_connection_get_base(evhttp_request_get_connection(req));
        size_t size = evbuffer_get_length(input);
        /* a body over the bound is refused on its size alone, not gathered first */
        const char *body = size <= REVOCATION_BODY_MAX ? (const char *)evbuffer_pullup(input, (ssize_t)size) : NULL;
        struct revocation_message m;
        char shown[4 * REVOCATION_LOGGED_MAX + 1];
        int ret;

        ret = revocation_message_parse(body, size, &m);
        if (ret >= 0 && !api->revocation_key) {
                revocation_message_done(&m);
                log_warning("revocation notification ignored: %s to check its signature", api->revocation_unusable);
                http_reply(req, 200, "revocation notification ignored: no usable revocation_cert", NULL);
                return 200;
        }
        if (ret >= 0)
                ret = revocation_message_verify(&m, api->revocation_key);
        if (ret < 0) {
                revocation_message_done(&m);
                log_warning("revocation notification refused, nothing run: %s", vm_error_detail(ret));
                http_reply_error(req, ret == -ENOMEM ? 500 : 400, "revocation notification refused: %s",
                                 vm_error_detail(ret));
                return ret == -ENOMEM ? 500 : 400;
        }
        /* the verifier's words, signed but still a peer's bytes: escaped, and cut to a log line */
        display_escape(m.msg, m.msg_size < REVOCATION_LOGGED_MAX ? m.msg_size : REVOCATION_LOGGED_MAX, shown,
                       sizeof(shown));
        log_info("revocation notification, signature verified with %s (%zu bytes): %s%s", api->config->revocation_cert,
                 m.msg_size, shown, m.msg_size > REVOCATION_LOGGED_MAX ? " ..." : "");
        ret = revocation_actions_submit(&api->revocation_actions, base, m.msg, m.msg_size);
        revocation_message_done(&m);
        if (ret < 0) {
                log_error("revocation actions not run: %s", vm_error_detail(ret));
                http_reply_error(req, ret == -EBUSY ? 503 : 500, "revocation actions not run: %s", vm_error_detail(ret));
                return ret == -EBUSY ? 503 : 500;
        }
        http_reply(req, 200, "Success", NULL);
        return 200;
}

/* "/vN.M" followed by "/" or the end: *version_len is the length of "N.M", *rest what follows
 * the "/". False for a path that names no version. */
static bool api_version_parse(const char *path, size_t *version_len, const char **rest) {
        size_t major, minor;

        if (strncmp(path, "/v", 2) != 0)
                return false;
        major = strspn(path + 2, "0123456789");
        if (major == 0 || path[2 + major] != '.')
                return false;
        minor = strspn(path + 3 + major, "0123456789");
        if (minor == 0 || (path[3 + major + minor] != '/' && path[3 + major + minor] != '\0'))
                return false;
        *version_len = major + 1 + minor;
        *rest = path + 3 + major + minor + (path[3 + major + minor] == '/');
        return true;
}

/* N of a version "2.N" this agent serves (docs/protocol.md §2.2), or 0. */
static unsigned served_minor(const char *version, size_t len) {
        if (len != 3 || version[0] != '2' || version[2] < '0' + AGENT_API_MIN_MINOR || version[2] > '0' + AGENT_API_MAX_MINOR)
                return 0;
        return (unsigned)(version[2] - '0');
}

static int route(struct agent_api *api, struct evhttp_request *req, const char *path, struct evkeyvalq *query) {
        enum evhttp_cmd_type method = evhttp_request_get_command(req);
        unsigned minor;
        size_t version_len;
        const char *rest;

        if (strcmp(path, "/version") == 0)
                return method == EVHTTP_REQ_GET ? handle_version(req) : (http_reply_error(req, 405, "method not allowed"), 405);
        if (!api_version_parse(path, &version_len, &rest)) {
                http_reply_error(req, 404, "not found (API v2.%d-2.%d)", AGENT_API_MIN_MINOR, AGENT_API_MAX_MINOR);
                return 404;
        }
        minor = served_minor(path + 2, version_len);
        if (!minor) {
                /* Keylime's verifier asks /version and retries on this status only: a 400 whose
                 * JSON status holds "API version not supported" (cloud_verifier_tornado.py) */
                http_reply_error(req, 400, "API version not supported: v%.*s (this agent serves v2.%d-2.%d)",
                                 (int)(version_len < 32 ? version_len : 32), path + 2, AGENT_API_MIN_MINOR,
                                 AGENT_API_MAX_MINOR);
                return 400;
        }
        if (!path[2 + version_len]) { /* "/v2.N" alone */
                http_reply_error(req, 404, "not found: %.100s", path);
                return 404;
        }
        if (strcmp(rest, "notifications/revocation") == 0) {
                if (method == EVHTTP_REQ_POST)
                        return handle_revocation(api, req);
                http_reply_error(req, 405, "method not allowed: POST only");
                return 405;
        }
        if (!api->accept_keys && api->released_in_initrd && method == EVHTTP_REQ_POST && strcmp(rest, "keys/vkey") == 0) {
                /* Keylime's verifier sends V again whenever the first poll after its V had to be
                 * retried (its provide_V flag is cleared only by a partial quote), here across
                 * the switch-root; refusing would fail the agent. The body is not read: nothing
                 * of it is kept or used. */
                log_info("keys/vkey: V ignored: this boot's key was released in the initrd");
                http_reply(req, 200, "Success", NULL);
                return 200;
        }
        if (!api->accept_keys && (strcmp(rest, "keys/ukey") == 0 || strcmp(rest, "keys/vkey") == 0 ||
                                  strcmp(rest, "keys/verify") == 0)) {
                http_reply_error(req, 403, "key release refused: this agent takes keys in the initrd only "
                                           "(runtime_release is off)");
                return 403;
        }
        if (method == EVHTTP_REQ_POST && (strcmp(rest, "keys/ukey") == 0 || strcmp(rest, "keys/vkey") == 0))
                return handle_key_half(api, req, strcmp(rest, "keys/ukey") == 0);
        if (method != EVHTTP_REQ_GET) {
                http_reply_error(req, 405, "method not allowed");
                return 405;
        }
        if (strcmp(rest, "keys/verify") == 0)
                return handle_key_verify(api, req, query);
        if (strcmp(rest, "agent/info") == 0)
                return handle_info(api, req, minor);
        if (strcmp(rest, "keys/pubkey") == 0) {
                json_object *results = json_object_new_object();

                json_object_object_add(results, "pubkey", json_object_new_string(api->payload->public_pem));
                http_reply(req, 200, "Success", results);
                return 200;
        }
        if (strcmp(rest, "quotes/identity") == 0)
                return handle_quote(api, req, minor, false, query);
        if (strcmp(rest, "quotes/integrity") == 0)
                return handle_quote(api, req, minor, true, query);
        http_reply_error(req, 404, "not found: %.100s", path);
        return 404;
}

void agent_api_handle(struct evhttp_request *req, void *user) {
        struct agent_api *api = user;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        const char *query_text = uri ? evhttp_uri_get_query(uri) : NULL;
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct evkeyvalq query = { 0 };
        uint64_t start = tpm_clock_ns();
        const char *peer = "?";
        ev_uint16_t peer_port = 0;
        int status;

        vm_error_clear(); /* a request's errors are its own */
        api->requests++;
        TAILQ_INIT(&query);
        if (conn)
                evhttp_connection_get_peer(conn, (char **)&peer, &peer_port);
        if (!path || (query_text && evhttp_parse_query_str(query_text, &query) < 0)) {
                http_reply_error(req, 400, "malformed request URI");
                status = 400;
        } else
                status = route(api, req, path, &query);
        evhttp_clear_headers(&query);
        log_info("%s:%u %s -> %d (%.1f ms)", peer, peer_port, path ? path : "?", status,
                 (double)(tpm_clock_ns() - start) / 1e6);
}
