/* Base64 (RFC 4648 standard alphabet, padded, one line: what Keylime sends) and lower-case
 * hex. Decoders are strict: a byte outside the alphabet, a missing or misplaced pad, or an odd
 * hex length is an error naming the offset, never silently skipped. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Returns a malloc'ed NUL-terminated string, or NULL when out of memory. */
char *base64_encode(const void *data, size_t size);
/* Decodes `text_len` bytes of `text` into a malloc'ed buffer (NUL-terminated for
 * convenience, the terminator not counted in *out_size). */
int base64_decode(const char *text, size_t text_len, uint8_t **out, size_t *out_size);

/* RFC 4648 §5 base64url ('-' and '_' for '+' and '/'), unpadded, as Azure's IMDS takes it. */
char *base64url_encode(const void *data, size_t size);
/* base64url, its padding optional (only at the end, only as much as the length needs), decoded
 * as strictly as base64_decode: -EBADMSG naming the offset of a byte outside the alphabet. */
int base64url_decode(const char *text, size_t text_len, uint8_t **out, size_t *out_size);

char *hex_encode(const void *data, size_t size);
/* Decodes into `out` (capacity `cap`); upper or lower case digits. */
int hex_decode(const char *text, size_t text_len, uint8_t *out, size_t cap, size_t *out_size);
