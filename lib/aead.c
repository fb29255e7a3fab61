#include "aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "error.h"

#define IV_SIZE 16
#define TAG_SIZE 16

int aead_seal(const uint8_t key[AEAD_KEY_SIZE], const uint8_t *plain, size_t size, char **sealed_b64) {
        uint8_t *sealed = size <= INT32_MAX ? malloc(IV_SIZE + size + TAG_SIZE) : NULL;
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n = 0, tail = 0, ret = 0;

        if (!sealed || !ctx)
                ret = -ENOMEM;
        else if (RAND_bytes(sealed, IV_SIZE) != 1 || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_SIZE, NULL) != 1 ||
                 EVP_EncryptInit_ex(ctx, NULL, NULL, key, sealed) != 1 ||
                 EVP_EncryptUpdate(ctx, sealed + IV_SIZE, &n, plain, (int)size) != 1 ||
                 EVP_EncryptFinal_ex(ctx, sealed + IV_SIZE + n, &tail) != 1 ||
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, sealed + IV_SIZE + n + tail) != 1)
                ret = vm_error(-EIO, "cannot seal (AES-256-GCM)");
        EVP_CIPHER_CTX_free(ctx);
        if (ret >= 0 && !(*sealed_b64 = base64_encode(sealed, IV_SIZE + (size_t)(n + tail) + TAG_SIZE)))
                ret = -ENOMEM;
        free(sealed);
        return ret;
}

int aead_open_secret(const uint8_t key[AEAD_KEY_SIZE], const char *sealed_b64, struct secret **out) {
        _cleanup_(freep) uint8_t *sealed = NULL;
        struct secret *plain = NULL;
        size_t sealed_size, cipher_size;
        EVP_CIPHER_CTX *ctx = NULL;
        int n = 0, tail = 0, ret;

        ret = base64_decode(sealed_b64, strlen(sealed_b64), &sealed, &sealed_size);
        if (ret < 0)
                return ret;
        if (sealed_size < IV_SIZE + TAG_SIZE || sealed_size - IV_SIZE - TAG_SIZE > INT32_MAX)
                return vm_error(-EBADMSG, "%zu bytes cannot hold an IV and a tag", sealed_size);
        /* GCM is a stream mode: the plaintext is exactly as long as the ciphertext */
        cipher_size = sealed_size - IV_SIZE - TAG_SIZE;
        ctx = EVP_CIPHER_CTX_new();
        plain = secret_new(cipher_size);
        if (!ctx || !plain)
                ret = vm_error(-ENOMEM, "no secure memory for %zu bytes of plaintext", cipher_size);
        else if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_SIZE, NULL) != 1 ||
                 EVP_DecryptInit_ex(ctx, NULL, NULL, key, sealed) != 1 ||
                 EVP_DecryptUpdate(ctx, plain->data, &n, sealed + IV_SIZE, (int)cipher_size) != 1 ||
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, sealed + sealed_size - TAG_SIZE) != 1 ||
                 EVP_DecryptFinal_ex(ctx, plain->data + n, &tail) != 1)
                ret = vm_error(-EPERM, "does not open under the key (altered, or sealed under another key)");
        else if ((size_t)(n + tail) != cipher_size)
                ret = vm_error(-EIO, "AES-256-GCM gave %d bytes for %zu", n + tail, cipher_size);
        EVP_CIPHER_CTX_free(ctx);
        if (ret < 0) {
                secret_free(plain);
                return ret;
        }
        *out = plain;
        return 0;
}

int aead_open(const uint8_t key[AEAD_KEY_SIZE], const char *sealed_b64, uint8_t **plain_out, size_t *size) {
        struct secret *plain = NULL;
        int ret = aead_open_secret(key, sealed_b64, &plain);

        if (ret < 0)
                return ret;
        *size = plain->size;
        *plain_out = secret_take_data(plain);
        return 0;
}
