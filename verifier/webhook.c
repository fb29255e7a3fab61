#include "verifier/webhook.h"

#include <json-c/json.h>

#include "lib/error.h"
#include "lib/http_client.h"
#include "lib/log.h"

void webhook_notify(const char *url, const char *agent_id, const char *reason, int64_t when) {
        json_object *event;
        struct http_response resp;
        int ret;

        if (!url || !url[0])
                return;
        event = json_object_new_object();
        json_object_object_add(event, "agent_id", json_object_new_string(agent_id));
        json_object_object_add(event, "state", json_object_new_string("failed"));
        json_object_object_add(event, "failure", json_object_new_string(reason));
        json_object_object_add(event, "time", json_object_new_int64(when));
        ret = http_json_request("POST", url, NULL, event, WEBHOOK_TIMEOUT_MS, &resp);
        json_object_put(event);
        if (ret < 0)
                log_warning("webhook %s: %s", url, vm_error_detail(ret));
        else {
                if (resp.status < 200 || resp.status >= 300)
                        log_warning("webhook %s answered HTTP %ld", url, resp.status);
                http_response_done(&resp);
        }
}
