#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

void reader_init(struct reader *r, const void *data, size_t size, const char *what) {
        *r = (struct reader){ .data = data, .size = size, .what = what };
}

size_t reader_left(const struct reader *r) {
        return r->failed ? 0 : r->size - r->offset;
}

static int reader_take(struct reader *r, size_t n, const uint8_t **p, const char *field) {
        *p = NULL;
        if (r->failed)
                return -EBADMSG;
        if (n > r->size - r->offset) {
                r->failed = true;
                return vm_error(-EBADMSG, "%s: truncated in %s at offset %zu (need %zu bytes, %zu left)",
                                r->what, field, r->offset, n, r->size - r->offset);
        }
        *p = r->data + r->offset;
        r->offset += n;
        return 0;
}

int reader_bytes(struct reader *r, size_t n, const uint8_t **p, const char *field) {
        return reader_take(r, n, p, field);
}

int reader_copy(struct reader *r, void *dst, size_t n, const char *field) {
        const uint8_t *p;
        int ret = reader_take(r, n, &p, field);

        if (ret < 0)
                return ret;
        memcpy(dst, p, n);
        return 0;
}

int reader_skip(struct reader *r, size_t n, const char *field) {
        const uint8_t *p;

        return reader_take(r, n, &p, field);
}

int reader_u8(struct reader *r, uint8_t *v, const char *field) {
        return reader_copy(r, v, 1, field);
}

int reader_u16le(struct reader *r, uint16_t *v, const char *field) {
        const uint8_t *p;
        int ret = reader_take(r, 2, &p, field);

        if (ret < 0)
                return ret;
        *v = (uint16_t)(p[0] | p[1] << 8);
        return 0;
}

int reader_u32le(struct reader *r, uint32_t *v, const char *field) {
        const uint8_t *p;
        int ret = reader_take(r, 4, &p, field);

        if (ret < 0)
                return ret;
        *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        return 0;
}

int reader_u16be(struct reader *r, uint16_t *v, const char *field) {
        const uint8_t *p;
        int ret = reader_take(r, 2, &p, field);

        if (ret < 0)
                return ret;
        *v = (uint16_t)(p[0] << 8 | p[1]);
        return 0;
}

int reader_u32be(struct reader *r, uint32_t *v, const char *field) {
        const uint8_t *p;
        int ret = reader_take(r, 4, &p, field);

        if (ret < 0)
                return ret;
        *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
        return 0;
}

int reader_expect_end(struct reader *r) {
        if (r->failed)
                return -EBADMSG;
        if (r->offset != r->size) {
                r->failed = true;
                return vm_error(-EBADMSG, "%s: %zu unexpected trailing bytes at offset %zu",
                                r->what, r->size - r->offset, r->offset);
        }
        return 0;
}

int reader_invalid(struct reader *r, const char *fmt, ...) {
        char reason[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        r->failed = true;
        return vm_error(-EBADMSG, "%s: %s (at offset %zu)", r->what, reason, r->offset);
}
