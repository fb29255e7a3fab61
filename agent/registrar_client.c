#include "agent/registrar_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/notify.h"

#define REGISTRAR_RETRY_MAX_S 60
/* With a deadline (the initrd's unlock_timeout) the wait stays short: a registrar that comes
 * back in the deadline's last seconds is still reached */
#define REGISTRAR_RETRY_DEADLINE_MAX_S 4

static void sleep_seconds(unsigned seconds) {
        nanosleep(&(struct timespec){ .tv_sec = seconds }, NULL);
}

static time_t monotonic_s(void) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec;
}

int registrar_client_init(struct registrar_client *client, const struct agent_config *config) {
        bool ipv6 = strchr(config->registrar_ip, ':') != NULL;
        int n;

        memset(client, 0, sizeof(*client));
        client->config = config;
        client->timeout_ms = 10000;
        client->started = monotonic_s();
        n = snprintf(client->base_url, sizeof(client->base_url), "%s://%s%s%s:%u",
                     config->registrar_tls ? "https" : "http", ipv6 ? "[" : "", config->registrar_ip, ipv6 ? "]" : "",
                     config->registrar_port ? config->registrar_port : config->registrar_tls ? 8891 : 8890);
        if (n < 0 || (size_t)n >= sizeof(client->base_url))
                return vm_error(-EINVAL, "registrar address too long");
        if (config->registrar_tls) {
                if (!config->registrar_tls_ca_cert[0])
                        return vm_error(-EINVAL, "registrar_tls is on (the default) but registrar_tls_ca_cert names no "
                                                 "CA file; registrar_tls = false speaks plain HTTP");
                client->tls.ca_file = config->registrar_tls_ca_cert;
        }
        return 0;
}

/* Whether to wait `delay` seconds for attempt `attempt` + 1: within max_retries, or, with a
 * deadline, while the wait ends before it (the initrd waits as long as the tenant allows). */
static bool may_retry(const struct registrar_client *client, unsigned attempt, unsigned delay) {
        if (client->deadline)
                return monotonic_s() + delay < client->deadline;
        return attempt <= client->config->max_retries;
}

const char *registrar_answer_text(const struct http_response *resp, char *buf, size_t size) {
        json_object *status;

        if (json_object_is_type(resp->json, json_type_object) &&
            json_object_object_get_ex(resp->json, "status", &status) && json_object_is_type(status, json_type_string)) {
                /* vm_error() escapes what is not printable; only the length is bounded here */
                snprintf(buf, size, "%.200s", json_object_get_string(status));
                return buf;
        }
        return http_body_excerpt(resp, buf, size);
}

/* One request with the retry policy of the agent's config. On success *resp holds a 2xx. */
static int registrar_call(struct registrar_client *client, const char *method, const char *path, const char *body,
                          size_t body_size, struct http_response *resp) {
        const struct agent_config *config = client->config;
        unsigned attempt, delay = config->retry_interval ? config->retry_interval : 1;
        const char *transient = NULL;
        char url[512], excerpt[256];
        int ret = 0;

        client->status = 0;
        if ((size_t)snprintf(url, sizeof(url), "%s%s", client->base_url, path) >= sizeof(url))
                return vm_error(-EINVAL, "registrar URL too long");
        for (attempt = 1;; attempt++) {
                ret = http_event_request(method, url, &client->tls, body, body_size, client->timeout_ms, resp);
                if (ret >= 0)
                        client->status = resp->status;
                if (ret >= 0 && resp->status >= 200 && resp->status < 300)
                        return 0;
                transient = ret >= 0 && resp->status >= 400 && resp->status < 500 && client->transient
                                    ? client->transient(resp)
                                    : NULL;
                if (ret >= 0 && resp->status < 500 && !transient) { /* 1xx/3xx/4xx: waiting will not change the answer */
                        ret = vm_error(-EPERM, "registrar refused %s %s: HTTP %ld: %s", method, path, resp->status,
                                       registrar_answer_text(resp, excerpt, sizeof(excerpt)));
                        http_response_done(resp);
                        return ret;
                }
                if (ret >= 0) {
                        ret = vm_error(-EAGAIN, "%s %s: HTTP %ld: %s", method, url, resp->status,
                                       registrar_answer_text(resp, excerpt, sizeof(excerpt)));
                        http_response_done(resp);
                }
                /* only the network and a busy registrar heal by waiting; a TLS failure (wrong CA,
                 * wrong server) or a bad URL do not */
                if (ret != -ECONNREFUSED && ret != -ETIMEDOUT && ret != -EHOSTUNREACH && ret != -EIO && ret != -EAGAIN)
                        return ret;
                if (!may_retry(client, attempt, delay))
                        break;
                if (transient && client->deadline)
                        log_info("%s; retrying (%ld s of %ld s)", transient, (long)(monotonic_s() - client->started),
                                 (long)(client->deadline - client->started));
                else if (transient)
                        log_info("%s; retrying (attempt %u of %u)", transient, attempt, config->max_retries + 1);
                else if (client->deadline)
                        log_info("registrar %s: attempt %u failed (%s); retrying in %u s (%ld s left)", client->base_url,
                                 attempt, vm_error_detail(ret), delay, (long)(client->deadline - monotonic_s()));
                else
                        log_info("registrar %s: attempt %u of %u failed (%s); retrying in %u s", client->base_url,
                                 attempt, config->max_retries + 1, vm_error_detail(ret), delay);
                notify_status("waiting for registrar %s (retry %u in %u s: %s)", client->base_url, attempt, delay, vm_error_detail(ret));
                sleep_seconds(delay);
                if (config->exponential_backoff) {
                        unsigned max = client->deadline ? REGISTRAR_RETRY_DEADLINE_MAX_S : REGISTRAR_RETRY_MAX_S;

                        delay = delay * 2 < max ? delay * 2 : max;
                }
        }
        return vm_error(ret, "registrar %s: giving up after %u attempts: %s", client->base_url, attempt,
                        vm_error_detail(ret));
}

