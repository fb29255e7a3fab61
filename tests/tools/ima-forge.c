/* Appends one ima-ng entry to a synthetic IMA list and prints the SHA-256 digest the kernel
 * would extend PCR 10 with, so that a test can perform the same extend on its swtpm and the
 * verifier's replay must meet a real PCR. The template data is built here from the kernel's
 * layout (docs/protocol.md §7), independently of lib/imalog.c, which it thereby checks.
 * Usage: ima-forge LOG PATH SHA256-HEX-FILE-DIGEST
 *        ima-forge LOG --violation PATH [SHA256-HEX]
 *                  (an all-zero template hash: PCR 10 gets all 0xff, whatever the line says; the
 *                  kernel writes a zero digest, a given one forges a rewritten line) */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void put_u32le(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void hex(const uint8_t *b, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", b[i]);
}

int main(int argc, char **argv) {
        uint8_t data[8192], digest[32], sha1[20], sha256[32];
        char sha1_hex[41], sha256_hex[65];
        size_t n = 0, path_len;
        FILE *log;

        if (argc != 4 && !(argc == 5 && strcmp(argv[2], "--violation") == 0)) {
                fprintf(stderr, "Usage: ima-forge LOG PATH SHA256-HEX | ima-forge LOG --violation PATH [SHA256-HEX]\n");
                return 2;
        }
        log = fopen(argv[1], "a");
        if (!log)
                return perror(argv[1]), 1;
        if (strcmp(argv[2], "--violation") == 0) {
                if (argc == 5)
                        fprintf(log, "10 %040d ima-ng sha256:%s %s\n", 0, argv[4], argv[3]);
                else
                        fprintf(log, "10 %040d ima-ng sha256:%064d %s\n", 0, 0, argv[3]);
                printf("%s\n", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
                return fclose(log) != 0;
        }
        if (strlen(argv[3]) != 64)
                return fprintf(stderr, "ima-forge: the digest must be 64 hex digits\n"), 2;
        for (int i = 0; i < 32; i++)
                if (sscanf(argv[3] + 2 * i, "%2hhx", &digest[i]) != 1)
                        return fprintf(stderr, "ima-forge: bad hex digest\n"), 2;
        path_len = strlen(argv[2]) + 1;
        if (path_len > 4096)
                return fprintf(stderr, "ima-forge: path too long\n"), 2;
        /* ima-ng: u32 len || "sha256:" \0 digest, u32 len || path \0 */
        put_u32le(data, 8 + 32);
        memcpy(data + 4, "sha256:", 8);
        memcpy(data + 12, digest, 32);
        n = 44;
        put_u32le(data + n, (uint32_t)path_len);
        memcpy(data + n + 4, argv[2], path_len);
        n += 4 + path_len;
        EVP_Digest(data, n, sha1, NULL, EVP_sha1(), NULL);
        EVP_Digest(data, n, sha256, NULL, EVP_sha256(), NULL);
        hex(sha1, 20, sha1_hex);
        hex(sha256, 32, sha256_hex);
        fprintf(log, "10 %s ima-ng sha256:%s %s\n", sha1_hex, argv[3], argv[2]);
        printf("%s\n", sha256_hex);
        return fclose(log) != 0;
}
