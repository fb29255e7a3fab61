/* Keeps clients from holding an evhttp server. Without it, a process out of file descriptors
 * retried accept() in a busy loop, logging a line each time, and a client trickling a header
 * byte every few seconds kept its connection for ever, as evhttp's timeout counts inactivity
 * only. The guard:
 * - counts open connections: one accepted beyond max_connections is closed at once;
 * - gives each request an absolute deadline: its headers and body must all arrive within
 *   request_deadline seconds of the connection being accepted (on a kept-alive connection, of
 *   the previous reply being sent), however they trickle, or the connection is closed;
 * - pauses accepting for a second at a time while accept() fails (out of descriptors), with
 *   one log line until it works again.
 * Parsing HTTP stays libevent's. */
#pragma once

#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

struct http_limits {
        unsigned max_connections;  /* open at once on the listener */
        unsigned request_deadline; /* seconds for a whole request to arrive */
};

struct http_guard;

/* Guards `http`, which accepts on `accepter` (its one bound socket); `name` names the listener
 * in log lines. The guard takes over evhttp's bufferevent and general callbacks: with `tls`,
 * connections speak TLS (one whose TLS cannot be set up is closed, never served in clear);
 * every whole request goes to `handler`. */
int http_guard_new(struct evhttp *http, struct evconnlistener *accepter, SSL_CTX *tls, const struct http_limits *limits,
                   const char *name, void (*handler)(struct evhttp_request *req, void *user), void *user,
                   struct http_guard **out);
/* Call after evhttp_free(), which closes the connections the guard counts. */
void http_guard_free(struct http_guard *guard);
