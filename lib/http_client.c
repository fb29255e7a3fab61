#include "http_client.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "curl_api.h"
#include "error.h"

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

int http_curl_failure(const struct curl_api *curl, CURLcode code, const char *url, const char *detail) {
        const char *what = detail[0] ? detail : curl->easy_strerror(code);

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

int http_json_request(const char *method, const char *url, const struct http_tls *tls, json_object *body,
                      long timeout_ms, struct http_response *resp) {
        struct http_body sink = { .max = HTTP_BODY_MAX };
        struct curl_slist *headers = NULL;
        char error_buf[CURL_ERROR_SIZE] = "";
        const struct curl_api *api;
        CURL *curl;
        CURLcode code;
        int ret;

        memset(resp, 0, sizeof(*resp));
        ret = curl_api_get(&api);
        if (ret < 0)
                return ret;
        curl = api->easy_init();
        if (!curl)
                return -ENOMEM;
        headers = api->slist_append(headers, "Accept: application/json");
        if (body)
                headers = api->slist_append(headers, "Content-Type: application/json");
        api->easy_setopt(curl, CURLOPT_URL, url);
        api->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        api->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        api->easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buf);
        api->easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_body_write);
        api->easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
        api->easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
        api->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        api->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        api->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        api->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        if (body)
                api->easy_setopt(curl, CURLOPT_POSTFIELDS, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (tls && tls->ca_file) {
                api->easy_setopt(curl, CURLOPT_CAINFO, tls->ca_file);
                api->easy_setopt(curl, CURLOPT_CAPATH, NULL);
                api->easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
                api->easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        }
        if (tls && tls->client_cert) {
                api->easy_setopt(curl, CURLOPT_SSLCERT, tls->client_cert);
                api->easy_setopt(curl, CURLOPT_SSLKEY, tls->client_key);
        }

        code = api->easy_perform(curl);
        if (code != CURLE_OK)
                ret = sink.too_large ? vm_error(-EMSGSIZE, "%s: response larger than %d bytes", url, HTTP_BODY_MAX)
                                     : http_curl_failure(api, code, url, error_buf);
        else {
                api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
                resp->body = sink.data ? sink.data : strdup("");
                resp->body_size = sink.size;
                sink.data = NULL;
                if (!resp->body)
                        ret = -ENOMEM;
                else if (resp->body_size > 0)
                        resp->json = http_parse_json(resp->body, resp->body_size);
        }
        free(sink.data);
        api->slist_free_all(headers);
        api->easy_cleanup(curl);
        if (ret < 0)
                http_response_done(resp);
        return ret;
}
