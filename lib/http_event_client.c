#include "http_event_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"

#define HOST_MAX 256

/* One request's state, between the event loop's callbacks and the caller. */
struct exchange {
        const char *url;
        struct event_base *base;
        struct bufferevent *bev;
        struct http_response *resp;
        struct http_event_extra *extra;
        size_t body_max;
        bool failed;                       /* libevent's error callback ran ... */
        enum evhttp_request_error failure; /* ... with this (valid only then) */
        int socket_error;                  /* errno at that moment */
        int ret;
};

struct target {
        bool https;
        char host[HOST_MAX];     /* without IPv6 brackets: what is connected to and verified */
        char authority[HOST_MAX + 8]; /* the Host header */
        int port;
        char *path;              /* path and query, malloc'ed */
};

static int parse_url(const char *url, struct target *t) {
        struct evhttp_uri *uri = evhttp_uri_parse(url);
        const char *scheme, *host, *path, *query;
        size_t len;
        int ret = 0;

        memset(t, 0, sizeof(*t));
        if (!uri)
                return vm_error(-EINVAL, "%s: not a usable URL", url);
        scheme = evhttp_uri_get_scheme(uri);
        host = evhttp_uri_get_host(uri);
        path = evhttp_uri_get_path(uri);
        query = evhttp_uri_get_query(uri);
        if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
                ret = vm_error(-EINVAL, "%s: not an http or https URL", url);
        else if (!host || !host[0] || strlen(host) >= HOST_MAX)
                ret = vm_error(-EINVAL, "%s: no usable host", url);
        if (ret < 0) {
                evhttp_uri_free(uri);
                return ret;
        }
        t->https = strcmp(scheme, "https") == 0;
        t->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : t->https ? 443 : 80;
        len = strlen(host);
        if (host[0] == '[' && host[len - 1] == ']')
                snprintf(t->host, sizeof(t->host), "%.*s", (int)len - 2, host + 1);
        else
                snprintf(t->host, sizeof(t->host), "%s", host);
        snprintf(t->authority, sizeof(t->authority), "%s:%d", host, t->port);
        if (asprintf(&t->path, "%s%s%s", path && path[0] ? path : "/", query ? "?" : "", query ? query : "") < 0)
                t->path = NULL;
        evhttp_uri_free(uri);
        return t->path ? 0 : -ENOMEM;
}

/* The client side of TLS: TLS 1.2 at least, the server's chain checked against the caller's CA
 * file only, its certificate must name the host (DNS name or IP address), as libcurl checks. */
static int tls_client(const struct http_tls *tls, const struct target *t, const char *url, SSL_CTX **ctx_out,
                      SSL **ssl_out) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        unsigned char ip[16];
        bool is_ip = inet_pton(AF_INET, t->host, ip) == 1 || inet_pton(AF_INET6, t->host, ip) == 1;
        SSL *ssl = NULL;
        int ret = 0;

        if (!ctx)
                return -ENOMEM;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        /* the answers carry no secret, but what is decrypted is wiped before it is freed all
         * the same (lib/http_server.c); what is sent is encrypted in place in OpenSSL's buffer */
        SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (!tls || !tls->ca_file)
                ret = vm_error(-EINVAL, "%s: HTTPS without a CA file to check the server against", url);
        else if (SSL_CTX_load_verify_locations(ctx, tls->ca_file, NULL) != 1)
                ret = vm_error(-EPROTO, "%s: TLS failure: cannot load the CA file %s", url, tls->ca_file);
        else if (tls->client_cert && (SSL_CTX_use_certificate_chain_file(ctx, tls->client_cert) != 1 ||
                                      SSL_CTX_use_PrivateKey_file(ctx, tls->client_key, SSL_FILETYPE_PEM) != 1))
                ret = vm_error(-EPROTO, "%s: TLS failure: cannot load the client certificate %s", url, tls->client_cert);
        else if (tls->client_x509 && (SSL_CTX_use_certificate(ctx, tls->client_x509) != 1 ||
                                      SSL_CTX_use_PrivateKey(ctx, tls->client_pkey) != 1))
                ret = vm_error(-EPROTO, "%s: TLS failure: cannot use the client certificate", url);
        else if (!(ssl = SSL_new(ctx)))
                ret = -ENOMEM;
        else if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->host) != 1
                       : SSL_set1_host(ssl, t->host) != 1 || SSL_set_tlsext_host_name(ssl, t->host) != 1)
                ret = vm_error(-EINVAL, "%s: cannot check the server's name %s", url, t->host);
        if (ret < 0) {
                SSL_free(ssl);
                SSL_CTX_free(ctx);
                return ret;
        }
        *ctx_out = ctx;
        *ssl_out = ssl;
        return 0;
}

/* libevent 2.1 reports a failed connect without its errno (the socket is closed by then): ask
 * the kernel once more, with a short connect of our own, on that failure path only. */
