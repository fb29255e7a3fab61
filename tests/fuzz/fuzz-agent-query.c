/* Fuzzes the agent API's reading of a quote request's query (agent/quote_query.h), the way
 * agent/api.c reads it: libevent parses the request URI and decodes its query, then
 * quote_query_parse. The first input byte picks identity or integrity; the rest is the query.
 * Invariants: a refusal is -EBADMSG with one of the four reasons the API answers; an accepted
 * query has a 1-64 letters-and-digits nonce (the first one sent), a mask of PCRs 0-23, nothing
 * but the nonce and partial for an identity quote, and reads back the same from its canonical
 * form. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "agent/quote_query.h"
#include "lib/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const reasons[] = {
        "nonce must be 1-64 letters and digits",
        "mask must be hex with bits 0-23 (PCR i = bit i)",
        "ima_ml_entry must be an entry number",
        "partial must be 0 or 1",
};

static int parse_text(const char *text, bool integrity, struct quote_query *out, struct evkeyvalq *query) {
        TAILQ_INIT(query);
        if (evhttp_parse_query_str(text, query) < 0) {
                evhttp_clear_headers(query);
                return 1; /* api.c answers "malformed request URI" before any quote_query_parse */
        }
        vm_error_clear();
        return quote_query_parse(query, integrity, out);
}

static void expect_valid(const struct quote_query *q, bool integrity, const struct evkeyvalq *query) {
        const char *partial = evhttp_find_header(query, "partial");
        size_t len = strnlen(q->nonce, sizeof(q->nonce));

        if (len == 0 || len > QUOTE_QUERY_NONCE_MAX || strcmp(q->nonce, evhttp_find_header(query, "nonce")) != 0)
                abort();
        for (size_t i = 0; i < len; i++)
                if (!((q->nonce[i] >= 'a' && q->nonce[i] <= 'z') || (q->nonce[i] >= 'A' && q->nonce[i] <= 'Z') ||
                      (q->nonce[i] >= '0' && q->nonce[i] <= '9')))
                        abort();
        if (q->mask >> 24)
                abort();
        if (!integrity && (q->mask || q->ima_entry || !q->with_pubkey))
                abort();
        if (q->with_pubkey != !(integrity && partial && strcmp(partial, "1") == 0))
                abort();
}

/* The canonical form of an accepted query reads back the same. */
static void expect_round_trip(const struct quote_query *q, bool integrity) {
        struct evkeyvalq query;
        struct quote_query again;
        char text[256];

        snprintf(text, sizeof(text), "nonce=%s&mask=%" PRIx32 "&ima_ml_entry=%" PRIu64 "&partial=%d", q->nonce, q->mask,
                 q->ima_entry, !q->with_pubkey);
        if (parse_text(text, integrity, &again, &query) != 0 || memcmp(q, &again, sizeof(again)) != 0)
                abort();
        evhttp_clear_headers(&query);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char prefix[2][24] = { "/v2.6/quotes/identity?", "/v2.6/quotes/integrity?" };
        bool integrity = size && (data[0] & 1);
        size_t prefix_len = strlen(prefix[integrity]);
        struct evhttp_uri *uri;
        struct evkeyvalq query;
        struct quote_query q;
        const char *query_text;
        char *target;
        int ret;

        if (!size)
                return 0;
        /* the request line's target, parsed as evhttp parses it for agent_api_handle */
        target = malloc(prefix_len + size);
        if (!target)
                return 0;
        memcpy(target, prefix[integrity], prefix_len);
        memcpy(target + prefix_len, data + 1, size - 1);
        target[prefix_len + size - 1] = '\0';
        uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
        free(target);
        query_text = uri ? evhttp_uri_get_query(uri) : NULL;
        if (!query_text) {
                evhttp_uri_free(uri);
                return 0;
        }
        ret = parse_text(query_text, integrity, &q, &query);
        if (ret == 1) {
                evhttp_uri_free(uri);
                return 0;
        }
        if (ret < 0) {
                bool known = false;

                for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
                        known |= strcmp(vm_error_detail(ret), reasons[i]) == 0;
                if (ret != -EBADMSG || !known)
                        abort();
        } else {
                expect_valid(&q, integrity, &query);
                expect_round_trip(&q, integrity);
        }
        evhttp_clear_headers(&query);
        evhttp_uri_free(uri);
        return 0;
}
