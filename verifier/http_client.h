/* The verifier's HTTP(S) client pieces on libcurl's multi interface (the polls, the webhook):
 * a response body collected up to a bound, and a libcurl failure as -errno with a detail. TLS
 * trusts only what the caller pins, never the system store by accident. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/* A response body collected up to `max` bytes (libcurl's write callback). */
struct http_body {
        char *data; /* NUL-terminated */
        size_t size;
        size_t max;
        bool too_large;
};
size_t http_body_write(char *ptr, size_t size, size_t nmemb, void *user);

/* A libcurl failure as -errno with a detail naming `url`: -ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH (name or route), -EPROTO (TLS), -EMSGSIZE (the body passed `max`), -EINVAL
 * (a bad URL), -EIO (anything else). `detail` is libcurl's error buffer ("" when empty). */
int http_curl_failure(CURLcode code, const struct http_body *body, const char *url, const char *detail);
