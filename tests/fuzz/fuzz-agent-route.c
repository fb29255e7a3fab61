/* Fuzzes the agent API's routes (agent/api.c: agent_api_handle) with whole requests, served
 * by the real listener over loopback (tests/fuzz/http_exchange.h). The agent has a real payload
 * key and no TPM: a quote that gets past its query fails (500), which is how a quote route is
 * told from the rest. The first input byte says whether key release is on (runtime_release);
 * then up to 4 requests, each a method (byte), a request target and a body (strings).
 * Invariants: every request the handler sees gets exactly one reply (none: the client waits; two:
 * ASan), a Keylime envelope whose code is the status; and the status is the one docs/protocol.md §2 gives
 * the route: /version and /v2.1-2.6 only, 400 "API version not supported" for any other /vN.M,
 * GET only but for POST /keys/ukey, /keys/vkey and /notifications/revocation, no key route at all
 * without key release, 400 for a quote query quote_query_parse refuses, for key halves nobody
 * wrapped to the payload key and for a notification body revocation_message_parse refuses (200,
 * ignored, for one it takes: this agent has no revocation_cert), the payload key as served and
 * bound. */
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "agent/api.h"
#include "agent/quote_query.h"
#include "agent/revocation.h"
#include "lib/cleanup.h"
#include "lib/http_response.h"
#include "lib/log.h"
#include "tests/fuzz/http_exchange.h"
#include "tests/fuzz/input.h"

#define AGENT_ID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define REQUESTS_MAX 4

static struct agent_config config;
static struct tpm no_tpm; /* no ESYS context: nothing reaches a TPM */
static struct ek ek;
static struct agent_identity id;
static struct payload_key payload_key;
static struct agent_api api;
static struct http_exchange x;

static const enum evhttp_cmd_type methods[] = { EVHTTP_REQ_GET,    EVHTTP_REQ_POST,  EVHTTP_REQ_PUT,
                                                EVHTTP_REQ_DELETE, EVHTTP_REQ_PATCH, EVHTTP_REQ_HEAD };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        EVP_PKEY *key = EVP_RSA_gen(2048);

        log_setup("fuzz-agent-route", LOG_LEVEL_SILENT);
        agent_config_defaults(&config);
        strcpy(config.ima_ml_path, "/nonexistent/ima");
        strcpy(config.measuredboot_ml_path, "/nonexistent/eventlog");
        strcpy(config.vmattest_ml_path, "/nonexistent/measurements.log");
        ek.public.publicArea.type = TPM2_ALG_RSA;
        id.tpm = &no_tpm;
        id.ek = &ek;
        id.ak.persistent = AK_DEFAULT_HANDLE; /* its public area is empty: quote_take refuses it */
        strcpy(id.agent_id, AGENT_ID);
        if (!key || payload_key_adopt(&payload_key, key) < 0 || agent_api_init(&api, &config, &id, &payload_key) < 0)
                abort();
        http_exchange_start(&x, agent_api_handle, &api);
        return 0;
}

/* Whether `path` names an API version: "/v" digits "." digits, then "/" or nothing; `version`
 * gets "N.M" (cut to its size), `rest` what follows the "/". */
static bool versioned(const char *path, char *version, size_t size, const char **rest) {
        const char *end = path + 2;
        bool dot = false;

        if (strncmp(path, "/v", 2) != 0)
                return false;
        for (;; end++) {
                if (*end == '.' && !dot && end > path + 2 && end[-1] != 'v')
                        dot = true;
                else if (*end < '0' || *end > '9')
                        break;
        }
        if (!dot || end[-1] == '.' || (*end && *end != '/'))
                return false;
        snprintf(version, size, "%.*s", (int)(end - path - 2), path + 2);
        *rest = *end ? end + 1 : end;
        return true;
}

