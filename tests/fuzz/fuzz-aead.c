/* Fuzzes aead_open_secret on a payload as it arrives in POST /keys/ukey (base64 text, a fixed key);
 * invariant: whatever opens was sealed under that key, which random input never is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t key[AEAD_KEY_SIZE] = { 7 };
        char *text = malloc(size + 1);
        struct secret *plain = NULL;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        /* opening would mean a forged GCM tag (chance 2^-128): the check would be broken */
        if (aead_open_secret(key, text, &plain) == 0)
                abort();
        free(text);
        return 0;
}
