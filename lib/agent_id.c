#include "agent_id.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

bool agent_id_valid(const char *id) {
        size_t len = strlen(id);

        if (len == 0 || len > AGENT_ID_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = id[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.'))
                        return false;
        }
        /* "." and ".." would be path segments of their own */
        return strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

const char *agent_id_path_take(const char *path, char *id, size_t size) {
        size_t n;

        if (strncmp(path, "/agents/", 8) != 0)
                return NULL;
        path += 8;
        n = strcspn(path, "/");
        if (n == 0 || n >= size)
                return NULL;
        memcpy(id, path, n);
        id[n] = '\0';
        return agent_id_valid(id) ? path + n : NULL;
}

bool agent_id_is_hash_ek_form(const char *id) {
        size_t len = strlen(id);

        if (len != 64)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;
        return true;
}

int agent_id_generate(char out[37]) {
        uint8_t b[16];

        if (RAND_bytes(b, sizeof(b)) != 1)
                return vm_error(-EIO, "no random bytes for an agent UUID");
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}
