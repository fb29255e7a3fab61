#include "verifier/http_client.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

size_t http_body_write(char *ptr, size_t size, size_t nmemb, void *user) {
        struct http_body *sink = user;
        size_t n = size * nmemb;
        char *grown;

        if (n > sink->max - sink->size) {
                sink->too_large = true;
                return 0; /* makes curl fail with CURLE_WRITE_ERROR */
        }
        grown = realloc(sink->data, sink->size + n + 1);
        if (!grown)
                return 0;
        memcpy(grown + sink->size, ptr, n);
        sink->data = grown;
        sink->size += n;
        sink->data[sink->size] = '\0';
        return n;
}

int http_curl_failure(CURLcode code, const struct http_body *body, const char *url, const char *detail) {
        const char *what = detail && detail[0] ? detail : curl_easy_strerror(code);

        if (code == CURLE_WRITE_ERROR && body && body->too_large)
                return vm_error(-EMSGSIZE, "%s: the answer is longer than %zu bytes", url, body->max);
        switch (code) {
        case CURLE_COULDNT_CONNECT:
                return vm_error(-ECONNREFUSED, "%s: cannot connect: %s", url, what);
        case CURLE_OPERATION_TIMEDOUT:
                return vm_error(-ETIMEDOUT, "%s: timed out: %s", url, what);
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return vm_error(-EINVAL, "%s: not a usable URL: %s", url, what);
        case CURLE_COULDNT_RESOLVE_HOST:
                return vm_error(-EHOSTUNREACH, "%s: cannot resolve host: %s", url, what);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return vm_error(-EPROTO, "%s: TLS failure: %s", url, what);
        default:
                return vm_error(-EIO, "%s: %s", url, what);
        }
}
