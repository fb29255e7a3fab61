#include "http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "event_wipe.h"
#include "secret_file.h"
#include "secret_json.h"

#define JSON_DEPTH_MAX 16

struct http_listener {
        struct evhttp *http;
        struct http_guard *guard;
        SSL_CTX *tls;
};

int http_listener_new(struct event_base *base, const char *ip, uint16_t port, SSL_CTX *tls,
                      const struct http_limits *limits, void (*handler)(struct evhttp_request *req, void *user),
                      void *user, struct http_listener **out) {
        struct http_listener *listener = calloc(1, sizeof(*listener));
        struct evhttp_bound_socket *bound;
        char name[96];
        int ret;

        if (!listener)
                return -ENOMEM;
        listener->http = evhttp_new(base);
        if (!listener->http) {
                free(listener);
                return -ENOMEM;
        }
        evhttp_set_max_body_size(listener->http, HTTP_REQUEST_BODY_MAX);
        evhttp_set_max_headers_size(listener->http, 16384);
        /* evhttp's timeout counts inactivity only, writing the reply too; the guard bounds how
         * long a request may take to arrive */
        evhttp_set_timeout(listener->http, 30);
        evhttp_set_allowed_methods(listener->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                           EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
        if (tls) {
                SSL_CTX_up_ref(tls);
                listener->tls = tls;
        }
        bound = evhttp_bind_socket_with_handle(listener->http, ip, port);
        if (!bound) {
                http_listener_free(listener);
                return vm_error(-EADDRINUSE, "cannot listen on %s:%u (address in use or not local?)", ip, port);
        }
        snprintf(name, sizeof(name), "%s listener %s:%u", tls ? "HTTPS" : "HTTP", ip, port);
        ret = http_guard_new(listener->http, evhttp_bound_socket_get_listener(bound), tls, limits, name, handler, user,
                             &listener->guard);
        if (ret < 0) {
                http_listener_free(listener);
                return ret;
        }
        *out = listener;
        return 0;
}

void http_listener_free(struct http_listener *listener) {
        if (!listener)
                return;
        evhttp_free(listener->http);
        http_guard_free(listener->guard); /* after evhttp_free(): see http_guard.h */
        SSL_CTX_free(listener->tls);
        free(listener);
}

void http_listener_set_body_max(struct http_listener *listener, size_t max) {
        evhttp_set_max_body_size(listener->http, (ev_ssize_t)max);
}

/* A listener that does not require a client certificate takes any: a handler decides. One from
 * client_ca is "verified" (http_request_client_verified); another (a self-signed agent
 * certificate, which key escrow compares byte for byte with the agent's registered one) fails
 * verification without failing the handshake, its result kept for SSL_get_verify_result(). */
static int accept_unverified_client(int preverify_ok, X509_STORE_CTX *ctx) {
        (void)preverify_ok;
        (void)ctx;
        return 1;
}

/* Clients must present a certificate from client_ca (when not NULL). */
static int tls_trust_clients(SSL_CTX *ctx, const char *client_ca, bool require_client) {
        STACK_OF(X509_NAME) *names;

        if (!client_ca)
                return 0;
        names = SSL_load_client_CA_file(client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
                sk_X509_NAME_pop_free(names, X509_NAME_free);
                return vm_error(-EINVAL, "%s: cannot load the trusted client CA", client_ca);
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (require_client ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           require_client ? NULL : accept_unverified_client);
        return 0;
}

int http_tls_server_context(const char *cert_file, const char *key_file, const char *client_ca, bool require_client,
                            SSL_CTX **out) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        EVP_PKEY *key = NULL;
        int ret = 0;

        if (!ctx)
                return -ENOMEM;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        /* OpenSSL keeps each record it decrypts in its read buffer until the next overwrites
         * it, and frees that buffer without a wipe: a request may carry a secret */
        SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
        /* the key's PEM text is read into the secure heap and wiped, not through stdio */
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
                ret = vm_error(-EINVAL, "%s: cannot load the TLS certificate", cert_file);
        else if ((ret = secret_private_key_load(key_file, &key)) < 0)
                ret = vm_error(ret, "TLS key %s", vm_error_detail(ret));
        else if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
                ret = vm_error(-EINVAL, "%s: the TLS key does not match %s", key_file, cert_file);
        else
                ret = tls_trust_clients(ctx, client_ca, require_client);
        EVP_PKEY_free(key);
        if (ret < 0) {
                SSL_CTX_free(ctx);
                return ret;
        }
        *out = ctx;
        return 0;
}

int http_tls_server_context_keys(X509 *cert, EVP_PKEY *key, const char *client_ca, bool require_client, SSL_CTX **out) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        int ret = 0;

        if (!ctx)
                return -ENOMEM;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        /* OpenSSL keeps each record it decrypts in its read buffer until the next overwrites
         * it, and frees that buffer without a wipe: a request may carry a secret */
        SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
        if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
                ret = vm_error(-EINVAL, "the TLS key does not match its certificate");
        else
                ret = tls_trust_clients(ctx, client_ca, require_client);
        if (ret < 0) {
                SSL_CTX_free(ctx);
                return ret;
        }
        *out = ctx;
        return 0;
}

