/* Writes a synthetic TCG PC Client crypto-agile event log (SHA-256 bank only, as swtpm's
 * default) and prints one "PCR SHA256-HEX" line per event that extends, for the test to
 * perform the same extends on its swtpm. Built here from the PC Client Firmware Profile's
 * layout, independently of lib/eventlog.c.
 * Usage: eventlog-forge OUT PCR:TYPE:DATA ...   (TYPE in hex, e.g. 4:80000003:kernel-image) */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void u32(FILE *f, uint32_t v) {
        uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        fwrite(b, 1, 4, f);
}

static void u16(FILE *f, uint16_t v) {
        uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
        fwrite(b, 1, 2, f);
}

int main(int argc, char **argv) {
        static const uint8_t zeros[20];
        FILE *f;

        if (argc < 2) {
                fprintf(stderr, "Usage: eventlog-forge OUT PCR:TYPE:DATA ...\n");
                return 2;
        }
        f = fopen(argv[1], "wb");
        if (!f)
                return perror(argv[1]), 1;
        /* Spec ID event, in the SHA-1 log format: PCR 0, EV_NO_ACTION, a zero SHA-1 digest */
        u32(f, 0), u32(f, 0x3), fwrite(zeros, 1, 20, f);
        u32(f, 16 + 4 + 4 + 4 + 4 + 1);
        fwrite("Spec ID Event03", 1, 16, f);
        u32(f, 0);                       /* platform class */
        fputc(0, f), fputc(2, f), fputc(0, f), fputc(2, f); /* spec 2.0 errata 0, uintnSize 2 (64-bit) */
        u32(f, 1);                       /* one algorithm */
        u16(f, 0x000b), u16(f, 32);      /* sha256 */
        fputc(0, f);                     /* no vendor info */
        for (int i = 2; i < argc; i++) {
                char *spec = strdup(argv[i]), *type_text, *data;
                unsigned long pcr, type;
                uint8_t digest[32];

                type_text = strchr(spec, ':');
                data = type_text ? strchr(type_text + 1, ':') : NULL;
                if (!data)
                        return fprintf(stderr, "eventlog-forge: \"%s\" is not PCR:TYPE:DATA\n", argv[i]), 2;
                *type_text++ = '\0', *data++ = '\0';
                pcr = strtoul(spec, NULL, 10), type = strtoul(type_text, NULL, 16);
                EVP_Digest(data, strlen(data), digest, NULL, EVP_sha256(), NULL);
                u32(f, (uint32_t)pcr), u32(f, (uint32_t)type);
                u32(f, 1), u16(f, 0x000b), fwrite(digest, 1, 32, f);
                u32(f, (uint32_t)strlen(data)), fwrite(data, 1, strlen(data), f);
                printf("%lu ", pcr);
                for (int b = 0; b < 32; b++)
                        printf("%02x", digest[b]);
                printf("\n");
                free(spec);
        }
        return fclose(f) != 0;
}
