/* imds-double: a TEST DOUBLE of Azure's instance metadata service, the part an Azure TDX guest
 * uses to have its TDREPORT quoted (agent/azure_imds.h), on loopback. It is not Azure and proves
 * nothing: its quotes are signed under a test root made at its start (tests/tools/forge/
 * tdx_forge), which a verifier trusts only as platform_test_roots.
 *
 * Like IMDS, it answers POST /acc/tdquote with body {"report": base64url(TDREPORT)}: 415 unless
 * Content-Type is exactly application/json, 400 without "Metadata: true" or for a body that is
 * not such a report, else 200 {"quote": base64url(quote)}. The quote's body is what Intel's TD
 * quoting enclave would copy from the TDREPORT: its MRTD, RTMRs, REPORTDATA and the rest of
 * TDINFO (tests/tools/forge/hcl_forge.h, hcl_forge_td_quote_body).
 *
 * Usage: imds-double --listen PORT [--root-out PATH] [--corrupt-report-data]
 *   --root-out PATH        write the test root (PEM) there, for a verifier's platform_test_roots
 *   Misbehaviour, for hostile tests:
 *   --corrupt-report-data  the quote's REPORTDATA is not the TDREPORT's (one bit flipped) */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/encoding.h"
#include "lib/http_response.h"
#include "tests/tools/forge/hcl_forge.h"
#include "tests/tools/forge/tdx_forge.h"

#define BODY_MAX (64 * 1024)

static struct {
        struct tdx_forge forge;
        bool corrupt_report_data;
} imds;

static void die(const char *what) {
        fprintf(stderr, "imds-double: %s\n", what);
        exit(1);
}

static void answer(struct evhttp_request *req, int status, const char *reason, const char *body) {
        struct evbuffer *out = evbuffer_new();

        if (out)
                evbuffer_add(out, body, strlen(body));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evhttp_send_reply(req, status, reason, out);
        evbuffer_free(out);
}

/* The TDREPORT of the request body, or NULL with the reason in *why. */
static uint8_t *request_tdreport(struct evhttp_request *req, const char **why) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t size = evbuffer_get_length(in);
        json_object *root = NULL, *report;
        uint8_t *tdreport = NULL;
        size_t tdreport_size = 0;

        *why = "{\"error\": \"the body is not {\\\"report\\\": base64url(TDREPORT)}\"}";
        if (size == 0 || size > BODY_MAX)
                return NULL;
        root = http_parse_json((const char *)evbuffer_pullup(in, (ssize_t)size), size);
        if (root && json_object_object_get_ex(root, "report", &report) &&
            json_object_is_type(report, json_type_string) &&
            base64url_decode(json_object_get_string(report), strlen(json_object_get_string(report)), &tdreport,
                             &tdreport_size) == 0 &&
            tdreport_size != HCL_FORGE_TDREPORT_SIZE) {
                free(tdreport);
                tdreport = NULL;
        }
        json_object_put(root);
        return tdreport;
}

static void on_request(struct evhttp_request *req, void *user) {
        const char *type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        const char *metadata = evhttp_find_header(evhttp_request_get_input_headers(req), "Metadata");
        struct tdx_quote_body body;
        uint8_t *tdreport, *quote = NULL;
        size_t quote_size = 0;
        char *quote_text, *reply;
        const char *why;

        (void)user;
        fprintf(stderr, "imds-double: %s\n", evhttp_request_get_uri(req));
        if (evhttp_request_get_command(req) != EVHTTP_REQ_POST ||
            strcmp(evhttp_request_get_uri(req), "/acc/tdquote") != 0) {
                answer(req, 404, "Not Found", "{\"error\": \"not found\"}");
                return;
        }
        /* IMDS refuses "application/json; charset=utf-8" (azure-cvm-tooling #91) */
        if (!type || strcmp(type, "application/json") != 0) {
                answer(req, 415, "Unsupported Media Type", "{\"error\": \"Unknown media type\"}");
                return;
        }
        if (!metadata || strcmp(metadata, "true") != 0) {
                answer(req, 400, "Bad Request", "{\"error\": \"Required metadata header not specified\"}");
                return;
        }
        if (!(tdreport = request_tdreport(req, &why))) {
                answer(req, 400, "Bad Request", why);
                return;
        }
        hcl_forge_td_quote_body(tdreport, &body);
        free(tdreport);
        if (imds.corrupt_report_data)
                body.report_data[7] ^= 0x01;
        if (tdx_forge_quote(&imds.forge, &body, &quote, &quote_size) < 0 ||
            !(quote_text = base64url_encode(quote, quote_size))) {
                free(quote);
                answer(req, 500, "Internal Server Error", "{\"error\": \"no quote\"}");
                return;
        }
        free(quote);
        if (asprintf(&reply, "{\"quote\":\"%s\"}", quote_text) < 0)
                die("out of memory");
        answer(req, 200, "OK", reply);
        free(reply);
        free(quote_text);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "listen", required_argument, NULL, 'l' },
                { "root-out", required_argument, NULL, 'r' },
                { "corrupt-report-data", no_argument, NULL, 'c' },
                {},
        };
        const char *root_out = NULL;
        struct event_base *base;
        struct evhttp *http;
        int opt, port = 0;
        FILE *f;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
                switch (opt) {
                case 'l':
                        port = atoi(optarg);
                        break;
                case 'r':
                        root_out = optarg;
                        break;
                case 'c':
                        imds.corrupt_report_data = true;
                        break;
                default:
                        die("usage: imds-double --listen PORT [--root-out PATH] [--corrupt-report-data]");
                }
        }
        if (port <= 0 || port > 65535)
                die("--listen PORT is required");
        if (tdx_forge_init(&imds.forge, time(NULL)) < 0)
                die("cannot make the test root");
        if (root_out && (!(f = fopen(root_out, "we")) || !PEM_write_X509(f, imds.forge.root) || fclose(f) != 0))
                die("cannot write --root-out");
        base = event_base_new();
        http = base ? evhttp_new(base) : NULL;
        if (!http || evhttp_bind_socket(http, "127.0.0.1", (uint16_t)port) != 0)
                die("cannot listen on 127.0.0.1");
        evhttp_set_max_body_size(http, BODY_MAX);
        evhttp_set_gencb(http, on_request, NULL);
        event_base_dispatch(base);
        return 0;
}
