#include "agent/azure_imds.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/http_event_client.h"
#include "lib/json_member.h"

/* the answer is an object holding a string: nothing nests deeper */
#define IMDS_JSON_DEPTH 3
#define QUOTE_TEXT_MAX ((AZURE_TD_QUOTE_MAX + 2) / 3 * 4)

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

int azure_imds_quote_parse(const char *body, size_t size, uint8_t **quote, size_t *quote_size) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        const char *text = NULL;
        int ret;

        *quote = NULL, *quote_size = 0;
        if (size == 0)
                return vm_error(-EBADMSG, "IMDS answer: empty, not {\"quote\": ...}");
        ret = json_parse_document("IMDS answer", body, size, IMDS_JSON_DEPTH, &root);
        if (ret < 0)
                return ret;
        if (!json_object_is_type(root, json_type_object))
                return vm_error(-EBADMSG, "IMDS answer: not a JSON object");
        vm_error_clear();
        if (json_member_string(root, "quote", QUOTE_TEXT_MAX, false, &text) < 0)
                return vm_error(-EBADMSG, "IMDS answer: %s", vm_error_detail(-EBADMSG));
        ret = base64url_decode(text, strlen(text), quote, quote_size);
        if (ret == -EBADMSG)
                ret = vm_error(ret, "IMDS answer: \"quote\" is not base64url: %s", vm_error_detail(ret));
        if (ret < 0)
                return ret;
        if (*quote_size == 0 || *quote_size > AZURE_TD_QUOTE_MAX) {
                size_t n = *quote_size;

                free(*quote), *quote = NULL, *quote_size = 0;
                return vm_error(-EBADMSG, "IMDS answer: \"quote\" holds %zu bytes, not 1-%d", n, AZURE_TD_QUOTE_MAX);
        }
        return 0;
}

int azure_imds_td_quote(const char *url, const uint8_t *tdreport, size_t size, uint8_t **quote, size_t *quote_size) {
        static const char *const headers[] = { "Metadata", "true", NULL };
        _cleanup_(freep) char *report = base64url_encode(tdreport, size);
        _cleanup_(freep) char *body = NULL;
        struct http_response resp;
        char excerpt[256];
        int ret;

        *quote = NULL, *quote_size = 0;
        if (!report || asprintf(&body, "{\"report\":\"%s\"}", report) < 0) {
                body = NULL;
                return -ENOMEM;
        }
        ret = http_event_request_extra("POST", url, NULL, body, strlen(body), AZURE_IMDS_TIMEOUT_MS,
                                       &(struct http_event_extra){ .headers = headers }, &resp);
        if (ret < 0)
                return vm_error(ret, "Azure IMDS TD quote: POST of the TDREPORT: %s", vm_error_detail(ret));
        if (resp.status != 200)
                ret = vm_error(-EIO, "Azure IMDS TD quote: %s answered HTTP %ld: %s", url, resp.status,
                               http_body_excerpt(&resp, excerpt, sizeof(excerpt)));
        else if ((ret = azure_imds_quote_parse(resp.body, resp.body_size, quote, quote_size)) < 0 && ret != -ENOMEM)
                ret = vm_error(ret, "Azure IMDS TD quote: %s: %s", url, vm_error_detail(ret));
        http_response_done(&resp);
        return ret;
}
