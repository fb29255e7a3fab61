/* Load for make bench: COUNT requests over CONCURRENCY keep-alive connections to a registrar,
 * each a POST of BODY-FILE to /v2.6/agents/bench-<n> (a new agent id each), or, with BODY-FILE
 * "-", a GET /version (the HTTP floor to compare with). Prints
 * "<ok> <failed> <seconds> <requests per second>". */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct load {
        struct event_base *base;
        const char *host;
        char *body;
        size_t body_size;
        unsigned next, total, done, ok, failed;
};

struct connection {
        struct load *load;
        struct evhttp_connection *conn;
};

static void send_next(struct connection *c);

static void on_reply(struct evhttp_request *req, void *user) {
        struct connection *c = user;
        struct load *load = c->load;

        if (req && evhttp_request_get_response_code(req) == 200)
                load->ok++;
        else
                load->failed++;
        if (++load->done == load->total)
                event_base_loopexit(load->base, NULL);
        else
                send_next(c);
}

static void send_next(struct connection *c) {
        struct load *load = c->load;
        struct evhttp_request *req;
        char path[64];

        if (load->next >= load->total)
                return;
        req = evhttp_request_new(on_reply, c);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host", load->host);
        if (load->body) {
                snprintf(path, sizeof(path), "/v2.6/agents/bench-%u", load->next);
                evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
                evbuffer_add(evhttp_request_get_output_buffer(req), load->body, load->body_size);
                evhttp_make_request(c->conn, req, EVHTTP_REQ_POST, path);
        } else
                evhttp_make_request(c->conn, req, EVHTTP_REQ_GET, "/version");
        load->next++;
}

static char *read_file(const char *path, size_t *size) {
        FILE *f = fopen(path, "rb");
        char *data = NULL;
        long n;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) &&
            fread(data, 1, (size_t)n, f) == (size_t)n)
                *size = (size_t)n;
        else {
                free(data);
                data = NULL;
        }
        fclose(f);
        return data;
}

int main(int argc, char **argv) {
        struct load load = { 0 };
        struct timespec start, end;
        unsigned concurrency;
        struct connection *conns;
        double seconds;

        if (argc != 6) {
                fprintf(stderr, "Usage: bench-registrar HOST PORT BODY-FILE|- COUNT CONCURRENCY\n");
                return 2;
        }
        load.host = argv[1];
        load.total = (unsigned)atoi(argv[4]);
        concurrency = (unsigned)atoi(argv[5]);
        if (strcmp(argv[3], "-") != 0 && !(load.body = read_file(argv[3], &load.body_size))) {
                perror(argv[3]);
                return 1;
        }
        if (load.total == 0 || concurrency == 0)
                return 2;
        load.base = event_base_new();
        conns = calloc(concurrency, sizeof(*conns));
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (unsigned i = 0; i < concurrency; i++) {
                conns[i].load = &load;
                conns[i].conn = evhttp_connection_base_new(load.base, NULL, load.host, (unsigned short)atoi(argv[2]));
                send_next(&conns[i]);
        }
        event_base_dispatch(load.base);
        clock_gettime(CLOCK_MONOTONIC, &end);
        seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
        printf("%u %u %.3f %.1f\n", load.ok, load.failed, seconds, load.ok / seconds);
        for (unsigned i = 0; i < concurrency; i++)
                evhttp_connection_free(conns[i].conn);
        free(conns);
        free(load.body);
        event_base_free(load.base);
        return load.failed ? 1 : 0;
}
