/* The one way vmattest reads untrusted bytes (TPM structures aside, which go through tss2-mu).
 * Every read is bounded: a read past the end fails, records which field of which structure
 * was cut short and at which offset, and leaves the reader failed so that later reads fail
 * too. Parsers name each field they read; nothing indexes raw wire bytes itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reader {
        const uint8_t *data;
        size_t size;
        size_t offset;
        const char *what; /* structure being parsed, for error details */
        bool failed;
};

void reader_init(struct reader *r, const void *data, size_t size, const char *what);

/* Each returns 0, or -EBADMSG with a vm_error() detail naming `field`. */
int reader_u8(struct reader *r, uint8_t *v, const char *field);
int reader_u16le(struct reader *r, uint16_t *v, const char *field);
int reader_u32le(struct reader *r, uint32_t *v, const char *field);
int reader_u16be(struct reader *r, uint16_t *v, const char *field);
int reader_u32be(struct reader *r, uint32_t *v, const char *field);
/* Points *p at the next n bytes inside the reader's buffer (no copy). */
int reader_bytes(struct reader *r, size_t n, const uint8_t **p, const char *field);
int reader_copy(struct reader *r, void *dst, size_t n, const char *field);
int reader_skip(struct reader *r, size_t n, const char *field);

size_t reader_left(const struct reader *r);
/* Fails unless every byte was consumed: trailing garbage is an error, not padding. */
int reader_expect_end(struct reader *r);
/* Records a semantic error (a bad value, not a short read) at the current offset. */
int reader_invalid(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