static int connect_errno(const struct target *t) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
        struct timeval tv = { .tv_sec = 2 };
        char port[8];
        int fd, err = 0;

        snprintf(port, sizeof(port), "%d", t->port);
        if (getaddrinfo(t->host, port, &hints, &ai) != 0)
                return EHOSTUNREACH;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
                err = errno == EINPROGRESS || errno == EAGAIN ? ETIMEDOUT : errno;
        if (fd >= 0)
                close(fd);
        freeaddrinfo(ai);
        return err;
}

static void on_error(enum evhttp_request_error error, void *user) {
        struct exchange *ex = user;

        ex->failed = true;
        ex->failure = error;
        ex->socket_error = EVUTIL_SOCKET_ERROR();
}

/* Why the request failed, as the codes http_event_request returns (its header). */
static int failure(struct exchange *ex, const struct target *t) {
        bool https = t->https;
        unsigned long tls_error = https ? bufferevent_get_openssl_error(ex->bev) : 0;
        int dns_error = bufferevent_socket_get_dns_error(ex->bev);
        char reason[256];

        if (ex->failed && ex->failure == EVREQ_HTTP_TIMEOUT)
                return vm_error(-ETIMEDOUT, "%s: timed out", ex->url);
        if (ex->failed && ex->failure == EVREQ_HTTP_DATA_TOO_LONG)
                return vm_error(-EMSGSIZE, "%s: response larger than %zu bytes", ex->url, ex->body_max);
        if (dns_error)
                return vm_error(-EHOSTUNREACH, "%s: cannot resolve host: %s", ex->url, evutil_gai_strerror(dns_error));
        /* libevent records SSL_ERROR_SYSCALL (a socket failure, such as a refused connect, or
         * an end of file) as its "OpenSSL error": that is no TLS failure, the socket says what */
        if (tls_error && tls_error != SSL_ERROR_SYSCALL) {
                ERR_error_string_n(tls_error, reason, sizeof(reason));
                return vm_error(-EPROTO, "%s: TLS failure: %s", ex->url, reason);
        }
        if (!ex->failed && (ex->socket_error == ENOTCONN || ex->socket_error == 0))
                ex->socket_error = connect_errno(t);
        switch (ex->socket_error) {
        case ECONNREFUSED:
                return vm_error(-ECONNREFUSED, "%s: cannot connect: connection refused", ex->url);
        case ETIMEDOUT:
        case EINPROGRESS: /* libevent gave up on a connect still under way: its timeout */
                return vm_error(-ETIMEDOUT, "%s: timed out connecting", ex->url);
        case EHOSTUNREACH:
        case ENETUNREACH:
                return vm_error(-EHOSTUNREACH, "%s: cannot connect: %s", ex->url, strerror(ex->socket_error));
        default:
                break;
        }
        if (ex->failed && ex->failure == EVREQ_HTTP_INVALID_HEADER)
                return vm_error(-EIO, "%s: not an HTTP answer", ex->url);
        if (https && (!ex->failed || ex->failure == EVREQ_HTTP_EOF))
                return vm_error(-EPROTO, "%s: TLS failure: the connection closed in the handshake or the answer", ex->url);
        return vm_error(-EIO, "%s: the connection failed or closed before an answer%s%s", ex->url,
                        ex->socket_error ? ": " : "", ex->socket_error ? strerror(ex->socket_error) : "");
}

static void header_copy(struct evhttp_request *req, const char *name, char *out) {
        const char *value = evhttp_find_header(evhttp_request_get_input_headers(req), name);

        out[0] = '\0';
        if (value && strlen(value) < HTTP_HEADER_VALUE_MAX)
                snprintf(out, HTTP_HEADER_VALUE_MAX, "%s", value);
}

static void on_done(struct evhttp_request *req, void *user) {
        struct exchange *ex = user;
        struct evbuffer *in;
        size_t size;

        event_base_loopbreak(ex->base);
        if (!req || ex->failed || evhttp_request_get_response_code(req) == 0) {
                /* a failed connect reaches here without the error callback (libevent 2.1), and
                 * mostly without its errno: failure() asks the kernel again then */
                if (!ex->failed)
                        ex->socket_error = EVUTIL_SOCKET_ERROR();
                ex->ret = -EAGAIN; /* decided by failure() */
                return;
        }
        in = evhttp_request_get_input_buffer(req);
        size = evbuffer_get_length(in);
        if (size > ex->body_max) {
                ex->ret = vm_error(-EMSGSIZE, "%s: response larger than %zu bytes", ex->url, ex->body_max);
                return;
        }
        ex->resp->status = evhttp_request_get_response_code(req);
        if (ex->extra) {
                header_copy(req, "Location", ex->extra->location);
                header_copy(req, "Retry-After", ex->extra->retry_after);
        }
        ex->resp->body = malloc(size + 1);
        if (!ex->resp->body) {
                ex->ret = -ENOMEM;
                return;
        }
        evbuffer_remove(in, ex->resp->body, size);
        ex->resp->body[size] = '\0';
        ex->resp->body_size = size;
        if (size > 0)
                ex->resp->json = http_parse_json(ex->resp->body, size);
        ex->ret = 0;
}

