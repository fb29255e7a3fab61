/* keys: the agent's half of the key release (docs/protocol.md §3) through agent/keys.h, with halves split
 * and wrapped as the verifier does (lib/key_split.h): U and V in either order, a K that does
 * not authenticate discards both halves, a new U replaces the old one and all derived from it,
 * and the payload is opened only once K authenticated. */
#include "tests/unit/unit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "agent/keys.h"
#include "lib/encoding.h"
#include "lib/key_split.h"

#define AGENT "unit-agent"

static struct payload_key payload_key;

/* What the verifier sends for one release: U (with auth_tag and the sealed payload) and V. */
struct release {
        struct key_split *split;
        char *u, *v, *payload;
};

static int make_payload_key(void **state) {
        EVP_PKEY *key;

        payload_key_secure_heap(); /* the halves, K and the payload in the secure heap, as in the agent */
        key = EVP_RSA_gen(2048);
        return key && payload_key_adopt(&payload_key, key) == 0 ? 0 : -1;
}

static int free_payload_key(void **state) {
        payload_key_free(&payload_key);
        return 0;
}

static struct release release_new(const char *payload) {
        struct release r = { 0 };

        assert_int_equal(key_split_new(AGENT, &r.split), 0);
        assert_int_equal(key_half_wrap(payload_key.key, r.split->u, &r.u), 0);
        assert_int_equal(key_half_wrap(payload_key.key, r.split->v, &r.v), 0);
        if (payload)
                assert_int_equal(key_split_seal(r.split, (const uint8_t *)payload, strlen(payload), &r.payload), 0);
        return r;
}

static void release_free(struct release *r) {
        key_split_free(r->split);
        free(r->u);
        free(r->v);
        free(r->payload);
}

/* RSA-OAEP (SHA-1) of any bytes to the payload key, base64: a half of the wrong size. */
static char *wrap(const uint8_t *bytes, size_t size) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(payload_key.key, NULL);
        uint8_t wrapped[512];
        size_t wrapped_size = sizeof(wrapped);

        assert_non_null(ctx);
        assert_true(EVP_PKEY_encrypt_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
                    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) > 0 &&
                    EVP_PKEY_encrypt(ctx, wrapped, &wrapped_size, bytes, size) > 0);
        EVP_PKEY_CTX_free(ctx);
        return base64_encode(wrapped, wrapped_size);
}

static void assert_released(const struct key_release *kr, const struct release *r, const char *payload) {
        char got[AUTH_TAG_HEX_SIZE], want[AUTH_TAG_HEX_SIZE];

        assert_true(key_release_complete(kr));
        assert_null(kr->u);
        assert_null(kr->v); /* K kept, the halves wiped */
        assert_non_null(kr->k);
        assert_int_equal(kr->k->size, KEY_HALF_SIZE);
        assert_memory_equal(kr->k->data, r->split->k, KEY_HALF_SIZE);
        assert_int_equal(key_release_verify(kr, "challenge-1", got), 0);
        assert_int_equal(auth_tag_compute(r->split->k, KEY_SPLIT_SIZE, "challenge-1", want), 0);
        assert_string_equal(got, want);
        if (!payload) {
                assert_null(kr->payload);
                return;
        }
        assert_non_null(kr->payload);
        assert_int_equal(kr->payload->size, strlen(payload));
        assert_memory_equal(kr->payload->data, payload, strlen(payload));
        assert_int_equal(kr->payload->data[kr->payload->size], 0);
}

static void test_u_then_v(void **state) {
        struct release r = release_new("luks-passphrase");
        struct key_release kr;
        char out[AUTH_TAG_HEX_SIZE];

        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_ukey(&kr, r.u, r.split->auth_tag, r.payload), 0);
        /* U alone: nothing derived, nothing opened */
        assert_false(key_release_complete(&kr));
        assert_non_null(kr.u);
        assert_null(kr.k);
        assert_null(kr.payload);
        assert_error(key_release_verify(&kr, "challenge-1", out), -EAGAIN, "not known");
        assert_int_equal(key_release_vkey(&kr, r.v), 0);
        assert_released(&kr, &r, "luks-passphrase");
        key_release_done(&kr);
        assert_null(kr.k);
        release_free(&r);
}

static void test_v_then_u(void **state) {
        struct release r = release_new("luks-passphrase");
        struct release bare = release_new(NULL);
        struct key_release kr;

        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_vkey(&kr, r.v), 0);
        assert_false(key_release_complete(&kr));
        assert_non_null(kr.v);
        assert_int_equal(key_release_ukey(&kr, r.u, r.split->auth_tag, r.payload), 0);
        assert_released(&kr, &r, "luks-passphrase");
        key_release_done(&kr);
        /* a release without a payload: K only */
        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_vkey(&kr, bare.v), 0);
        assert_int_equal(key_release_ukey(&kr, bare.u, bare.split->auth_tag, NULL), 0);
        assert_released(&kr, &bare, NULL);
        key_release_done(&kr);
        release_free(&r);
        release_free(&bare);
}

