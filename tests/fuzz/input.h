/* A fuzz input read as a script: bytes, small numbers and length-prefixed strings taken from the
 * front, bounded like lib/reader.h; an exhausted input reads as zeros and empty strings, so that
 * a harness's script simply ends. Header-only: each fuzz-*.c stays one standalone harness. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_input {
        const uint8_t *data;
        size_t size;
};

static inline bool fuzz_input_empty(const struct fuzz_input *in) {
        return in->size == 0;
}

static inline uint8_t fuzz_byte(struct fuzz_input *in) {
        uint8_t b;

        if (!in->size)
                return 0;
        b = in->data[0];
        in->data++, in->size--;
        return b;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in) {
        uint16_t hi = fuzz_byte(in);

        return (uint16_t)(hi << 8 | fuzz_byte(in));
}

/* Up to `size` bytes into `out` (the rest zero); returns how many the input had. */
static inline size_t fuzz_bytes(struct fuzz_input *in, void *out, size_t size) {
        size_t n = size < in->size ? size : in->size;

        memcpy(out, in->data, n);
        memset((uint8_t *)out + n, 0, size - n);
        in->data += n, in->size -= n;
        return n;
}

/* A string of at most `max` bytes, its length in the next two bytes, malloc'ed and
 * NUL-terminated (an embedded NUL shortens it, as it would a C caller's view of JSON). */
static inline char *fuzz_string(struct fuzz_input *in, size_t max) {
        size_t len = fuzz_u16(in);
        char *s;

        if (len > max)
                len = max;
        if (len > in->size)
                len = in->size;
        s = malloc(len + 1);
        if (!s)
                abort();
        memcpy(s, in->data, len);
        s[len] = '\0';
        in->data += len, in->size -= len;
        return s;
}
