/* One JSON request over HTTP(S) with libevent's HTTP client, blocking, for the agent's registrar
 * calls. The agent already links libevent (its API server); libcurl's closure on Debian (gnutls,
 * krb5, ldap, ssh2, ...) is 11 MiB of the initrd and 1-2 MiB of every agent's memory, for four
 * requests per boot. The verifier keeps libcurl (verifier/http_client.h) for its many polls.
 *
 * Returns 0 once any HTTP response arrived, whatever its status, the body bounded by
 * HTTP_BODY_MAX and parsed as one JSON document under a depth limit; a negative errno with a
 * detail naming the URL for transport failures: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH (name
 * or route), -EPROTO (TLS: the server's certificate must chain to tls->ca_file and name the
 * host), -EMSGSIZE (body too large), -EINVAL (not an http(s) URL), -EIO (anything else). No
 * redirects, no proxies, no system CA store. */
#pragma once

#include "http_response.h"

/* `body`: JSON text of `body_size` bytes (no body when NULL). libevent sends it from the
 * caller's memory, by reference, without a copy of its own: a body that carries a secret (an
 * enrolment token, an escrowed key) stays in the secure heap, where the caller wipes it, up to
 * the TLS layer. */
int http_event_request(const char *method, const char *url, const struct http_tls *tls, const char *body,
                       size_t body_size, long timeout_ms, struct http_response *resp);

#define HTTP_HEADER_VALUE_MAX 256

/* What Keylime's API v3 (the push model, agent/push_client.h) needs beyond that: JSON:API's
 * media type, a bearer token, and the two answer headers it acts on; and a header a service
 * asks for of its own (Azure's IMDS: "Metadata: true"). */
struct http_event_extra {
        const char *content_type;  /* of the body and Accept (NULL: application/json) */
        const char *authorization; /* the Authorization header's value (NULL: none) */
        const char *const *headers; /* NULL, or "Name", "value" pairs ending in NULL, sent after ours */
        size_t body_max;           /* the largest answer taken (0: HTTP_BODY_MAX) */
        /* filled in from the answer: each header's first value, "" when absent or longer than
         * HTTP_HEADER_VALUE_MAX - 1 bytes (the caller parses and bounds them) */
        char location[HTTP_HEADER_VALUE_MAX];
        char retry_after[HTTP_HEADER_VALUE_MAX];
};

/* http_event_request with `extra` (may be NULL); methods GET, POST, PUT, PATCH, DELETE. */
int http_event_request_extra(const char *method, const char *url, const struct http_tls *tls, const char *body,
                             size_t body_size, long timeout_ms, struct http_event_extra *extra,
                             struct http_response *resp);