/* "2.N" with N in range, else -1. */
static int api_minor(const char *version) {
        char *end;
        long minor;

        if (strncmp(version, "2.", 2) != 0)
                return -1;
        minor = strtol(version + 2, &end, 10);
        if (end == version + 2 || *end || minor < REGISTRAR_API_MIN_MINOR || minor > REGISTRAR_API_MAX_MINOR)
                return -1;
        return (int)minor;
}

int registrar_version_answer(const struct http_response *resp) {
        json_object *results = http_keylime_results(resp), *versions, *current;
        int best = -1;

        if (results && json_object_object_get_ex(results, "supported_versions", &versions) &&
            json_object_is_type(versions, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(versions) && i < 64; i++) {
                        json_object *v = json_object_array_get_idx(versions, i);
                        int minor = json_object_is_type(v, json_type_string) ? api_minor(json_object_get_string(v)) : -1;

                        if (minor > best)
                                best = minor;
                }
        } else if (results && json_object_object_get_ex(results, "current_version", &current) &&
                   json_object_is_type(current, json_type_string))
                best = api_minor(json_object_get_string(current));
        else
                return -EBADMSG;
        return best < 0 ? -EPROTONOSUPPORT : best;
}

int registrar_negotiate(struct registrar_client *client) {
        struct http_response resp;
        int best, ret;

        ret = registrar_call(client, "GET", "/version", NULL, 0, &resp);
        if (ret < 0)
                return ret;
        best = registrar_version_answer(&resp);
        http_response_done(&resp);
        if (best == -EBADMSG)
                return vm_error(-EBADMSG, "registrar %s: /version answer has no results.supported_versions",
                                client->base_url);
        if (best < 0)
                return vm_error(-EPROTONOSUPPORT, "registrar %s speaks none of API versions 2.%d-2.%d",
                                client->base_url, REGISTRAR_API_MIN_MINOR, REGISTRAR_API_MAX_MINOR);
        snprintf(client->api_version, sizeof(client->api_version), "2.%d", best);
        return 0;
}

int registrar_blob_answer(const struct http_response *resp, char **blob_b64) {
        json_object *results = http_keylime_results(resp), *blob;

        if (!results || !json_object_object_get_ex(results, "blob", &blob) || !json_object_is_type(blob, json_type_string))
                return -EBADMSG;
        *blob_b64 = strdup(json_object_get_string(blob));
        return *blob_b64 ? 0 : -ENOMEM;
}

int registrar_register(struct registrar_client *client, const char *agent_id, const char *body, size_t body_size,
                       char **blob_b64) {
        struct http_response resp;
        char path[200];
        int ret;

        snprintf(path, sizeof(path), "/v%s/agents/%s", client->api_version, agent_id);
        ret = registrar_call(client, "POST", path, body, body_size, &resp);
        if (ret < 0)
                return ret;
        ret = registrar_blob_answer(&resp, blob_b64);
        if (ret == -EBADMSG)
                ret = vm_error(-EBADMSG, "registrar's answer to POST %s has no results.blob string", path);
        http_response_done(&resp);
        return ret;
}

int registrar_activate(struct registrar_client *client, const char *agent_id, const char *auth_tag) {
        struct http_response resp;
        json_object *body = json_object_new_object();
        const char *text;
        char path[200];
        int ret;

        if (!body)
                return -ENOMEM;
        json_object_object_add(body, "auth_tag", json_object_new_string(auth_tag));
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
        snprintf(path, sizeof(path), "/v%s/agents/%s/activate", client->api_version, agent_id);
        ret = text ? registrar_call(client, "PUT", path, text, strlen(text), &resp) : -ENOMEM;
        json_object_put(body);
        if (ret >= 0)
                http_response_done(&resp);
        return ret;
}

int registrar_request(struct registrar_client *client, const char *method, const char *path, const char *body,
                      size_t body_size) {
        struct http_response resp;
        char full[400];
        int ret;

        if ((size_t)snprintf(full, sizeof(full), "/v%s/%s", client->api_version, path) >= sizeof(full))
                return vm_error(-EINVAL, "registrar path too long");
        ret = registrar_call(client, method, full, body, body_size, &resp);
        if (ret >= 0)
                http_response_done(&resp);
        return ret;
}
