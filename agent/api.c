#include "agent/api.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "agent/pcr.h"
#include "agent/quote.h"
#include "agent/quote_query.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/http_server.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/measurement_log.h"

#define FIRMWARE_LOG_MAX (4u << 20)
#define IMA_PCR 10
#define PAYLOAD_PCR 16

int agent_api_init(struct agent_api *api, const struct agent_config *config, struct agent_identity *id,
                   struct payload_key *payload) {
        memset(api, 0, sizeof(*api));
        api->config = config;
        api->id = id;
        api->payload = payload;
        ima_source_init(&api->ima, config->ima_ml_path);
        key_release_init(&api->keys, payload, id->agent_id);
        return pcr_value_after_one_extend(config->tpm_hash_alg, payload->public_pem, strlen(payload->public_pem),
                                          api->pcr16);
}

void agent_api_done(struct agent_api *api) {
        ima_source_done(&api->ima);
        key_release_done(&api->keys);
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
static int api_quote(struct agent_api *api, const char *nonce, uint32_t mask, struct quote_parts *parts) {
        struct quote_request req = {
                .nonce = (const uint8_t *)nonce,
                .nonce_size = strlen(nonce),
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
                ret = payload_key_bind(api->id->tpm, api->payload, req.bank);
                if (ret < 0)
                        return ret;
        }
        return vm_error(-EIO, "PCR 16 does not keep the payload key's binding");
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
        json_object_object_add(results, "sign_alg", json_object_new_string("rsassa"));
        if (with_pubkey)
                json_object_object_add(results, "pubkey", json_object_new_string(api->payload->public_pem));
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
        log_error("%s declares %u banks, %s %zu: verifiers will refuse the joined event log", api->config->measuredboot_ml_path,
                  spec.algorithm_count, api->config->vmattest_ml_path, nbanks);
}

/* docs/protocol.md §8: mb_measurement_list is the firmware's event log followed by the PCR 15
 * records of our own log (their Spec ID event dropped), so that one log replays every PCR; our
 * log alone when the firmware left none (a TPM without firmware, such as a test's swtpm). */
static int add_event_log(struct agent_api *api, json_object *results) {
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
        if (firmware_size + own_size == 0)
                return 0;
        joined = malloc(firmware_size + own_size - records);
        if (!joined)
                return -ENOMEM;
        memcpy(joined, firmware_size ? firmware : own, firmware_size ? firmware_size : own_size);
        if (firmware_size)
                memcpy(joined + firmware_size, own + records, own_size - records);
        b64 = base64_encode(joined, firmware_size + own_size - records);
        if (!b64)
                return -ENOMEM;
        json_object_object_add(results, "mb_measurement_list", json_object_new_string(b64));
        return 0;
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

static long boot_time(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/stat", "re");
        char line[256];
        long btime = 0;

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "btime %ld", &btime) == 1)
                        break;
        return btime;
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

        ret = api_quote(api, asked.nonce, asked.mask, &parts);
        results = ret >= 0 ? quote_results(api, minor, &parts, asked.with_pubkey) : NULL;
        if (ret >= 0 && !results)
                ret = -ENOMEM;
        /* the lists are read after the quote: they may hold more than it covers, never less */
        if (ret >= 0 && integrity) {
                ret = add_measurement_lists(api, results, asked.mask, asked.ima_entry);
                json_object_object_add(results, "boottime", json_object_new_int64(boot_time()));
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
        json_object_object_add(results, "tpm_sign_alg", json_object_new_string("rsassa"));
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

static int route(struct agent_api *api, struct evhttp_request *req, const char *path, struct evkeyvalq *query) {
        enum evhttp_cmd_type method = evhttp_request_get_command(req);
        unsigned minor;
        int consumed = 0;
        const char *rest;

        if (strcmp(path, "/version") == 0)
                return method == EVHTTP_REQ_GET ? handle_version(req) : (http_reply_error(req, 405, "method not allowed"), 405);
        if (sscanf(path, "/v2.%u/%n", &minor, &consumed) != 1 || consumed == 0 || minor < AGENT_API_MIN_MINOR ||
            minor > AGENT_API_MAX_MINOR) {
                http_reply_error(req, 404, "not found (API v2.%d-2.%d)", AGENT_API_MIN_MINOR, AGENT_API_MAX_MINOR);
                return 404;
        }
        rest = path + consumed;
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
