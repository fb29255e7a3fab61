/* A stand-in HTTPS registrar for tests of the agent's TLS requests (escrow, a registration with
 * an enrolment token) before or beside the real one: it answers GET /version with Keylime's
 * version document (API 2.6) and every other request with one fixed status and body; it asks
 * for a client certificate and takes any (unverified, as a registrar that compares it with the
 * registered one does), and logs each request to stderr: method, URI, the SHA-256 of the
 * client certificate's DER (or "none"), and the body.
 * Usage: fake-https PORT CERT KEY STATUS BODY-FILE   (listens on 127.0.0.1) */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_ANSWER "{\"code\":200,\"status\":\"Success\",\"results\":{\"current_version\":\"2.6\"," \
                       "\"supported_versions\":[\"2.6\"]}}"

struct answer {
        int status;
        struct evbuffer *body;
};

/* any client certificate: this stand-in records it, the test compares */
static int accept_any(int preverify_ok, X509_STORE_CTX *ctx) {
        return 1;
}

static struct bufferevent *tls_connection(struct event_base *base, void *user) {
        return bufferevent_openssl_socket_new(base, -1, SSL_new(user), BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static void client_fingerprint(struct evhttp_request *req, char out[65]) {
        struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
        X509 *cert = SSL_get1_peer_certificate(bufferevent_openssl_get_ssl(bev));
        unsigned char md[32];
        unsigned int md_size = 0;

        snprintf(out, 65, "none");
        if (cert && X509_digest(cert, EVP_sha256(), md, &md_size) == 1)
                for (unsigned i = 0; i < md_size; i++)
                        snprintf(out + 2 * i, 65 - 2 * i, "%02x", md[i]);
        X509_free(cert);
}

static void reply(struct evhttp_request *req, void *user) {
        struct answer *answer = user;
        struct evbuffer *out = evbuffer_new();
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t size = evbuffer_get_length(in);
        bool version = evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
                       strcmp(evhttp_request_get_uri(req), "/version") == 0;
        char fingerprint[65];

        client_fingerprint(req, fingerprint);
        fprintf(stderr, "fake-https: %s %s client %s %.*s\n",
                evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "POST", evhttp_request_get_uri(req),
                fingerprint, (int)size, (const char *)evbuffer_pullup(in, (ssize_t)size));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        if (version)
                evbuffer_add(out, VERSION_ANSWER, strlen(VERSION_ANSWER));
        else
                evbuffer_add_buffer_reference(out, answer->body);
        evhttp_send_reply(req, version ? 200 : answer->status, "canned", out);
        evbuffer_free(out);
}

int main(int argc, char **argv) {
        struct answer answer;
        struct event_base *base;
        struct evhttp *http;
        SSL_CTX *ctx;
        FILE *f;
        char chunk[65536];
        size_t n;

        if (argc != 6) {
                fprintf(stderr, "Usage: fake-https PORT CERT KEY STATUS BODY-FILE\n");
                return 2;
        }
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
                fprintf(stderr, "fake-https: cannot load %s and %s\n", argv[2], argv[3]);
                return 1;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
        answer.status = atoi(argv[4]);
        answer.body = evbuffer_new();
        f = fopen(argv[5], "rb");
        if (!f) {
                perror(argv[5]);
                return 1;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                evbuffer_add(answer.body, chunk, n);
        fclose(f);
        base = event_base_new();
        http = evhttp_new(base);
        evhttp_set_bevcb(http, tls_connection, ctx);
        evhttp_set_gencb(http, reply, &answer);
        if (evhttp_bind_socket(http, "127.0.0.1", (unsigned short)atoi(argv[1])) != 0) {
                fprintf(stderr, "fake-https: cannot listen on port %s\n", argv[1]);
                return 1;
        }
        event_base_dispatch(base);
        return 0;
}
