/* Fuzzes the agent's key release (agent/keys.h, docs/protocol.md §3) with the bodies of POST /keys/ukey and
 * /keys/vkey and the challenge of GET /keys/verify, in a fuzz-chosen order, against a real
 * RSA-2048 payload key. The input is a script of steps (step_*): raw strings as a peer sends
 * them, or halves the harness wraps to the payload key the way a tenant does (so that both
 * halves, the auth_tag and the payload are reached, not only the base64 and RSA errors).
 * Invariants:
 *   - K is never complete unless HMAC-SHA384(K, agent id), computed here with OpenSSL alone,
 *     is the auth_tag that came with U (an attacker cannot make the agent accept a K);
 *   - a payload that came with U was opened whenever K is complete;
 *   - while every accepted half is one the harness wrapped, the agent's state is exactly what
 *     a model of docs/protocol.md §3 predicts: the same verdicts, the same K, the same payload, the same
 *     GET /keys/verify HMAC;
 *   - nothing leaks (LeakSanitizer: the secure heap is left off here, so that U, V, K and the
 *     payload come from malloc, where LeakSanitizer sees them). */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/keys.h"
#include "agent/payload_key.h"
#include "lib/aead.h"
#include "lib/log.h"
#include "tests/fuzz/input.h"

#define AGENT_ID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define STEPS_MAX 12 /* each wrapped half costs an RSA-2048 decryption */
#define TAG_HEX 96

static struct payload_key payload_key;

/* A payload the harness sealed (under `key`, which may not be the K it comes with). */
struct sealed {
        bool sealed;
        uint8_t key[KEY_HALF_SIZE];
        uint8_t plain[256];
        size_t plain_size;
};

/* What docs/protocol.md §3 says the agent holds: the halves, the auth_tag and payload that came with U, K. */
struct model {
        bool lost; /* a raw encrypted_key decrypted: the halves are no longer known here */
        bool have_u, have_v, complete;
        uint8_t u[KEY_HALF_SIZE], v[KEY_HALF_SIZE], k[KEY_HALF_SIZE];
        char tag[TAG_HEX + 1];
        bool has_payload;
        struct sealed payload;
        /* the tenant's side: the V it sent last, which its next U is paired with */
        uint8_t tenant_v[KEY_HALF_SIZE];
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        EVP_PKEY *key = EVP_RSA_gen(2048);

        log_setup("fuzz-key-release", LOG_LEVEL_ERROR);
        if (!key || payload_key_adopt(&payload_key, key) < 0)
                abort();
        return 0;
}

static void hmac_hex(const uint8_t k[KEY_HALF_SIZE], const char *message, char out[TAG_HEX + 1]) {
        static const char digits[] = "0123456789abcdef";
        uint8_t mac[48];
        unsigned mac_size = 0;

        if (!HMAC(EVP_sha384(), k, KEY_HALF_SIZE, (const uint8_t *)message, strlen(message), mac, &mac_size) ||
            mac_size != sizeof(mac))
                abort();
        for (unsigned i = 0; i < sizeof(mac); i++) {
                out[2 * i] = digits[mac[i] >> 4];
                out[2 * i + 1] = digits[mac[i] & 0xf];
        }
        out[TAG_HEX] = '\0';
}

/* docs/protocol.md §3: a tag is hex, compared case-insensitively (upper-case hex digits only). */
static bool tag_matches(const char *received, const uint8_t k[KEY_HALF_SIZE]) {
        char expected[TAG_HEX + 1];

        if (strlen(received) != TAG_HEX)
                return false;
        hmac_hex(k, AGENT_ID, expected);
        for (size_t i = 0; i < TAG_HEX; i++) {
                char c = received[i] >= 'A' && received[i] <= 'F' ? (char)(received[i] | 0x20) : received[i];

                if (c != expected[i])
                        return false;
        }
        return true;
}

/* A half as the tenant sends it: RSA-OAEP (SHA-1, MGF1-SHA-1) to the payload key, base64. */
static char *wrap_half(const uint8_t half[KEY_HALF_SIZE]) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(payload_key.key, NULL);
        uint8_t wrapped[512];
        size_t wrapped_size = sizeof(wrapped);
        char *b64 = malloc(4 * ((sizeof(wrapped) + 2) / 3) + 1);

        if (!ctx || !b64 || EVP_PKEY_encrypt_init(ctx) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) <= 0 ||
            EVP_PKEY_encrypt(ctx, wrapped, &wrapped_size, half, KEY_HALF_SIZE) <= 0)
                abort();
        EVP_PKEY_CTX_free(ctx);
        EVP_EncodeBlock((unsigned char *)b64, wrapped, (int)wrapped_size);
        return b64;
}

