#include "encoding.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

char *base64_encode(const void *data, size_t size) {
        if (size > (size_t)INT32_MAX / 4 * 3 - 3)
                return NULL;
        char *text = malloc(4 * ((size + 2) / 3) + 1);

        if (!text)
                return NULL;
        EVP_EncodeBlock((unsigned char *)text, data, (int)size);
        return text;
}

static int base64_valid_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
               c == '/';
}

int base64_decode(const char *text, size_t text_len, uint8_t **out, size_t *out_size) {
        size_t pad = 0;

        if (text_len % 4 != 0)
                return vm_error(-EBADMSG, "base64: length %zu is not a multiple of 4", text_len);
        if (text_len > (size_t)INT32_MAX)
                return vm_error(-EBADMSG, "base64: input of %zu bytes is too long", text_len);
        /* EVP_DecodeBlock skips blanks and cannot tell pad from data: validate here first. */
        for (size_t i = 0; i < text_len; i++) {
                if (base64_valid_char(text[i]))
                        continue;
                if (text[i] == '=' && i + 2 >= text_len && (i + 1 == text_len || text[i + 1] == '=')) {
                        pad = text_len - i;
                        break;
                }
                return vm_error(-EBADMSG, "base64: invalid byte 0x%02x at offset %zu", (unsigned char)text[i],
                                i);
        }

        uint8_t *data = malloc(text_len / 4 * 3 + 1);
        if (!data)
                return -ENOMEM;
        int n = EVP_DecodeBlock(data, (const unsigned char *)text, (int)text_len);
        if (n < 0 || (size_t)n < pad) {
                free(data);
                return vm_error(-EBADMSG, "base64: undecodable input");
        }
        *out_size = (size_t)n - pad;
        data[*out_size] = 0;
        *out = data;
        return 0;
}

char *base64url_encode(const void *data, size_t size) {
        char *text = base64_encode(data, size);
        size_t n;

        if (!text)
                return NULL;
        n = strlen(text);
        while (n > 0 && text[n - 1] == '=')
                text[--n] = 0;
        for (size_t i = 0; i < n; i++)
                text[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
        return text;
}

int base64url_decode(const char *text, size_t text_len, uint8_t **out, size_t *out_size) {
        size_t data_len = text_len;
        char *standard;
        int ret;

        while (data_len > 0 && text_len - data_len < 2 && text[data_len - 1] == '=')
                data_len--;
        if (data_len % 4 == 1 || (text_len != data_len && text_len % 4 != 0))
                return vm_error(-EBADMSG, "%zu characters are no whole base64url byte count", text_len);
        for (size_t i = 0; i < data_len; i++)
                if (text[i] == '+' || text[i] == '/' || text[i] == '=')
                        return vm_error(-EBADMSG, "'%c' at offset %zu is not base64url", text[i], i);
        standard = malloc(data_len + 4);
        if (!standard)
                return -ENOMEM;
        for (size_t i = 0; i < data_len; i++)
                standard[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
        while (data_len % 4)
                standard[data_len++] = '=';
        ret = base64_decode(standard, data_len, out, out_size);
        free(standard);
        return ret;
}

char *hex_encode(const void *data, size_t size) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *bytes = data;

        if (size > (SIZE_MAX - 1) / 2)
                return NULL;
        char *text = malloc(2 * size + 1);
        if (!text)
                return NULL;
        for (size_t i = 0; i < size; i++) {
                text[2 * i] = digits[bytes[i] >> 4];
                text[2 * i + 1] = digits[bytes[i] & 0xf];
        }
        text[2 * size] = '\0';
        return text;
}

/* A table, not branches: the verifier decodes some 100 hex digits per IMA entry, a million
 * entries a second. It holds the digit's value + 1, so that the zero default means "not hex". */
static const uint8_t hex_values[256] = {
        ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
        ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
        ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_value(char c) {
        return (int)hex_values[(unsigned char)c] - 1;
}

int hex_decode(const char *text, size_t text_len, uint8_t *out, size_t cap, size_t *out_size) {
        if (text_len % 2 != 0)
                return vm_error(-EBADMSG, "hex: odd length %zu", text_len);
        if (text_len / 2 > cap)
                return vm_error(-EBADMSG, "hex: %zu bytes do not fit in %zu", text_len / 2, cap);
        for (size_t i = 0; i < text_len; i += 2) {
                int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);

                if (hi < 0 || lo < 0)
                        return vm_error(-EBADMSG, "hex: invalid digit at offset %zu", hi < 0 ? i : i + 1);
                out[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        *out_size = text_len / 2;
        return 0;
}
