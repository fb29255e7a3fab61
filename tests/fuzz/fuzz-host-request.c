/* Fuzzes what `vmattest-host serve` reads from a guest (docs/protocol.md §5.9): a frame header
 * (host_frame_header_parse, as the host reads it) and then the request body it announces
 * (host_request_parse); and, the other way, what the agent reads back (an answer's header, an
 * error frame's body). Invariant: a request that parses re-encodes to the same bytes. Input: the
 * bytes of one frame (seeds: tests/fuzz/corpus/host-request, a request as the agent sends it,
 * one cut short, an error frame as the host sends it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/host_binding_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t encoded[HOST_FRAME_HEADER_SIZE + HOST_REQUEST_BODY_MAX];
        struct host_frame_header header;
        struct host_request req;
        struct host_error error;
        size_t body_size, encoded_size = 0;

        if (size < HOST_FRAME_HEADER_SIZE)
                return 0;
        body_size = size - HOST_FRAME_HEADER_SIZE;
        if (host_frame_header_parse(data, 1, &header) == 0) {
                if (header.type != HOST_FRAME_REQUEST || header.length == 0 || header.length > HOST_REQUEST_BODY_MAX)
                        abort();
                /* the host reads exactly the announced length, never more */
                if (body_size < header.length)
                        return 0;
                if (host_request_parse(data + HOST_FRAME_HEADER_SIZE, header.length, &req) == 0) {
                        if (host_request_encode(&req, encoded, sizeof(encoded), &encoded_size) < 0)
                                abort();
                        if (encoded_size != HOST_FRAME_HEADER_SIZE + header.length ||
                            memcmp(encoded, data, encoded_size) != 0)
                                abort();
                }
                return 0;
        }
        if (host_frame_header_parse(data, 0, &header) == 0 && header.type == HOST_FRAME_ERROR &&
            body_size >= header.length && host_error_parse(data + HOST_FRAME_HEADER_SIZE, header.length, &error) == 0) {
                for (size_t i = 0; error.message[i]; i++)
                        if (error.message[i] < 0x20 || error.message[i] > 0x7e)
                                abort();
        }
        return 0;
}
