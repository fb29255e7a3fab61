/* Fuzzes askpass_parse on an ask-password request file; invariant: a parsed request has a
 * terminated Id and an absolute Socket path that fits sun_path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/askpass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct askpass_request req;

        if (askpass_parse((const char *)data, size, &req) == 0) {
                if (!memchr(req.id, 0, sizeof(req.id)) || req.socket[0] != '/' || !memchr(req.socket, 0, sizeof(req.socket)))
                        abort();
                (void)askpass_matches(&req, "5f1e2d3c-0000-4000-8000-00000000abcd");
        }
        return 0;
}
