/* Fuzzes base64_decode and hex_decode; invariant: decode(encode(decode(x))) == decode(x), and bytes round-trip. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"

static void expect_bytes(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size) {
        if (a_size != b_size || memcmp(a, b, a_size) != 0)
                abort();
}

static void fuzz_base64(const char *text, size_t size) {
        _cleanup_(freep) uint8_t *decoded = NULL;
        _cleanup_(freep) uint8_t *again = NULL;
        _cleanup_(freep) char *encoded = NULL;
        size_t decoded_size = 0, again_size = 0;

        if (base64_decode(text, size, &decoded, &decoded_size) < 0)
                return;
        if (decoded[decoded_size] != '\0')
                abort();
        encoded = base64_encode(decoded, decoded_size);
        if (!encoded)
                abort();
        /* Padded base64 has one length per byte count; only the unused low bits of the last
         * character before the pad may differ from the canonical form. */
        if (strlen(encoded) != size)
                abort();
        if (base64_decode(encoded, strlen(encoded), &again, &again_size) < 0)
                abort();
        expect_bytes(decoded, decoded_size, again, again_size);
}

static void fuzz_hex(const char *text, size_t size) {
        size_t cap = size / 2, decoded_size = 0;
        /* exactly `cap` bytes, so that ASan sees a write past the capacity */
        _cleanup_(freep) uint8_t *decoded = malloc(cap ? cap : 1);
        _cleanup_(freep) char *encoded = NULL;

        if (!decoded)
                return;
        if (cap > 0 && hex_decode(text, size, decoded, cap - 1, &decoded_size) == 0)
                abort(); /* one byte short of the capacity it needs */
        if (hex_decode(text, size, decoded, cap, &decoded_size) < 0)
                return;
        if (decoded_size != cap)
                abort();
        encoded = hex_encode(decoded, decoded_size);
        if (!encoded || strlen(encoded) != size)
                abort();
        /* Hex is canonical up to case: the encoder writes lower case. */
        for (size_t i = 0; i < size; i++)
                if (encoded[i] != tolower((unsigned char)text[i]))
                        abort();
}

/* Any bytes encode and decode back to themselves. */
static void fuzz_encode(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *base64 = base64_encode(data, size);
        _cleanup_(freep) char *hex = hex_encode(data, size);
        _cleanup_(freep) uint8_t *decoded = NULL;
        _cleanup_(freep) uint8_t *hex_decoded = malloc(size ? size : 1);
        size_t decoded_size = 0;

        if (!base64 || !hex || !hex_decoded)
                abort();
        if (base64_decode(base64, strlen(base64), &decoded, &decoded_size) < 0)
                abort();
        expect_bytes(decoded, decoded_size, data, size);
        if (hex_decode(hex, strlen(hex), hex_decoded, size, &decoded_size) < 0)
                abort();
        expect_bytes(hex_decoded, decoded_size, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A copy without slack: the decoders take (text, len) and must not read past len. */
        _cleanup_(freep) char *text = malloc(size ? size : 1);

        if (!text)
                return 0;
        memcpy(text, data, size);
        fuzz_base64(text, size);
        fuzz_hex(text, size);
        fuzz_encode(data, size);
        return 0;
}