static SSL *request_ssl(struct evhttp_request *req) {
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;

        return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

bool http_request_client_verified(struct evhttp_request *req) {
        SSL *ssl = request_ssl(req);

        /* with accept_unverified_client, the handshake succeeds whatever the chain: the result
         * of its verification is what says whether the certificate chains to client_ca */
        return ssl && SSL_get0_peer_certificate(ssl) && SSL_get_verify_result(ssl) == X509_V_OK;
}

bool http_request_tls(struct evhttp_request *req) {
        return request_ssl(req) != NULL;
}

X509 *http_request_peer_certificate(struct evhttp_request *req) {
        SSL *ssl = request_ssl(req);

        return ssl ? SSL_get0_peer_certificate(ssl) : NULL;
}

void http_reply(struct evhttp_request *req, int code, const char *status, json_object *results) {
        json_object *envelope = json_object_new_object();
        struct evbuffer *buf = evbuffer_new();
        const char *text;

        json_object_object_add(envelope, "code", json_object_new_int(code));
        json_object_object_add(envelope, "status", json_object_new_string(status));
        json_object_object_add(envelope, "results", results ? results : json_object_new_object());
        text = json_object_to_json_string_ext(envelope, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        evbuffer_add(buf, text, strlen(text));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evhttp_send_reply(req, code, code < 300 ? "OK" : status, buf);
        evbuffer_free(buf);
        json_object_put(envelope);
}

void http_reply_error(struct evhttp_request *req, int code, const char *fmt, ...) {
        char status[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(status, sizeof(status), fmt, ap);
        va_end(ap);
        /* the reason phrase must stay one printable line */
        for (char *p = status; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                        *p = '?';
        http_reply(req, code, status, NULL);
}

json_object *http_request_json(struct evhttp_request *req) {
        struct evbuffer *input = evhttp_request_get_input_buffer(req);
        size_t size = evbuffer_get_length(input);
        enum json_tokener_error error;
        json_tokener *tok;
        json_object *obj;
        const char *text;
        bool whole;

        if (size == 0) {
                http_reply_error(req, 400, "empty request body: a JSON object is required");
                return NULL;
        }
        text = (const char *)evbuffer_pullup(input, (ssize_t)size);
        tok = secret_json_tokener_new(JSON_DEPTH_MAX, size);
        if (!text || !tok) {
                secret_json_tokener_free(tok);
                event_wipe_buffer(input);
                http_reply_error(req, 500, "out of memory");
                return NULL;
        }
        obj = json_tokener_parse_ex(tok, text, (int)size);
        error = json_tokener_get_error(tok);
        whole = json_tokener_get_parse_end(tok) == size;
        /* a body may carry a secret (an enrolment token, an escrowed key): its text and
         * json-c's scratch copy of it are wiped now, not whenever libevent frees them */
        secret_json_tokener_free(tok);
        event_wipe_buffer(input);
        if (error != json_tokener_success || !whole || !json_object_is_type(obj, json_type_object)) {
                http_reply_error(req, 400, "request body is not one JSON object (%s)",
                                 error != json_tokener_success ? json_tokener_error_desc(error)
                                                               : "wrong type or trailing data");
                json_object_put(obj);
                obj = NULL;
        }
        return obj;
}
