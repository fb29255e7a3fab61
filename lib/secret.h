/* Secret bytes (key halves, K, a payload, a datagram carrying a key): one type that carries its
 * size, lives in OpenSSL's secure heap (locked, never swapped, once the process set it up with
 * CRYPTO_secure_malloc_init) and is wiped when freed, so that no caller has to repeat the size
 * it allocated when it frees. Declare locals `_cleanup_(secret_freep) struct secret *s = NULL;`
 * and hand one over with TAKE_PTR(). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct secret {
        size_t size;   /* bytes of data, not counting the zero byte after them; fixed once made */
        uint8_t *data; /* size bytes, then a zero byte (so a secret text is a C string) */
};

/* A zeroed secret of `size` bytes; NULL when the secure heap (or memory) is exhausted. */
struct secret *secret_new(size_t size);
/* A secret holding a copy of `size` bytes from `bytes`; NULL as secret_new. */
struct secret *secret_new_copy(const void *bytes, size_t size);
/* Wipes and frees `s` (NULL is fine). */
void secret_free(struct secret *s);
/* Frees `s` but hands its bytes over: size + 1 bytes of the secure heap, which the caller frees
 * with OPENSSL_secure_clear_free(data, size + 1). Only for interfaces older than this type. */
uint8_t *secret_take_data(struct secret *s);

static inline void secret_freep(struct secret **s) {
        secret_free(*s);
        *s = NULL;
}
