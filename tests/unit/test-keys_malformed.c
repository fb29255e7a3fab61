/* keys, with the secure heap off: the agent's half of the key release (docs/protocol.md §3)
 * with halves wrapped as a tenant wraps them; a malformed half is the peer's mistake (-EBADMSG, HTTP 400), whatever the heap. The
 * secure heap is left off, as when RLIMIT_MEMLOCK refuses it (payload_key_secure_heap). */
#include "tests/unit/unit.h"

#include <openssl/rsa.h>

#include "agent/keys.h"
#include "lib/aead.h"
#include "lib/auth_tag.h"
#include "lib/encoding.h"

#define AGENT_ID "unit-agent"

static struct payload_key payload_key;

static int setup_group(void **state) {
        EVP_PKEY *key = EVP_RSA_gen(2048);

        assert_non_null(key);
        assert_int_equal(payload_key_adopt(&payload_key, key), 0);
        return 0;
}

static int teardown_group(void **state) {
        payload_key_free(&payload_key);
        return 0;
}

/* RSA-OAEP (SHA-1, MGF1-SHA-1) to the payload key, base64: what the tenant sends. */
static char *wrap_half(const uint8_t half[KEY_HALF_SIZE]) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(payload_key.key, NULL);
        uint8_t wrapped[256];
        size_t wrapped_size = sizeof(wrapped);
        char *b64;

        assert_non_null(ctx);
        assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) > 0);
        assert_true(EVP_PKEY_encrypt(ctx, wrapped, &wrapped_size, half, KEY_HALF_SIZE) > 0);
        EVP_PKEY_CTX_free(ctx);
        b64 = base64_encode(wrapped, wrapped_size);
        assert_non_null(b64);
        return b64;
}

static void test_empty_half_is_malformed(void **state) {
        struct key_release kr;

        key_release_init(&kr, &payload_key, AGENT_ID);
        assert_error(key_release_vkey(&kr, ""), -EBADMSG, "encrypted_key is empty");
        assert_error(key_release_ukey(&kr, "", "0123456789abcdef0123456789abcdef0123456789abcdef"
                                               "0123456789abcdef0123456789abcdef0123456789abcdef", NULL),
                     -EBADMSG, "encrypted_key is empty");
        assert_false(key_release_complete(&kr));
        key_release_done(&kr);
}

static void test_halves_authenticate(void **state) {
        uint8_t u[KEY_HALF_SIZE], v[KEY_HALF_SIZE], k[KEY_HALF_SIZE];
        char tag[AUTH_TAG_HEX_SIZE], hmac[97], want[AUTH_TAG_HEX_SIZE];
        _cleanup_(freep) char *u_b64 = NULL, *v_b64 = NULL, *payload = NULL;
        struct key_release kr;
        uint64_t prng = FUZZ_SEED;

        prng_fill(&prng, u, sizeof(u));
        prng_fill(&prng, v, sizeof(v));
        for (size_t i = 0; i < KEY_HALF_SIZE; i++)
                k[i] = u[i] ^ v[i];
        assert_int_equal(auth_tag_compute(k, sizeof(k), AGENT_ID, tag), 0);
        assert_int_equal(aead_seal(k, (const uint8_t *)"luks-key", 8, &payload), 0);
        u_b64 = wrap_half(u);
        v_b64 = wrap_half(v);

        key_release_init(&kr, &payload_key, AGENT_ID);
        assert_error(key_release_verify(&kr, "abc", hmac), -EAGAIN, "not known");
        assert_int_equal(key_release_ukey(&kr, u_b64, tag, payload), 0);
        assert_false(key_release_complete(&kr));
        assert_int_equal(key_release_vkey(&kr, v_b64), 0);
        assert_true(key_release_complete(&kr));
        assert_int_equal(kr.payload->size, 8);
        assert_memory_equal(kr.payload->data, "luks-key", 8);
        assert_int_equal(key_release_verify(&kr, "abc", hmac), 0);
        assert_int_equal(auth_tag_compute(k, sizeof(k), "abc", want), 0);
        assert_string_equal(hmac, want);
        key_release_done(&kr);

        /* a tag one digit off: both halves dropped, K never known */
        tag[0] = tag[0] == '0' ? '1' : '0';
        key_release_init(&kr, &payload_key, AGENT_ID);
        assert_int_equal(key_release_vkey(&kr, v_b64), 0);
        assert_error(key_release_ukey(&kr, u_b64, tag, payload), -EPERM, "auth_tag does not match");
        assert_false(key_release_complete(&kr));
        key_release_done(&kr);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_half_is_malformed),
                cmocka_unit_test(test_halves_authenticate),
        };

        return cmocka_run_group_tests_name("keys_malformed", tests, setup_group, teardown_group);
}
