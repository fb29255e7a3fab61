/* JSON over HTTP(S) with libcurl (loaded when first used), for the verifier's polls and
 * webhook. Responses are bounded (HTTP_BODY_MAX) and parsed with json-c under a depth limit;
 * TLS trusts only what the caller pins (a CA file), never the system store by accident. */
#pragma once

#include <curl/curl.h>

#include "curl_api.h"
#include "http_response.h"

/* Sends `body` (may be NULL) with `method` to `url`. 0 once any HTTP response arrived, whatever
 * its status; a negative errno with a detail for transport failures: -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH (name or route), -EPROTO (TLS), -EMSGSIZE (body too large). */
int http_json_request(const char *method, const char *url, const struct http_tls *tls, json_object *body,
                      long timeout_ms, struct http_response *resp);
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
