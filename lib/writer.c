#include "writer.h"

#include <string.h>

#include "error.h"

void writer_init(struct writer *w, void *data, size_t capacity) {
        *w = (struct writer){ .data = data, .capacity = capacity };
}

static int writer_reserve(struct writer *w, size_t n, uint8_t **p) {
        *p = NULL;
        if (w->failed || n > w->capacity - w->offset) {
                w->failed = true;
                return vm_error(-ENOBUFS, "output buffer of %zu bytes too small", w->capacity);
        }
        *p = w->data + w->offset;
        w->offset += n;
        return 0;
}

int writer_bytes(struct writer *w, const void *src, size_t n) {
        uint8_t *p;
        int ret = writer_reserve(w, n, &p);

        if (ret < 0)
                return ret;
        if (n)
                memcpy(p, src, n);
        return 0;
}

int writer_zeros(struct writer *w, size_t n) {
        uint8_t *p;
        int ret = writer_reserve(w, n, &p);

        if (ret < 0)
                return ret;
        memset(p, 0, n);
        return 0;
}

int writer_u8(struct writer *w, uint8_t v) {
        return writer_bytes(w, &v, 1);
}

int writer_u16le(struct writer *w, uint16_t v) {
        uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

        return writer_bytes(w, b, sizeof(b));
}

int writer_u32le(struct writer *w, uint32_t v) {
        uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

        return writer_bytes(w, b, sizeof(b));
}

int writer_u16be(struct writer *w, uint16_t v) {
        uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

        return writer_bytes(w, b, sizeof(b));
}

int writer_u32be(struct writer *w, uint32_t v) {
        uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

        return writer_bytes(w, b, sizeof(b));
}
