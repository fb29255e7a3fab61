/* Security-sensitive: bounds what clients can hold of an HTTP server (see http_guard.h).
 *
 * libevent 2.1 gives no hook when evhttp creates a server connection, only the bufferevent
 * callback (called at accept, before the connection exists) and, once it exists, the close
 * callback. So each accepted connection is adopted in two steps: at accept the guard makes the
 * bufferevent, holds a reference to it and activates the connection's timer; that runs before
 * anything is read, finds the evhttp_connection as the bufferevent's callback argument, sets
 * the close callback (which forgets the connection) and arms the request deadline. */
#include "http_guard.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* After accept() failed: long enough not to spin, short enough that clients barely notice once
 * descriptors are free again. */
#define ACCEPT_PAUSE_SECONDS 1
/* Connections closed for the limit: at most one log line in this many seconds. */
#define REFUSED_LOG_INTERVAL 60

struct http_connection {
        struct http_guard *guard;
        struct bufferevent *bev;         /* referenced from accept until adopted */
        struct evhttp_connection *evcon; /* once adopted */
        struct event *timer;             /* adopts, then the request deadline */
        bool counted;                    /* against max_connections; a refused one is not */
        struct http_connection *prev, *next;
};

struct http_guard {
        struct evconnlistener *accepter;
        SSL_CTX *tls;
        struct timeval deadline;
        unsigned max_connections;
        char name[80];
        void (*handler)(struct evhttp_request *req, void *user);
        void *user;
        struct event *resume; /* re-enables accepting after a pause */
        bool paused;          /* since accept() last failed; logged once */
        unsigned open;        /* counted connections */
        unsigned long refused;
        time_t refused_log_after;
        struct http_connection *connections;
        struct http_guard *next;
};

/* evhttp hands the accept-error callback its own evhttp, not the guard: the process's guards,
 * to find the one of the failing listener. Listeners are made and freed on the main thread only. */
static struct http_guard *guards;

static void connection_forget(struct http_connection *c) {
        struct http_guard *g = c->guard;

        if (c->prev)
                c->prev->next = c->next;
        else
                g->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->counted)
                g->open--;
        if (c->bev)
                bufferevent_decref(c->bev);
        event_free(c->timer); /* also from within its own callback: libevent allows it */
        free(c);
}

static void on_closed(struct evhttp_connection *evcon, void *arg) {
        evhttp_connection_set_closecb(evcon, NULL, NULL);
        connection_forget(arg);
}

static void adopt(struct http_connection *c) {
        struct bufferevent *bev = c->bev;
        void *evcon = NULL;

        c->bev = NULL;
        bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
        if (evcon && c->counted) {
                c->evcon = evcon;
                evhttp_connection_set_closecb(c->evcon, on_closed, c);
                evtimer_add(c->timer, &c->guard->deadline);
        } else {
                /* refused, or evhttp already dropped it (its callbacks are cleared when freed) */
                if (evcon)
                        evhttp_connection_free(evcon);
                connection_forget(c);
        }
        bufferevent_decref(bev);
}

static void on_timer(evutil_socket_t fd, short events, void *arg) {
        struct http_connection *c = arg;
        char *peer = NULL;
        uint16_t port = 0;

        if (!c->evcon) {
                adopt(c);
                return;
        }
        evhttp_connection_get_peer(c->evcon, &peer, &port);
        log_debug("%s: closing the connection from %s:%u: no whole request within %ld s", c->guard->name,
                  peer ? peer : "?", port, (long)c->guard->deadline.tv_sec);
        evhttp_connection_free(c->evcon); /* on_closed forgets c */
}

static void on_reply_sent(struct evhttp_request *req, void *arg) {
        struct http_connection *c = arg;

        /* a kept-alive connection has as long for its next request */
        evtimer_add(c->timer, &c->guard->deadline);
}

static void on_request(struct evhttp_request *req, void *user) {
        struct http_guard *g = user;
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct http_connection *c = g->connections;

        while (c && c->evcon != evcon)
                c = c->next;
        if (!c) {
                /* accepted when the guard could not allocate its record: never served (on a TLS
                 * listener it would be in clear) */
                evhttp_send_error(req, HTTP_SERVUNAVAIL, NULL); /* and closes the connection */
                return;
        }
        /* the request is whole: the handler and the reply are not the client's to delay */
        evtimer_del(c->timer);
        evhttp_request_set_on_complete_cb(req, on_reply_sent, c);
        g->handler(req, g->user);
}

