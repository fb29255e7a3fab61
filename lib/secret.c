/* Security-sensitive: every byte allocated here is wiped before it is given back. */
#include "secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct secret *secret_new(size_t size) {
        struct secret *s;

        if (size == SIZE_MAX)
                return NULL;
        s = malloc(sizeof(*s)); /* the size and the pointer are not secret */
        if (!s)
                return NULL;
        s->size = size;
        s->data = OPENSSL_secure_zalloc(size + 1);
        if (!s->data) {
                free(s);
                return NULL;
        }
        return s;
}

struct secret *secret_new_copy(const void *bytes, size_t size) {
        struct secret *s = secret_new(size);

        if (s && size)
                memcpy(s->data, bytes, size);
        return s;
}

void secret_free(struct secret *s) {
        if (!s)
                return;
        /* the size allocated, whatever the secure heap's state: OpenSSL wipes all of it */
        OPENSSL_secure_clear_free(s->data, s->size + 1);
        free(s);
}

uint8_t *secret_take_data(struct secret *s) {
        uint8_t *data = s->data;

        free(s);
        return data;
}
