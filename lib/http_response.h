/* What the HTTP clients share, whatever carries the request (verifier/http_client.h: libcurl,
 * for the verifier; lib/http_event_client.h: libevent, for the agent): the TLS settings a
 * request pins, a bounded response, its body as one JSON document under a depth limit,
 * Keylime's envelope, and a printable excerpt for error messages. */
#pragma once

#include <json-c/json.h>
#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_BODY_MAX (1 << 20)

struct http_tls {
        const char *ca_file;     /* server must chain to this CA (PEM); NULL for plain HTTP */
        const char *client_cert; /* optional client certificate and key (PEM files) */
        const char *client_key;
        /* or, for lib/http_event_client.h only, a client identity held in memory (the agent's
         * mTLS key and certificate, as mtls_identity_ensure() loaded them); not owned */
        X509 *client_x509;
        EVP_PKEY *client_pkey;
};

struct http_response {
        long status;
        char *body;          /* NUL-terminated, malloc'ed */
        size_t body_size;
        json_object *json;   /* NULL when the body is empty or not JSON */
};

void http_response_done(struct http_response *resp);
/* Exactly one JSON document under a depth limit, or NULL. */
json_object *http_parse_json(const char *text, size_t size);
/* Keylime's envelope {code, status, results}: the `results` object, or NULL. */
json_object *http_keylime_results(const struct http_response *resp);
/* A short, printable excerpt of the body for error messages (at most 200 characters). */
const char *http_body_excerpt(const struct http_response *resp, char *buf, size_t size);
