/* HTTP(S) listeners on libevent's evhttp, for the agent API and the verifier, and Keylime's
 * reply envelope {"code": N, "status": "...", "results": {...}}. TLS (>= 1.2) runs through OpenSSL
 * bufferevents; request bodies are bounded and parsed with json-c under a depth limit. */
#pragma once

#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "http_guard.h"

#define HTTP_REQUEST_BODY_MAX (2 << 20)
/* Seconds a client has to send a whole request (see http_guard.h): ample for a registration or
 * a key half on any network, short enough that trickling clients do not pile up. */
#define HTTP_REQUEST_DEADLINE 10

struct http_listener;

/* Listens on ip:port; `tls` NULL for plain HTTP. The handler sees every whole request; `limits`
 * bound the connections (http_guard.h). */
int http_listener_new(struct event_base *base, const char *ip, uint16_t port, SSL_CTX *tls,
                      const struct http_limits *limits, void (*handler)(struct evhttp_request *req, void *user),
                      void *user, struct http_listener **out);
void http_listener_free(struct http_listener *listener);
/* Raises (or lowers) the body a request may carry from HTTP_REQUEST_BODY_MAX: libevent takes
 * one bound for the whole listener, before any handler sees the request, so a handler that
 * wants less for its own routes checks evbuffer_get_length() itself (answering 413). */
void http_listener_set_body_max(struct http_listener *listener, size_t max);

/* A server-side TLS context from a PEM certificate and key; TLS 1.2 at least. With `client_ca`
 * (a PEM file), clients are asked for a certificate that chains to it; with `require_client`
 * a client without one is refused in the handshake, else it is served and handlers decide
 * with http_request_client_verified(). */
int http_tls_server_context(const char *cert_file, const char *key_file, const char *client_ca, bool require_client,
                            SSL_CTX **out);
/* The same from a certificate and key in memory (the agent's mTLS identity, which in the initrd
 * and after a hand-over exists in memory only); the context takes its own references. */
int http_tls_server_context_keys(X509 *cert, EVP_PKEY *key, const char *client_ca, bool require_client, SSL_CTX **out);
/* True when the request came over TLS with a client certificate that chains to client_ca. A
 * listener that does not require a client certificate also serves one that does not chain (the
 * handshake does not fail): this stays false for it. */
bool http_request_client_verified(struct evhttp_request *req);
/* True when the request came over TLS. */
bool http_request_tls(struct evhttp_request *req);
/* The client's certificate, verified or not (borrowed: valid while the request is); NULL when
 * none was presented or the request is not over TLS. */
X509 *http_request_peer_certificate(struct evhttp_request *req);

/* Replies with the envelope; takes ownership of `results` (NULL: an empty object). */
void http_reply(struct evhttp_request *req, int code, const char *status, json_object *results);
/* An error reply whose status names the reason (printf format). */
void http_reply_error(struct evhttp_request *req, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The request body as a JSON object; on failure replies 400 itself and returns NULL. */
json_object *http_request_json(struct evhttp_request *req);