static void test_wrong_auth_tag_wipes_both_halves(void **state) {
        struct release r = release_new("luks-passphrase");
        struct release other = release_new("luks-passphrase");
        struct key_release kr;
        char tag[AUTH_TAG_HEX_SIZE];

        /* the tag of another K */
        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_ukey(&kr, r.u, other.split->auth_tag, r.payload), 0);
        assert_error(key_release_vkey(&kr, r.v), -EPERM, "auth_tag does not match");
        assert_null(kr.u);
        assert_null(kr.v);
        assert_null(kr.k);
        assert_null(kr.payload);
        assert_false(key_release_complete(&kr));
        /* halves of two different splits (V, then U): both discarded as well */
        assert_int_equal(key_release_vkey(&kr, other.v), 0);
        assert_error(key_release_ukey(&kr, r.u, r.split->auth_tag, r.payload), -EPERM, "auth_tag does not match");
        assert_null(kr.u);
        assert_null(kr.v);
        assert_null(kr.payload);
        /* the tag of this K for another agent */
        assert_int_equal(auth_tag_compute(r.split->k, KEY_SPLIT_SIZE, "another-agent", tag), 0);
        assert_int_equal(key_release_ukey(&kr, r.u, tag, r.payload), 0);
        assert_error(key_release_vkey(&kr, r.v), -EPERM, "auth_tag does not match");
        assert_null(kr.u);
        assert_null(kr.v);
        /* the tenant starts over with a good pair: released */
        assert_int_equal(key_release_ukey(&kr, r.u, r.split->auth_tag, r.payload), 0);
        assert_int_equal(key_release_vkey(&kr, r.v), 0);
        assert_released(&kr, &r, "luks-passphrase");
        key_release_done(&kr);
        release_free(&r);
        release_free(&other);
}

static void test_new_u_replaces_the_old_one(void **state) {
        struct release first = release_new("first-payload");
        struct release second = release_new("second-payload");
        struct key_release kr;

        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_ukey(&kr, first.u, first.split->auth_tag, first.payload), 0);
        assert_int_equal(key_release_ukey(&kr, second.u, second.split->auth_tag, second.payload), 0);
        assert_int_equal(key_release_vkey(&kr, second.v), 0);
        assert_released(&kr, &second, "second-payload");
        /* after a release, a new U drops K and the opened payload until its V comes */
        assert_int_equal(key_release_ukey(&kr, first.u, first.split->auth_tag, first.payload), 0);
        assert_false(key_release_complete(&kr));
        assert_null(kr.k);
        assert_null(kr.payload);
        assert_int_equal(key_release_vkey(&kr, first.v), 0);
        assert_released(&kr, &first, "first-payload");
        key_release_done(&kr);
        release_free(&first);
        release_free(&second);
}

static void test_payload_opened_only_after_k_authenticates(void **state) {
        struct release r = release_new("luks-passphrase");
        struct release other = release_new("sealed-under-another-k");
        struct key_release kr;

        /* the right K, a payload sealed under another: K is not kept, nothing is opened */
        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_ukey(&kr, r.u, r.split->auth_tag, other.payload), 0);
        assert_null(kr.payload);
        assert_error(key_release_vkey(&kr, r.v), -EPERM, "payload");
        assert_false(key_release_complete(&kr));
        assert_null(kr.k);
        assert_null(kr.payload);
        assert_null(kr.u);
        assert_null(kr.v);
        /* a payload that is not base64 */
        assert_int_equal(key_release_ukey(&kr, r.u, r.split->auth_tag, "not base64!"), 0);
        assert_true(key_release_vkey(&kr, r.v) < 0);
        assert_false(key_release_complete(&kr));
        assert_null(kr.payload);
        key_release_done(&kr);
        release_free(&r);
        release_free(&other);
}

static void test_hostile_halves(void **state) {
        struct release r = release_new("luks-passphrase");
        struct key_release kr;
        uint8_t short_half[KEY_HALF_SIZE - 1] = { 1 };
        _cleanup_(freep) char *wrapped_short = wrap(short_half, sizeof(short_half));
        char tag[AUTH_TAG_HEX_SIZE];

        key_release_init(&kr, &payload_key, AGENT);
        assert_int_equal(key_release_ukey(&kr, r.u, r.split->auth_tag, r.payload), 0);
        /* a bad V leaves the U that came */
        assert_error(key_release_vkey(&kr, wrapped_short), -EBADMSG, "a key half is 32");
        assert_error(key_release_vkey(&kr, "AAAA"), -EBADMSG, "does not decrypt");
        assert_error(key_release_vkey(&kr, "not base64!"), -EBADMSG, "encrypted_key");
        assert_error(key_release_vkey(&kr, NULL), -EBADMSG, "missing");
        assert_non_null(kr.u);
        assert_null(kr.v);
        /* a bad U leaves the U that came */
        assert_error(key_release_ukey(&kr, wrapped_short, r.split->auth_tag, r.payload), -EBADMSG, "a key half is 32");
        memset(tag, 'a', sizeof(tag) - 2);
        tag[sizeof(tag) - 2] = '\0';
        assert_error(key_release_ukey(&kr, r.u, tag, r.payload), -EBADMSG, "auth_tag must be 96 hex digits");
        assert_error(key_release_ukey(&kr, r.u, NULL, r.payload), -EBADMSG, "auth_tag");
        assert_int_equal(key_release_vkey(&kr, r.v), 0);
        assert_released(&kr, &r, "luks-passphrase");
        key_release_done(&kr);
        release_free(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_u_then_v),
                cmocka_unit_test(test_v_then_u),
                cmocka_unit_test(test_wrong_auth_tag_wipes_both_halves),
                cmocka_unit_test(test_new_u_replaces_the_old_one),
                cmocka_unit_test(test_payload_opened_only_after_k_authenticates),
                cmocka_unit_test(test_hostile_halves),
        };

        return cmocka_run_group_tests_name("keys", tests, make_payload_key, free_payload_key);
}
