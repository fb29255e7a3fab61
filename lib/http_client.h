/* JSON over HTTP(S) with libcurl, for the agent's registrar calls and the verifier's polls.
 * Responses are bounded (HTTP_BODY_MAX) and parsed with json-c under a depth limit; TLS
 * trusts only what the caller pins (a CA file), never the system store by accident. */
#pragma once

#include <json-c/json.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "curl_api.h"

#define HTTP_BODY_MAX (1 << 20)

struct http_tls {
        const char *ca_file;     /* server must chain to this CA (PEM); NULL for plain HTTP */
        const char *client_cert; /* optional client certificate and key (PEM files) */
        const char *client_key;
};

struct http_response {
        long status;
        char *body;          /* NUL-terminated, malloc'ed */
        size_t body_size;
        json_object *json;   /* NULL when the body is empty or not JSON */
};

/* Sends `body` (may be NULL) with `method` to `url`. 0 once any HTTP response arrived, whatever
 * its status; a negative errno with a detail for transport failures: -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH (name or route), -EPROTO (TLS), -EMSGSIZE (body too large). */
int http_json_request(const char *method, const char *url, const struct http_tls *tls, json_object *body,
                      long timeout_ms, struct http_response *resp);
void http_response_done(struct http_response *resp);
/* A libcurl failure as -errno with a detail (see http_json_request for the codes). */
int http_curl_failure(const struct curl_api *curl, CURLcode code, const char *url, const char *detail);

/* A response body collected up to `max` bytes (libcurl's write callback). */
struct http_body {
        char *data; /* NUL-terminated */
        size_t size;
        size_t max;
        bool too_large;
};
size_t http_body_write(char *ptr, size_t size, size_t nmemb, void *user);
/* Exactly one JSON document under a depth limit, or NULL. */
json_object *http_parse_json(const char *text, size_t size);

/* Keylime's envelope {code, status, results}: the `results` object, or NULL. */
json_object *http_keylime_results(const struct http_response *resp);
/* A short, printable excerpt of the body for error messages (at most 200 characters). */
const char *http_body_excerpt(const struct http_response *resp, char *buf, size_t size);
