#include "verifier/release_keys.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aead.h"
#include "lib/auth_tag.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "verifier/payload_vault.h"

#define PUBKEY_PEM_MAX 4096

static int random_challenge(char out[21]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t bytes[20];

        if (RAND_bytes(bytes, sizeof(bytes)) != 1)
                return vm_error(-EIO, "no random bytes for the challenge");
        for (size_t i = 0; i < 20; i++)
                out[i] = alphabet[bytes[i] % 62];
        out[20] = '\0';
        return 0;
}

/* The tenant's payload, out of the vault and straight under K. */
static int reseal_payload(const char *vault_path, const char *sealed_payload, const struct key_split *split, char **out) {
        uint8_t *vault = NULL, *plain = NULL;
        size_t size = 0;
        int ret = payload_vault_key(vault_path, false, &vault);

        if (ret >= 0)
                ret = aead_open(vault, sealed_payload, &plain, &size);
        if (ret >= 0)
                ret = key_split_seal(split, plain, size, out);
        if (plain)
                OPENSSL_secure_clear_free(plain, size + 1);
        if (vault)
                OPENSSL_secure_clear_free(vault, AEAD_KEY_SIZE);
        return ret;
}

int release_keys_prepare(const char *vault_path, const char *sealed_payload, const char *agent_id, const char *pubkey_pem,
                         struct release_keys **out) {
        struct release_keys *r = calloc(1, sizeof(*r));
        _cleanup_(freep) char *u = NULL;
        _cleanup_(freep) char *v = NULL;
        _cleanup_(freep) char *payload = NULL;
        EVP_PKEY *pubkey = NULL;
        BIO *bio;
        int ret;

        if (!r)
                return -ENOMEM;
        bio = BIO_new_mem_buf(pubkey_pem, (int)strnlen(pubkey_pem, PUBKEY_PEM_MAX));
        pubkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        ret = pubkey ? 0 : vm_error(-EBADMSG, "the agent's pubkey is not a PEM public key");
        if (ret >= 0)
                ret = key_split_new(agent_id, &r->split);
        if (ret >= 0)
                ret = key_half_wrap(pubkey, r->split->u, &u);
        if (ret >= 0)
                ret = key_half_wrap(pubkey, r->split->v, &v);
        if (ret >= 0 && sealed_payload)
                ret = reseal_payload(vault_path, sealed_payload, r->split, &payload);
        if (ret >= 0)
                ret = random_challenge(r->challenge);
        if (ret >= 0 && (asprintf(&r->ukey_body, "{\"encrypted_key\":\"%s\",\"auth_tag\":\"%s\"%s%s%s}", u,
                                  r->split->auth_tag, payload ? ",\"payload\":\"" : "", payload ? payload : "",
                                  payload ? "\"" : "") < 0 ||
                         asprintf(&r->vkey_body, "{\"encrypted_key\":\"%s\"}", v) < 0))
                ret = -ENOMEM;
        EVP_PKEY_free(pubkey);
        if (ret < 0) {
                release_keys_free(r);
                return ret;
        }
        *out = r;
        return 0;
}

void release_keys_free(struct release_keys *r) {
        if (!r)
                return;
        key_split_free(r->split);
        free(r->ukey_body);
        free(r->vkey_body);
        free(r);
}

bool release_keys_verify(const struct release_keys *r, const char *hmac) {
        char want[AUTH_TAG_HEX_SIZE];
        bool ok = auth_tag_compute(r->split->k, KEY_SPLIT_SIZE, r->challenge, want) >= 0 && hmac &&
                  auth_tag_equal(want, hmac);

        OPENSSL_cleanse(want, sizeof(want));
        return ok;
}
