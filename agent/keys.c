#include "agent/keys.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aead.h"
#include "lib/auth_tag.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"

#define ENCRYPTED_KEY_B64_MAX 1024 /* RSA-2048: 256 bytes, 344 in base64 */
#define PAYLOAD_B64_MAX (1u << 20)

void key_release_init(struct key_release *kr, const struct payload_key *pk, const char *agent_id) {
        memset(kr, 0, sizeof(*kr));
        kr->payload_key = pk;
        kr->agent_id = agent_id;
}

void key_release_done(struct key_release *kr) {
        secret_free(kr->u);
        secret_free(kr->v);
        secret_free(kr->k);
        secret_free(kr->payload);
        free(kr->payload_b64);
        OPENSSL_cleanse(kr->auth_tag, sizeof(kr->auth_tag));
        memset(kr, 0, sizeof(*kr));
}

bool key_release_complete(const struct key_release *kr) {
        return kr->k != NULL;
}

/* One key half: base64 -> RSA-OAEP(SHA-1, MGF1-SHA-1, no label) by the payload key (in the TPM or
 * in software) -> exactly 32 bytes, into the secure heap. */
static int decrypt_half(const struct key_release *kr, const char *encrypted_key, struct secret **half) {
        _cleanup_(freep) uint8_t *wrapped = NULL;
        _cleanup_(secret_freep) struct secret *plain = NULL;
        size_t wrapped_size;
        int ret;

        if (!encrypted_key || strlen(encrypted_key) > ENCRYPTED_KEY_B64_MAX)
                return vm_error(-EBADMSG, "encrypted_key is missing or longer than %d bytes", ENCRYPTED_KEY_B64_MAX);
        ret = base64_decode(encrypted_key, strlen(encrypted_key), &wrapped, &wrapped_size);
        if (ret < 0)
                return vm_error(-EBADMSG, "encrypted_key: %s", vm_error_detail(ret));
        /* "" decodes to nothing, and OPENSSL_secure_malloc(0) is NULL without the secure heap:
         * the peer's mistake must not read as the agent out of memory (500) */
        if (wrapped_size == 0)
                return vm_error(-EBADMSG, "encrypted_key is empty");
        ret = payload_key_decrypt(kr->payload_key, wrapped, wrapped_size, &plain);
        if (ret < 0)
                return ret;
        if (plain->size != KEY_HALF_SIZE)
                return vm_error(-EBADMSG, "encrypted_key holds %zu bytes, a key half is %d", plain->size, KEY_HALF_SIZE);
        *half = TAKE_PTR(plain);
        return 0;
}

/* docs/protocol.md §3: the payload is sealed under K (lib/aead.h's layout). */
static int open_payload(struct key_release *kr) {
        int ret = aead_open_secret(kr->k->data, kr->payload_b64, &kr->payload);

        if (ret < 0)
                return vm_error(ret, "payload: %s", vm_error_detail(ret));
        return 0;
}

/* Both halves here: K = U xor V, authenticated by auth_tag, then the payload opened. A K that
 * does not authenticate discards both halves: the tenant sends a fresh pair. */
static int combine(struct key_release *kr) {
        char tag[AUTH_TAG_HEX_SIZE];
        int ret;

        if (!kr->u || !kr->v)
                return 0;
        kr->k = secret_new(KEY_HALF_SIZE);
        if (!kr->k)
                return -ENOMEM;
        for (size_t i = 0; i < KEY_HALF_SIZE; i++)
                kr->k->data[i] = kr->u->data[i] ^ kr->v->data[i];
        ret = auth_tag_compute(kr->k->data, KEY_HALF_SIZE, kr->agent_id, tag);
        if (ret >= 0 && !auth_tag_equal(tag, kr->auth_tag))
                ret = vm_error(-EPERM, "auth_tag does not match U xor V: key halves discarded");
        OPENSSL_cleanse(tag, sizeof(tag));
        if (ret >= 0 && kr->payload_b64)
                ret = open_payload(kr);
        secret_freep(&kr->u);
        secret_freep(&kr->v);
        if (ret < 0) {
                secret_freep(&kr->k);
                return ret;
        }
        log_info("key release: K authenticated%s", kr->payload ? ", payload opened" : "");
        return 0;
}

int key_release_ukey(struct key_release *kr, const char *encrypted_key, const char *auth_tag, const char *payload) {
        _cleanup_(secret_freep) struct secret *u = NULL;
        int ret;

        if (!auth_tag || strlen(auth_tag) != AUTH_TAG_HEX_SIZE - 1)
                return vm_error(-EBADMSG, "auth_tag must be %d hex digits", AUTH_TAG_HEX_SIZE - 1);
        if (payload && strlen(payload) > PAYLOAD_B64_MAX)
                return vm_error(-EBADMSG, "payload longer than %u bytes", PAYLOAD_B64_MAX);
        ret = decrypt_half(kr, encrypted_key, &u);
        if (ret < 0)
                return ret;
        /* a new U (the tenant started over) replaces the old one and everything derived */
        secret_freep(&kr->u);
        secret_freep(&kr->k);
        secret_freep(&kr->payload);
        free(kr->payload_b64);
        kr->payload_b64 = payload ? strdup(payload) : NULL;
        if (payload && !kr->payload_b64)
                return -ENOMEM;
        kr->u = TAKE_PTR(u);
        memcpy(kr->auth_tag, auth_tag, AUTH_TAG_HEX_SIZE);
        return combine(kr);
}

int key_release_vkey(struct key_release *kr, const char *encrypted_key) {
        struct secret *v = NULL;
        int ret = decrypt_half(kr, encrypted_key, &v);

        if (ret < 0)
                return ret;
        secret_free(kr->v);
        kr->v = v;
        return combine(kr);
}

int key_release_verify(const struct key_release *kr, const char *challenge, char out[97]) {
        if (!kr->k)
                return vm_error(-EAGAIN, "K is not known yet");
        if (!challenge || !*challenge || strlen(challenge) > 64)
                return vm_error(-EBADMSG, "challenge must be 1-64 characters");
        return auth_tag_compute(kr->k->data, KEY_HALF_SIZE, challenge, out);
}
