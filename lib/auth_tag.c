#include "auth_tag.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "error.h"

int auth_tag_compute(const void *key, size_t key_size, const char *agent_id, char out[AUTH_TAG_HEX_SIZE]) {
        static const char digits[] = "0123456789abcdef";
        uint8_t mac[48];
        unsigned mac_size = 0;

        if (!HMAC(EVP_sha384(), key, (int)key_size, (const uint8_t *)agent_id, strlen(agent_id), mac, &mac_size) ||
            mac_size != sizeof(mac))
                return vm_error(-EIO, "HMAC-SHA384 failed");
        for (unsigned i = 0; i < sizeof(mac); i++) {
                out[2 * i] = digits[mac[i] >> 4];
                out[2 * i + 1] = digits[mac[i] & 0xf];
        }
        out[2 * sizeof(mac)] = '\0';
        OPENSSL_cleanse(mac, sizeof(mac));
        return 0;
}

bool auth_tag_equal(const char *expected, const char *received) {
        char lowered[AUTH_TAG_HEX_SIZE];
        size_t len = strnlen(received, AUTH_TAG_HEX_SIZE);

        if (len != AUTH_TAG_HEX_SIZE - 1 || strlen(expected) != len)
                return false;
        /* lower-case without branching on the digits' values */
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)received[i];
                unsigned char upper = (unsigned char)(((unsigned)(c - 'A') < 6u) ? 0x20 : 0);

                lowered[i] = (char)(c | upper);
        }
        return CRYPTO_memcmp(expected, lowered, len) == 0;
}