/* keys.c's combine(), as docs/protocol.md §3 states it: K = U xor V must authenticate, then the payload
 * must open under K; either failure drops both halves. */
static int model_combine(struct model *m) {
        uint8_t k[KEY_HALF_SIZE];

        if (!m->have_u || !m->have_v)
                return 0;
        for (size_t i = 0; i < KEY_HALF_SIZE; i++)
                k[i] = m->u[i] ^ m->v[i];
        m->have_u = m->have_v = false;
        if (!tag_matches(m->tag, k))
                return -EPERM;
        if (m->has_payload && !(m->payload.sealed && memcmp(m->payload.key, k, KEY_HALF_SIZE) == 0))
                return -EPERM; /* or -EBADMSG: aead_open tells a malformed payload apart */
        memcpy(m->k, k, KEY_HALF_SIZE);
        m->complete = true;
        return 0;
}

/* The agent's verdict on a step must be the model's: both succeed, or both fail (with the
 * model's code, where the model can tell it). */
static void expect_verdict(int got, int want, bool exact) {
        if ((got < 0) != (want < 0))
                abort();
        if (want < 0 && exact && got != want)
                abort();
        if (want == -EPERM && got != -EPERM && got != -EBADMSG)
                abort();
}

/* The invariants that hold whatever the script did. */
static void check_state(const struct key_release *kr, const struct model *m) {
        if (key_release_complete(kr)) {
                if (!tag_matches(kr->auth_tag, kr->k->data))
                        abort(); /* K is in use without having authenticated */
                if (kr->payload_b64 && !kr->payload)
                        abort(); /* K complete, its payload never opened */
        }
        if (m->lost)
                return;
        if (key_release_complete(kr) != m->complete)
                abort();
        if (m->complete) {
                if (memcmp(kr->k->data, m->k, KEY_HALF_SIZE) != 0)
                        abort();
                if (m->has_payload && (kr->payload->size != m->payload.plain_size ||
                                       memcmp(kr->payload->data, m->payload.plain, m->payload.plain_size) != 0))
                        abort();
                if (!m->has_payload && kr->payload)
                        abort();
        }
}

/* POST /keys/ukey with strings as any peer may send them. */
static void step_raw_ukey(struct key_release *kr, struct model *m, struct fuzz_input *in) {
        char *encrypted_key = fuzz_string(in, 2048), *tag = fuzz_string(in, 200);
        bool with_payload = fuzz_byte(in) & 1;
        char *payload = fuzz_string(in, 4096);
        int ret = key_release_ukey(kr, encrypted_key, tag, with_payload ? payload : NULL);

        /* a half decrypts only if it was encrypted to the payload key, which random text is not;
         * should it happen anyway, the model no longer knows U */
        if (ret >= 0 || ret == -EPERM)
                m->lost = true;
        else if (ret != -EBADMSG)
                abort();
        free(encrypted_key), free(tag), free(payload);
}

/* POST /keys/vkey with a string as any peer may send it. */
static void step_raw_vkey(struct key_release *kr, struct model *m, struct fuzz_input *in) {
        char *encrypted_key = fuzz_string(in, 2048);
        int ret = key_release_vkey(kr, encrypted_key);

        if (ret >= 0 || ret == -EPERM)
                m->lost = true;
        else if (ret != -EBADMSG)
                abort();
        free(encrypted_key);
}

/* The tag that comes with a wrapped U: the right one for K = U xor the tenant's V (in
 * lower or upper case), one with a digit changed, or any string. */
static void choose_tag(struct fuzz_input *in, const uint8_t k[KEY_HALF_SIZE], char **tag) {
        uint8_t how = fuzz_byte(in);
        char right[TAG_HEX + 1];

        hmac_hex(k, AGENT_ID, right);
        switch (how % 4) {
        case 0:
                *tag = strdup(right);
                break;
        case 1: { /* docs/protocol.md §3's hex is case-insensitive: upper-case the digits the next byte picks */
                uint8_t upper = fuzz_byte(in);

                for (size_t i = 0; i < TAG_HEX; i++)
                        if (right[i] >= 'a' && right[i] <= 'f' && (upper >> (i % 8) & 1))
                                right[i] = (char)(right[i] - 0x20);
                *tag = strdup(right);
                break;
        }
        case 2:
                right[fuzz_byte(in) % TAG_HEX] ^= (char)(1 + fuzz_byte(in) % 0x7f);
                *tag = strdup(right);
                break;
        default:
                *tag = fuzz_string(in, 200);
        }
        if (!*tag)
                abort();
}

