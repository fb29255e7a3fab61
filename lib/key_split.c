#include "key_split.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "aead.h"
#include "encoding.h"
#include "error.h"

int key_split_new(const char *agent_id, struct key_split **out) {
        struct key_split *split = calloc(1, sizeof(*split));
        int ret;

        if (!split || !(split->halves = secret_new(3 * KEY_SPLIT_SIZE))) {
                free(split);
                return -ENOMEM;
        }
        split->k = split->halves->data;
        split->u = split->k + KEY_SPLIT_SIZE;
        split->v = split->u + KEY_SPLIT_SIZE;
        if (RAND_priv_bytes(split->k, KEY_SPLIT_SIZE) != 1 || RAND_priv_bytes(split->v, KEY_SPLIT_SIZE) != 1) {
                key_split_free(split);
                return vm_error(-EIO, "no random bytes for K and V");
        }
        for (size_t i = 0; i < KEY_SPLIT_SIZE; i++)
                split->u[i] = split->k[i] ^ split->v[i];
        ret = auth_tag_compute(split->k, KEY_SPLIT_SIZE, agent_id, split->auth_tag);
        if (ret < 0) {
                key_split_free(split);
                return ret;
        }
        *out = split;
        return 0;
}

void key_split_free(struct key_split *split) {
        if (!split)
                return;
        secret_free(split->halves);
        OPENSSL_cleanse(split, sizeof(*split));
        free(split);
}

int key_split_seal(const struct key_split *split, const uint8_t *payload, size_t size, char **sealed_b64) {
        return aead_seal(split->k, payload, size, sealed_b64);
}

int key_half_wrap(EVP_PKEY *pubkey, const uint8_t half[KEY_SPLIT_SIZE], char **wrapped_b64) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pubkey, NULL);
        uint8_t wrapped[1024];
        size_t size = sizeof(wrapped);
        int ret = 0;

        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_encrypt_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) <= 0 ||
            EVP_PKEY_encrypt(ctx, wrapped, &size, half, KEY_SPLIT_SIZE) <= 0)
                ret = vm_error(-EIO, "cannot wrap a key half with RSA-OAEP (is pubkey an RSA key?)");
        EVP_PKEY_CTX_free(ctx);
        if (ret >= 0 && !(*wrapped_b64 = base64_encode(wrapped, size)))
                ret = -ENOMEM;
        return ret;
}