static void note_refused(struct http_guard *g) {
        struct timespec now;

        g->refused++;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec < g->refused_log_after)
                return;
        log_warning("%s: %u connections open, the most allowed: %lu new connection(s) closed on accept", g->name,
                    g->open, g->refused);
        g->refused = 0;
        g->refused_log_after = now.tv_sec + REFUSED_LOG_INTERVAL;
}

static struct bufferevent *on_accept(struct event_base *base, void *user) {
        struct http_guard *g = user;
        struct http_connection *c = calloc(1, sizeof(*c));
        bool full = g->open >= g->max_connections;
        struct bufferevent *bev = NULL;
        SSL *ssl;

        if (g->paused) {
                g->paused = false;
                log_info("%s: accepting connections again", g->name);
        }
        if (!c)
                return NULL; /* evhttp makes a bufferevent; on_request refuses the connection */
        c->guard = g;
        c->counted = !full;
        if (full)
                note_refused(g);
        else if (g->tls) {
                ssl = SSL_new(g->tls);
                if (ssl)
                        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
                if (!bev) {
                        log_error("%s: cannot set up TLS for a new connection: closing it", g->name);
                        c->counted = false;
                }
        }
        if (!bev)
                bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        c->timer = evtimer_new(base, on_timer, c);
        if (!bev || !c->timer) {
                if (c->timer)
                        event_free(c->timer);
                free(c);
                return bev;
        }
        bufferevent_incref(bev);
        c->bev = bev;
        c->next = g->connections;
        if (c->next)
                c->next->prev = c;
        g->connections = c;
        if (c->counted)
                g->open++;
        /* runs before the connection's first read: evhttp has set the bufferevent up by then */
        event_active(c->timer, EV_TIMEOUT, 1);
        return bev;
}

static void on_accept_error(struct evconnlistener *accepter, void *user) {
        static const struct timeval pause = { .tv_sec = ACCEPT_PAUSE_SECONDS };
        int err = EVUTIL_SOCKET_ERROR();
        struct http_guard *g = guards;

        while (g && g->accepter != accepter)
                g = g->next;
        if (!g)
                return;
        /* the pending connection keeps the socket readable: retrying now would spin */
        evconnlistener_disable(accepter);
        evtimer_add(g->resume, &pause);
        if (!g->paused)
                log_warning("%s: cannot accept connections (%s): retrying every %d s until it works", g->name,
                            strerror(err), ACCEPT_PAUSE_SECONDS);
        g->paused = true;
}

static void on_resume(evutil_socket_t fd, short events, void *arg) {
        struct http_guard *g = arg;

        evconnlistener_enable(g->accepter);
}

int http_guard_new(struct evhttp *http, struct evconnlistener *accepter, SSL_CTX *tls, const struct http_limits *limits,
                   const char *name, void (*handler)(struct evhttp_request *req, void *user), void *user,
                   struct http_guard **out) {
        struct http_guard *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->resume = evtimer_new(evconnlistener_get_base(accepter), on_resume, g);
        if (!g->resume) {
                free(g);
                return -ENOMEM;
        }
        g->accepter = accepter;
        g->tls = tls;
        g->deadline.tv_sec = limits->request_deadline;
        g->max_connections = limits->max_connections;
        snprintf(g->name, sizeof(g->name), "%s", name);
        g->handler = handler;
        g->user = user;
        evhttp_set_bevcb(http, on_accept, g);
        evhttp_set_gencb(http, on_request, g);
        evconnlistener_set_error_cb(accepter, on_accept_error);
        g->next = guards;
        guards = g;
        *out = g;
        return 0;
}

void http_guard_free(struct http_guard *guard) {
        struct http_guard **link = &guards;

        if (!guard)
                return;
        while (*link && *link != guard)
                link = &(*link)->next;
        if (*link)
                *link = guard->next;
        /* evhttp_free() closed every connection; those not adopted yet still hold a reference */
        while (guard->connections)
                connection_forget(guard->connections);
        event_free(guard->resume);
        free(guard);
}