static int request_command(const char *method, enum evhttp_cmd_type *cmd) {
        static const struct {
                const char *name;
                enum evhttp_cmd_type cmd;
        } commands[] = { { "GET", EVHTTP_REQ_GET }, { "POST", EVHTTP_REQ_POST }, { "PUT", EVHTTP_REQ_PUT },
                         { "PATCH", EVHTTP_REQ_PATCH }, { "DELETE", EVHTTP_REQ_DELETE } };

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(method, commands[i].name) == 0) {
                        *cmd = commands[i].cmd;
                        return 0;
                }
        return vm_error(-EINVAL, "HTTP method %s is not supported", method);
}

int http_event_request(const char *method, const char *url, const struct http_tls *tls, const char *body,
                       size_t body_size, long timeout_ms, struct http_response *resp) {
        return http_event_request_extra(method, url, tls, body, body_size, timeout_ms, NULL, resp);
}

int http_event_request_extra(const char *method, const char *url, const struct http_tls *tls, const char *body,
                             size_t body_size, long timeout_ms, struct http_event_extra *extra,
                             struct http_response *resp) {
        struct timeval timeout = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
        struct exchange ex = { .url = url, .resp = resp, .extra = extra, .ret = -EIO };
        const char *content_type = extra && extra->content_type ? extra->content_type : "application/json";
        struct evhttp_connection *conn = NULL;
        struct evhttp_request *req;
        struct evkeyvalq *headers;
        enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
        struct target t;
        SSL_CTX *ctx = NULL;
        SSL *ssl = NULL;
        int ret;

        memset(resp, 0, sizeof(*resp));
        ex.body_max = extra && extra->body_max ? extra->body_max : HTTP_BODY_MAX;
        if (extra)
                extra->location[0] = extra->retry_after[0] = '\0';
        ret = request_command(method, &cmd);
        if (ret >= 0)
                ret = parse_url(url, &t);
        if (ret < 0)
                return ret;
        if (t.https)
                ret = tls_client(tls, &t, url, &ctx, &ssl);
        if (ret >= 0 && !(ex.base = event_base_new()))
                ret = -ENOMEM;
        if (ret >= 0) {
                /* the bufferevent owns the SSL from here, the connection the bufferevent */
                ex.bev = t.https ? bufferevent_openssl_socket_new(ex.base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                                  BEV_OPT_CLOSE_ON_FREE)
                                 : bufferevent_socket_new(ex.base, -1, BEV_OPT_CLOSE_ON_FREE);
                if (ex.bev)
                        ssl = NULL;
                conn = ex.bev ? evhttp_connection_base_bufferevent_new(ex.base, NULL, ex.bev, t.host, (ev_uint16_t)t.port)
                              : NULL;
                if (!conn)
                        ret = -ENOMEM;
        }
        if (ret >= 0) {
                evhttp_connection_set_timeout_tv(conn, &timeout);
                evhttp_connection_set_retries(conn, 0);
                evhttp_connection_set_max_body_size(conn, (ev_ssize_t)ex.body_max);
                req = evhttp_request_new(on_done, &ex);
                if (!req)
                        ret = -ENOMEM;
        }
        if (ret >= 0) {
                evhttp_request_set_error_cb(req, on_error);
                headers = evhttp_request_get_output_headers(req);
                evhttp_add_header(headers, "Host", t.authority);
                evhttp_add_header(headers, "Accept", content_type);
                evhttp_add_header(headers, "Connection", "close");
                if (extra && extra->authorization && evhttp_add_header(headers, "Authorization", extra->authorization) != 0)
                        ret = -ENOMEM;
                for (size_t i = 0; ret >= 0 && extra && extra->headers && extra->headers[i] && extra->headers[i + 1];
                     i += 2)
                        if (evhttp_add_header(headers, extra->headers[i], extra->headers[i + 1]) != 0)
                                ret = -ENOMEM;
                if (ret < 0)
                        evhttp_request_free(req);
        }
        if (ret >= 0) {
                /* by reference: the body is the caller's until the connection is freed below */
                char length[24];

                /* libevent 2.1 adds Content-Length to POST and PUT only: PATCH needs it too */
                snprintf(length, sizeof(length), "%zu", body_size);
                if (body && (evhttp_add_header(headers, "Content-Type", content_type) != 0 ||
                             evhttp_add_header(headers, "Content-Length", length) != 0 ||
                             evbuffer_add_reference(evhttp_request_get_output_buffer(req), body, body_size, NULL,
                                                    NULL) != 0)) {
                        evhttp_request_free(req);
                        ret = -ENOMEM;
                }
        }
        if (ret >= 0) {
                /* on failure libevent has freed the request */
                if (evhttp_make_request(conn, req, cmd, t.path) != 0)
                        ret = vm_error(-EIO, "%s: cannot send the request", url);
        }
        if (ret >= 0) {
                event_base_dispatch(ex.base);
                ret = ex.ret == -EAGAIN ? failure(&ex, &t) : ex.ret;
        }
        if (conn)
                evhttp_connection_free(conn);
        else if (ex.bev)
                bufferevent_free(ex.bev);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        if (ex.base)
                event_base_free(ex.base);
        free(t.path);
        if (ret < 0)
                http_response_done(resp);
        return ret;
}
