#include "agent/quote_query.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

static bool nonce_valid(const char *nonce) {
        size_t len = nonce ? strlen(nonce) : 0;

        if (len == 0 || len > QUOTE_QUERY_NONCE_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((nonce[i] >= 'a' && nonce[i] <= 'z') || (nonce[i] >= 'A' && nonce[i] <= 'Z') ||
                      (nonce[i] >= '0' && nonce[i] <= '9')))
                        return false;
        return true;
}

int quote_query_parse(const struct evkeyvalq *query, bool integrity, struct quote_query *out) {
        const char *nonce = evhttp_find_header(query, "nonce");
        const char *mask_text = evhttp_find_header(query, "mask");
        const char *partial = evhttp_find_header(query, "partial");
        const char *entry_text = evhttp_find_header(query, "ima_ml_entry");
        char *end;

        memset(out, 0, sizeof(*out));
        if (!nonce_valid(nonce))
                return vm_error(-EBADMSG, "nonce must be 1-%d letters and digits", QUOTE_QUERY_NONCE_MAX);
        strcpy(out->nonce, nonce);
        if (integrity && mask_text) {
                unsigned long m = strtoul(mask_text, &end, 16);

                if (!*mask_text || *end || m >> 24)
                        return vm_error(-EBADMSG, "mask must be hex with bits 0-23 (PCR i = bit i)");
                out->mask = (uint32_t)m;
        }
        if (integrity && entry_text) {
                unsigned long long e;

                /* digits only: strtoull would take " -5" as 2^64-5 and clamp what overflows */
                errno = 0;
                e = strtoull(entry_text, &end, 10);
                if (entry_text[0] < '0' || entry_text[0] > '9' || *end || errno == ERANGE)
                        return vm_error(-EBADMSG, "ima_ml_entry must be an entry number");
                out->ima_entry = e;
        }
        if (partial && strcmp(partial, "0") != 0 && strcmp(partial, "1") != 0)
                return vm_error(-EBADMSG, "partial must be 0 or 1");
        /* docs/protocol.md §2: an identity quote always carries the payload key; an integrity quote unless
         * the verifier has it already (partial=1) */
        out->with_pubkey = !integrity || !partial || strcmp(partial, "0") == 0;
        return 0;
}
