#include "policy/utf8.h"

size_t utf8_decode(const uint8_t *p, size_t left, uint32_t *cp) {
        size_t len;
        uint32_t c, min;

        if (p[0] < 0x80) {
                *cp = p[0];
                return 1;
        }
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2, c = p[0] & 0x1f, min = 0x80;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3, c = p[0] & 0x0f, min = 0x800;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4, c = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (left < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}

bool utf8_valid(const char *text, size_t len) {
        const uint8_t *p = (const uint8_t *)text;
        uint32_t cp;

        for (size_t i = 0; i < len;) {
                size_t n = utf8_decode(p + i, len - i, &cp);

                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}
