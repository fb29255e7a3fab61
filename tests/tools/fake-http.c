/* A stand-in HTTP server for tests that need answers no real registrar gives: it replies to
 * every request with one fixed status and body, and logs each request (URI and body) to stderr.
 * Usage: fake-http PORT STATUS BODY-FILE   (listens on 127.0.0.1) */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>

struct answer {
        int status;
        struct evbuffer *body;
};

static void reply(struct evhttp_request *req, void *user) {
        struct answer *answer = user;
        struct evbuffer *out = evbuffer_new();

        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t size = evbuffer_get_length(in);

        /* one line per request: the URI, then the body (a webhook's JSON) */
        fprintf(stderr, "fake-http: %s %.*s\n", evhttp_request_get_uri(req), (int)size,
                (const char *)evbuffer_pullup(in, (ssize_t)size));
        evbuffer_add_buffer_reference(out, answer->body);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evhttp_send_reply(req, answer->status, "canned", out);
        evbuffer_free(out);
}

int main(int argc, char **argv) {
        struct answer answer;
        struct event_base *base;
        struct evhttp *http;
        FILE *f;
        char chunk[65536];
        size_t n;

        if (argc != 4) {
                fprintf(stderr, "Usage: fake-http PORT STATUS BODY-FILE\n");
                return 2;
        }
        answer.status = atoi(argv[2]);
        answer.body = evbuffer_new();
        f = fopen(argv[3], "rb");
        if (!f) {
                perror(argv[3]);
                return 1;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                evbuffer_add(answer.body, chunk, n);
        fclose(f);
        base = event_base_new();
        http = evhttp_new(base);
        evhttp_set_gencb(http, reply, &answer);
        if (evhttp_bind_socket(http, "127.0.0.1", (unsigned short)atoi(argv[1])) != 0) {
                fprintf(stderr, "fake-http: cannot listen on port %s\n", argv[1]);
                return 1;
        }
        event_base_dispatch(base);
        return 0;
}
