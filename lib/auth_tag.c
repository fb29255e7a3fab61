#include "auth_tag.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "error.h"

/* Lower-cases a tag of exactly 96 characters; false for any other length (which is public). */
static bool tag_lowered(const char *tag, char lowered[AUTH_TAG_HEX_SIZE]) {
        size_t len = strnlen(tag, AUTH_TAG_HEX_SIZE);

        if (len != AUTH_TAG_HEX_SIZE - 1)
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)tag[i];
                unsigned char upper = (unsigned char)(((unsigned)(c - 'A') < 6u) ? 0x20 : 0);

                lowered[i] = (char)(c | upper);
        }
        lowered[len] = '\0';
        return true;
}

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

        if (!tag_lowered(received, lowered) || strlen(expected) != AUTH_TAG_HEX_SIZE - 1)
                return false;
        return CRYPTO_memcmp(expected, lowered, AUTH_TAG_HEX_SIZE - 1) == 0;
}

static int digest_hex(const char *text, size_t size, char out[AUTH_TAG_DIGEST_HEX_SIZE]) {
        static const char digits[] = "0123456789abcdef";
        uint8_t digest[32];
        unsigned digest_size = 0;

        if (!EVP_Digest(text, size, digest, &digest_size, EVP_sha256(), NULL) || digest_size != sizeof(digest))
                return vm_error(-EIO, "SHA-256 failed");
        for (unsigned i = 0; i < sizeof(digest); i++) {
                out[2 * i] = digits[digest[i] >> 4];
                out[2 * i + 1] = digits[digest[i] & 0xf];
        }
        out[2 * sizeof(digest)] = '\0';
        return 0;
}

int auth_tag_digest(const char *tag, char out[AUTH_TAG_DIGEST_HEX_SIZE]) {
        char lowered[AUTH_TAG_HEX_SIZE];
        int ret;

        if (!tag_lowered(tag, lowered))
                return vm_error(-EINVAL, "an auth_tag is %d hex digits", AUTH_TAG_HEX_SIZE - 1);
        ret = digest_hex(lowered, AUTH_TAG_HEX_SIZE - 1, out);
        OPENSSL_cleanse(lowered, sizeof(lowered));
        return ret;
}

bool auth_tag_digest_equal(const char *expected_digest, const char *received) {
        char lowered[AUTH_TAG_HEX_SIZE], digest[AUTH_TAG_DIGEST_HEX_SIZE];
        bool equal;

        if (strlen(expected_digest) != AUTH_TAG_DIGEST_HEX_SIZE - 1 || !tag_lowered(received, lowered) ||
            digest_hex(lowered, AUTH_TAG_HEX_SIZE - 1, digest) < 0)
                return false;
        equal = CRYPTO_memcmp(expected_digest, digest, AUTH_TAG_DIGEST_HEX_SIZE - 1) == 0;
        OPENSSL_cleanse(lowered, sizeof(lowered));
        return equal;
}
