#include "display.h"

#include <stdbool.h>

static bool display_printable(unsigned char c) {
        return c >= 0x20 && c <= 0x7e;
}

size_t display_escape(const char *in, size_t in_len, char *out, size_t out_size) {
        static const char digits[] = "0123456789abcdef";
        size_t used = 0;

        if (out_size == 0)
                return 0;
        for (size_t i = 0; i < in_len; i++) {
                unsigned char c = (unsigned char)in[i];

                if (display_printable(c)) {
                        if (used + 1 >= out_size)
                                break;
                        out[used++] = (char)c;
                } else {
                        if (used + 4 >= out_size)
                                break;
                        out[used++] = '\\';
                        out[used++] = 'x';
                        out[used++] = digits[c >> 4];
                        out[used++] = digits[c & 0xf];
                }
        }
        out[used] = '\0';
        return used;
}
