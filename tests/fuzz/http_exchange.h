/* Drives an HTTP route handler the way the daemons serve it: a real listener
 * (lib/http_server.h: evhttp behind the connection guard) on a loopback port, and libevent's own
 * client on one kept-alive connection, both on one event loop in this thread. evhttp builds
 * the evhttp_request (URI, headers, body) exactly as for a peer; there is no other way to get
 * one with a URI in libevent 2.1. Header-only, like tests/fuzz/input.h. */
#pragma once

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/http_server.h"

#define HTTP_EXCHANGE_REPLY_MAX (1u << 20)

struct http_exchange {
        struct event_base *base;
        struct http_listener *listener;
        struct evhttp_connection *client;
        uint16_t port;
        void (*handler)(struct evhttp_request *req, void *user);
        void *user;
        bool reconnect; /* the server may close the client's connection: open a new one */
        /* the last exchange */
        bool handled;   /* the route handler was called */
        bool done;      /* the client's callback ran */
        int status;     /* 0: no reply (the connection failed or was closed) */
        char reply[HTTP_EXCHANGE_REPLY_MAX + 1];
        size_t reply_size;
};

static inline void http_exchange_handler(struct evhttp_request *req, void *user) {
        struct http_exchange *x = user;

        x->handled = true;
        x->handler(req, x->user);
}

static inline void http_exchange_done(struct evhttp_request *req, void *user) {
        struct http_exchange *x = user;

        x->done = true;
        x->status = req ? evhttp_request_get_response_code(req) : 0;
        x->reply_size = 0;
        /* evhttp closes the connection after its own error replies (the handler never saw the
         * request) and says so with Connection: close; a request sent before the client has
         * seen the close would fail */
        if (!req || !x->status || !x->handled)
                x->reconnect = true;
        else {
                const char *connection = evhttp_find_header(evhttp_request_get_input_headers(req), "Connection");

                x->reconnect = connection && evutil_ascii_strcasecmp(connection, "close") == 0;
        }
        if (req && x->status) {
                struct evbuffer *in = evhttp_request_get_input_buffer(req);
                size_t size = evbuffer_get_length(in);

                x->reply_size = size < HTTP_EXCHANGE_REPLY_MAX ? size : HTTP_EXCHANGE_REPLY_MAX;
                evbuffer_copyout(in, x->reply, x->reply_size);
        }
        x->reply[x->reply_size] = '\0';
        event_base_loopbreak(x->base);
}

/* A loopback port nobody listens on (now). */
static inline uint16_t http_exchange_free_port(void) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(addr);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
            getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
                abort();
        close(fd);
        return ntohs(addr.sin_port);
}

static inline void http_exchange_connect(struct http_exchange *x) {
        if (x->client)
                evhttp_connection_free(x->client);
        x->client = evhttp_connection_base_new(x->base, NULL, "127.0.0.1", x->port);
        if (!x->client)
                abort();
        evhttp_connection_set_timeout(x->client, 5);
        evhttp_connection_set_retries(x->client, 0);
        x->reconnect = false;
}

/* Serves `handler` on a loopback port until the process ends. */
static inline void http_exchange_start(struct http_exchange *x, void (*handler)(struct evhttp_request *req, void *user),
                                       void *user) {
        const struct http_limits limits = { .max_connections = 16, .request_deadline = HTTP_REQUEST_DEADLINE };
        int attempt;

        x->handler = handler;
        x->user = user;
        x->base = event_base_new();
        if (!x->base)
                abort();
        for (attempt = 0; attempt < 10; attempt++) { /* another process may take the port first */
                x->port = http_exchange_free_port();
                if (http_listener_new(x->base, "127.0.0.1", x->port, NULL, &limits, http_exchange_handler, x,
                                      &x->listener) == 0)
                        break;
        }
        if (attempt == 10)
                abort();
        http_exchange_connect(x);
}

/* One request; the reply's status (0: none) and body are in x. `uri` is sent as it is, save CR
 * and LF (which would smuggle headers, such as a Content-Length the body never fills); `body`
 * with POST, PUT and PATCH only. */
static inline int http_exchange_request(struct http_exchange *x, enum evhttp_cmd_type method, const char *uri,
                                        const void *body, size_t body_size) {
        struct evhttp_request *req = evhttp_request_new(http_exchange_done, x);
        char *target = strdup(uri);

        if (!req || !target)
                abort();
        if (x->reconnect)
                http_exchange_connect(x);
        for (char *p = target; *p; p++)
                if (*p == '\r' || *p == '\n')
                        *p = '_';
        x->handled = x->done = false;
        x->status = 0;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
        /* a body only where evhttp reads one, with its length (libevent's client adds it for
         * POST and PUT only): evhttp leaves a GET's body on the connection, where it would be
         * read as the next request, and the replies would no longer match the requests */
        if (body_size && (method == EVHTTP_REQ_POST || method == EVHTTP_REQ_PUT || method == EVHTTP_REQ_PATCH)) {
                char length[24];

                snprintf(length, sizeof(length), "%zu", body_size);
                evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", length);
                evbuffer_add(evhttp_request_get_output_buffer(req), body, body_size);
        }
        if (evhttp_make_request(x->client, req, method, target) < 0) {
                free(target);
                return 0; /* libevent's client refused to send it (it freed req) */
        }
        free(target);
        while (!x->done)
                event_base_loop(x->base, 0);
        return x->status;
}
