#include "http_response.h"

#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 32

json_object *http_parse_json(const char *text, size_t size) {
        json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        json_object *obj;

        if (!tok)
                return NULL;
        obj = json_tokener_parse_ex(tok, text, (int)size);
        /* a second document or trailing bytes make the whole body invalid */
        if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != size) {
                json_object_put(obj);
                obj = NULL;
        }
        json_tokener_free(tok);
        return obj;
}

void http_response_done(struct http_response *resp) {
        free(resp->body);
        json_object_put(resp->json);
        memset(resp, 0, sizeof(*resp));
}

json_object *http_keylime_results(const struct http_response *resp) {
        json_object *results;

        if (!resp->json || !json_object_is_type(resp->json, json_type_object) ||
            !json_object_object_get_ex(resp->json, "results", &results) ||
            !json_object_is_type(results, json_type_object))
                return NULL;
        return results;
}

const char *http_body_excerpt(const struct http_response *resp, char *buf, size_t size) {
        size_t n = 0;

        for (size_t i = 0; resp->body && i < resp->body_size && n + 1 < size && n < 200; i++) {
                unsigned char c = (unsigned char)resp->body[i];

                buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
        }
        buf[n] = '\0';
        return buf;
}