/* The payload that comes with a wrapped U: none, sealed under the K the tenant means (or
 * under another key), or any string. */
static char *choose_payload(struct fuzz_input *in, const uint8_t k[KEY_HALF_SIZE], struct sealed *sealed) {
        uint8_t how = fuzz_byte(in);
        char *payload = NULL;

        memset(sealed, 0, sizeof(*sealed));
        switch (how % 4) {
        case 0:
                return NULL;
        case 1:
        case 2:
                memcpy(sealed->key, k, KEY_HALF_SIZE);
                if (how % 4 == 2)
                        sealed->key[fuzz_byte(in) % KEY_HALF_SIZE] ^= 1;
                sealed->plain_size = fuzz_byte(in) % (sizeof(sealed->plain) + 1);
                fuzz_bytes(in, sealed->plain, sealed->plain_size);
                if (aead_seal(sealed->key, sealed->plain, sealed->plain_size, &payload) < 0)
                        abort();
                sealed->sealed = true;
                return payload;
        default:
                return fuzz_string(in, 4096);
        }
}

/* POST /keys/ukey as a tenant makes it. */
static void step_wrapped_ukey(struct key_release *kr, struct model *m, struct fuzz_input *in) {
        uint8_t u[KEY_HALF_SIZE], k[KEY_HALF_SIZE];
        char *encrypted_key, *tag = NULL, *payload;
        struct sealed sealed;
        int ret, want = 0;

        fuzz_bytes(in, u, sizeof(u));
        for (size_t i = 0; i < KEY_HALF_SIZE; i++)
                k[i] = u[i] ^ m->tenant_v[i];
        encrypted_key = wrap_half(u);
        choose_tag(in, k, &tag);
        payload = choose_payload(in, k, &sealed);

        ret = key_release_ukey(kr, encrypted_key, tag, payload);
        if (strlen(tag) != TAG_HEX)
                want = -EBADMSG; /* refused before anything changes */
        else {
                memcpy(m->u, u, sizeof(u));
                m->have_u = true;
                m->complete = false;
                memcpy(m->tag, tag, TAG_HEX + 1);
                m->has_payload = payload != NULL;
                m->payload = sealed;
                want = model_combine(m);
        }
        if (!m->lost)
                expect_verdict(ret, want, want == -EBADMSG);
        free(encrypted_key), free(tag), free(payload);
}

/* POST /keys/vkey as a tenant makes it: the V its last U was paired with, or a new one. */
static void step_wrapped_vkey(struct key_release *kr, struct model *m, struct fuzz_input *in) {
        char *encrypted_key;
        int ret, want;

        if (fuzz_byte(in) & 1)
                fuzz_bytes(in, m->tenant_v, sizeof(m->tenant_v));
        encrypted_key = wrap_half(m->tenant_v);
        ret = key_release_vkey(kr, encrypted_key);
        memcpy(m->v, m->tenant_v, sizeof(m->v));
        m->have_v = true;
        want = model_combine(m);
        if (!m->lost)
                expect_verdict(ret, want, false);
        free(encrypted_key);
}

/* GET /keys/verify?challenge=... */
static void step_verify(struct key_release *kr, struct model *m, struct fuzz_input *in) {
        char *challenge = fuzz_string(in, 100), hmac[97], want[TAG_HEX + 1];
        int ret = key_release_verify(kr, challenge, hmac);

        if (!key_release_complete(kr)) {
                if (ret != -EAGAIN)
                        abort();
        } else if (!*challenge || strlen(challenge) > 64) {
                if (ret != -EBADMSG)
                        abort();
        } else {
                hmac_hex(kr->k->data, challenge, want);
                if (ret < 0 || strcmp(hmac, want) != 0)
                        abort();
        }
        free(challenge);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        struct key_release kr;
        struct model m = { 0 };

        key_release_init(&kr, &payload_key, AGENT_ID);
        for (unsigned step = 0; step < STEPS_MAX && !fuzz_input_empty(&in); step++) {
                switch (fuzz_byte(&in) % 5) {
                case 0:
                        step_raw_ukey(&kr, &m, &in);
                        break;
                case 1:
                        step_raw_vkey(&kr, &m, &in);
                        break;
                case 2:
                        step_wrapped_ukey(&kr, &m, &in);
                        break;
                case 3:
                        step_wrapped_vkey(&kr, &m, &in);
                        break;
                default:
                        step_verify(&kr, &m, &in);
                }
                check_state(&kr, &m);
        }
        key_release_done(&kr);
        return 0;
}
