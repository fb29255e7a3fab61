#include "verifier/webhook.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "verifier/http_client.h"

#define WEBHOOK_ANSWER_MAX 4096 /* what is kept of the answer: its status matters, not its body */

struct notification {
        CURL *curl;
        struct curl_slist *headers;
        char *body;
        struct http_body answer;
        char error[CURL_ERROR_SIZE];
};

struct webhooks {
        CURLM *multi;
        const char *url;
        struct notification *pending[WEBHOOK_PENDING_MAX];
        size_t dropped; /* since the last one that could be sent */
};

int webhooks_new(CURLM *multi, const char *url, struct webhooks **out) {
        struct webhooks *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        w->multi = multi;
        w->url = url && url[0] ? url : NULL;
        *out = w;
        return 0;
}

static void notification_free(struct webhooks *w, struct notification *n) {
        if (n->curl) {
                curl_multi_remove_handle(w->multi, n->curl);
                curl_easy_cleanup(n->curl);
        }
        curl_slist_free_all(n->headers);
        free(n->body);
        free(n->answer.data);
        free(n);
}

void webhooks_free(struct webhooks *w) {
        if (!w)
                return;
        for (size_t i = 0; i < WEBHOOK_PENDING_MAX; i++)
                if (w->pending[i])
                        notification_free(w, w->pending[i]);
        free(w);
}

/* The body of one notification: the event's members after agent_id; consumes `event`. */
static char *event_json(json_object *event) {
        char *text;

        if (!event)
                return NULL;
        text = strdup(json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(event);
        return text;
}

static json_object *event_new(const char *agent_id, const char *state, int64_t when) {
        json_object *event = json_object_new_object();

        if (!event)
                return NULL;
        json_object_object_add(event, "agent_id", json_object_new_string(agent_id));
        json_object_object_add(event, "state", json_object_new_string(state));
        json_object_object_add(event, "time", json_object_new_int64(when));
        return event;
}

static void notify(struct webhooks *w, const char *agent_id, json_object *event);

void webhook_notify(struct webhooks *w, const char *agent_id, const char *reason, int64_t when) {
        json_object *event;

        if (!w || !w->url)
                return;
        if ((event = event_new(agent_id, "failed", when)))
                json_object_object_add(event, "failure", json_object_new_string(reason));
        notify(w, agent_id, event);
}

void webhook_notify_host_change(struct webhooks *w, const char *agent_id, const char *previous_host, const char *host,
                                int64_t when) {
        json_object *event;

        if (!w || !w->url)
                return;
        if ((event = event_new(agent_id, "polling", when))) {
                json_object_object_add(event, "event", json_object_new_string("host_changed"));
                json_object_object_add(event, "previous_host", json_object_new_string(previous_host));
                json_object_object_add(event, "host", host[0] ? json_object_new_string(host) : NULL);
        }
        notify(w, agent_id, event);
}

static void notify(struct webhooks *w, const char *agent_id, json_object *event) {
        struct notification *n;
        char *body;
        size_t slot = 0;

        while (slot < WEBHOOK_PENDING_MAX && w->pending[slot])
                slot++;
        if (slot == WEBHOOK_PENDING_MAX) {
                json_object_put(event);
                if (w->dropped++ == 0)
                        log_warning("webhook %s: %d notifications unanswered: dropping more until one ends", w->url,
                                    WEBHOOK_PENDING_MAX);
                return;
        }
        body = event_json(event);
        n = calloc(1, sizeof(*n));
        if (n)
                n->body = body, body = NULL;
        if (!n || !n->body || !(n->curl = curl_easy_init()) ||
            !(n->headers = curl_slist_append(NULL, "Content-Type: application/json"))) {
                log_warning("webhook %s: out of memory: agent %s's event not sent", w->url, agent_id);
                free(body);
                if (n)
                        notification_free(w, n);
                return;
        }
        n->answer.max = WEBHOOK_ANSWER_MAX;
        curl_easy_setopt(n->curl, CURLOPT_URL, w->url);
        curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, n->body);
        curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, n->headers);
        curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, http_body_write);
        curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, &n->answer);
        curl_easy_setopt(n->curl, CURLOPT_ERRORBUFFER, n->error);
        curl_easy_setopt(n->curl, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
        curl_easy_setopt(n->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(n->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(n->curl, CURLOPT_FOLLOWLOCATION, 0L);
        if (curl_multi_add_handle(w->multi, n->curl) != CURLM_OK) {
                log_warning("webhook %s: cannot start: agent %s's event not sent", w->url, agent_id);
                notification_free(w, n);
                return;
        }
        w->pending[slot] = n;
        if (w->dropped)
                log_warning("webhook %s: %zu notifications were dropped", w->url, w->dropped);
        w->dropped = 0;
}

bool webhook_finished(struct webhooks *w, CURL *easy, CURLcode code) {
        long status = 0;

        for (size_t i = 0; w && i < WEBHOOK_PENDING_MAX; i++) {
                struct notification *n = w->pending[i];

                if (!n || n->curl != easy)
                        continue;
                if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && n->answer.too_large))
                        log_warning("webhook %s", vm_error_detail(http_curl_failure(code, &n->answer, w->url, n->error)));
                else if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                         (status < 200 || status >= 300))
                        log_warning("webhook %s answered HTTP %ld", w->url, status);
                notification_free(w, n);
                w->pending[i] = NULL;
                return true;
        }
        return false;
}