/* What agent/api.c's route() must answer, from the method, the URI as evhttp parses it and the body. */
static int expected_status(enum evhttp_cmd_type method, const char *target, const char *body, bool *version_refused) {
        static const char *const served[] = { "2.1", "2.2", "2.3", "2.4", "2.5", "2.6" };
        struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *query_text = uri ? evhttp_uri_get_query(uri) : NULL;
        struct evkeyvalq query;
        struct quote_query asked;
        struct revocation_message notification;
        char version[64];
        bool known = false;
        int status;
        const char *rest;
        bool keys;

        TAILQ_INIT(&query);
        *version_refused = false;
        if (path && versioned(path, version, sizeof(version), &rest))
                for (size_t i = 0; i < ELEMENTSOF(served); i++)
                        known |= strcmp(version, served[i]) == 0;
        if (!path || (query_text && evhttp_parse_query_str(query_text, &query) < 0))
                status = 400;
        else if (strcmp(path, "/version") == 0)
                status = method == EVHTTP_REQ_GET ? 200 : 405;
        else if (!versioned(path, version, sizeof(version), &rest))
                status = 404;
        else if (!known)
                status = 400, *version_refused = true;
        else if (!*rest && path[strlen(path) - 1] != '/')
                status = 404; /* "/v2.N" alone */
        else if (strcmp(rest, "notifications/revocation") == 0) {
                if (method != EVHTTP_REQ_POST)
                        status = 405;
                else if (revocation_message_parse(body, strlen(body), &notification) < 0)
                        status = 400;
                else {
                        revocation_message_done(&notification);
                        status = 200; /* ignored: no revocation_cert */
                }
        } else {
                keys = strcmp(rest, "keys/ukey") == 0 || strcmp(rest, "keys/vkey") == 0 || strcmp(rest, "keys/verify") == 0;
                if (keys && !api.accept_keys)
                        status = 403;
                else if (method == EVHTTP_REQ_POST && keys && strcmp(rest, "keys/verify") != 0)
                        status = 400; /* no half here is wrapped to the payload key */
                else if (method != EVHTTP_REQ_GET)
                        status = 405;
                else if (strcmp(rest, "keys/verify") == 0)
                        status = 400; /* K is never known */
                else if (strcmp(rest, "agent/info") == 0 || strcmp(rest, "keys/pubkey") == 0)
                        status = 200;
                else if (strcmp(rest, "quotes/identity") == 0 || strcmp(rest, "quotes/integrity") == 0)
                        status = quote_query_parse(&query, strcmp(rest, "quotes/integrity") == 0, &asked) < 0 ? 400 : 500;
                else
                        status = 404;
        }
        evhttp_clear_headers(&query);
        if (uri)
                evhttp_uri_free(uri);
        return status;
}

/* Keylime's envelope, its code the status; GET /keys/pubkey serves the payload key; a refused API
 * version says so in the words Keylime's verifier looks for (cloud_verifier_tornado.py). */
static void expect_envelope(bool version_refused) {
        json_object *reply = http_parse_json(x.reply, x.reply_size), *member, *results;

        if (!json_object_is_type(reply, json_type_object) || !json_object_object_get_ex(reply, "code", &member) ||
            json_object_get_int(member) != x.status || !json_object_object_get_ex(reply, "status", &member) ||
            !json_object_is_type(member, json_type_string) || !json_object_object_get_ex(reply, "results", &results) ||
            !json_object_is_type(results, json_type_object))
                abort();
        if (x.status == 200 && json_object_object_get_ex(results, "pubkey", &member) &&
            strcmp(json_object_get_string(member), payload_key.public_pem) != 0)
                abort();
        json_object_object_get_ex(reply, "status", &member);
        if (version_refused && strncmp(json_object_get_string(member), "API version not supported: v", 28) != 0)
                abort();
        json_object_put(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };

        /* each input starts from a fresh agent: no key half left from the one before */
        api.accept_keys = fuzz_byte(&in) & 1;
        key_release_done(&api.keys);
        key_release_init(&api.keys, &payload_key, id.agent_id);
        for (unsigned i = 0; i < REQUESTS_MAX && !fuzz_input_empty(&in); i++) {
                enum evhttp_cmd_type method = methods[fuzz_byte(&in) % ELEMENTSOF(methods)];
                char *target = fuzz_string(&in, 1024), *body = fuzz_string(&in, 4096);
                int status;

                for (char *p = target; *p; p++) /* as http_exchange_request sends it */
                        if (*p == '\r' || *p == '\n')
                                *p = '_';
                status = http_exchange_request(&x, method, target, body, strlen(body));

                if (x.handled) {
                        bool version_refused = false;

                        if (status == 0)
                                abort(); /* the handler left the request unanswered */
                        /* where the target holds a blank, evhttp's reading of the request line and
                         * evhttp_uri_parse's of the target may differ: the route is not predicted */
                        if (!strchr(target, ' ') && status != expected_status(method, target, body, &version_refused))
                                abort();
                        expect_envelope(version_refused);
                }
                free(target);
                free(body);
        }
        return 0;
}
