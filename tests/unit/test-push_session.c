/* push_session: the push model's sessions (Keylime's tpm_pop) against a hostile agent. An AK
 * made in software signs TPM2_Certify attestations built here, so that each check of the proof
 * fails on its own: every truncation of the attestation and of the signature, another
 * challenge, another certified key, another signer, another attestation type, a forged magic.
 * A failed proof closes its session (one proof per challenge) and gives no token; tokens that
 * are truncated, extended or of another session authenticate no one; a full table evicts the
 * oldest open challenge, never a proved session while open ones remain. */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "lib/tpm2b.h"
#include "verifier/push_session.h"

#define AK_ATTRIBUTES                                                                                      \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |                \
         TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)
#define NOW 1750000000

struct fixture {
        EVP_PKEY *ak_key, *other_key;
        TPM2B_PUBLIC ak, other;
        struct push_sessions sessions;
};

static void rsa_public(EVP_PKEY *key, TPM2B_PUBLIC *pub) {
        BIGNUM *n = NULL;

        memset(pub, 0, sizeof(*pub));
        pub->publicArea.type = TPM2_ALG_RSA;
        pub->publicArea.nameAlg = TPM2_ALG_SHA256;
        pub->publicArea.objectAttributes = AK_ATTRIBUTES;
        pub->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        pub->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        pub->publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        pub->publicArea.parameters.rsaDetail.keyBits = 2048;
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        assert_int_equal(BN_bn2binpad(n, pub->publicArea.unique.rsa.buffer, 256), 256);
        pub->publicArea.unique.rsa.size = 256;
        BN_free(n);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        f->ak_key = EVP_RSA_gen(2048);
        f->other_key = EVP_RSA_gen(2048);
        rsa_public(f->ak_key, &f->ak);
        rsa_public(f->other_key, &f->other);
        assert_int_equal(push_sessions_init(&f->sessions, 60, 180), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        push_sessions_done(&f->sessions);
        EVP_PKEY_free(f->ak_key), EVP_PKEY_free(f->other_key);
        free(f);
        return 0;
}

/* One proof: the TPMS_ATTEST and who signs it; each test changes one thing. */
struct proof {
        TPMS_ATTEST attest;
        EVP_PKEY *signer;
        uint8_t attest_bytes[1024], signature_bytes[1024];
        size_t attest_size, signature_size;
};

static void proof_good(struct fixture *f, const struct push_session *session, struct proof *p) {
        memset(p, 0, sizeof(*p));
        p->signer = f->ak_key;
        p->attest.magic = TPM2_GENERATED_VALUE;
        p->attest.type = TPM2_ST_ATTEST_CERTIFY;
        assert_int_equal(tpm2b_public_name(&f->ak, &p->attest.qualifiedSigner), 0);
        p->attest.extraData.size = PUSH_CHALLENGE_SIZE;
        memcpy(p->attest.extraData.buffer, session->challenge, PUSH_CHALLENGE_SIZE);
        assert_int_equal(tpm2b_public_name(&f->ak, &p->attest.attested.certify.name), 0);
        p->attest.attested.certify.qualifiedName = p->attest.attested.certify.name;
}

static void proof_sign(struct proof *p) {
        uint8_t sig[512];
        size_t sig_size = sizeof(sig);
        TPMT_SIGNATURE signature = { .sigAlg = TPM2_ALG_RSASSA };
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        assert_int_equal(tpms_attest_marshal(&p->attest, p->attest_bytes, sizeof(p->attest_bytes), &p->attest_size), 0);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, p->signer), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &sig_size, p->attest_bytes, p->attest_size), 1);
        EVP_MD_CTX_free(ctx);
        signature.signature.rsassa.hash = TPM2_ALG_SHA256;
        signature.signature.rsassa.sig.size = (UINT16)sig_size;
        memcpy(signature.signature.rsassa.sig.buffer, sig, sig_size);
        assert_int_equal(tpmt_signature_marshal(&signature, p->signature_bytes, sizeof(p->signature_bytes),
                                                &p->signature_size),
                         0);
}

static struct push_session *open_session(struct fixture *f, const char *agent_id, int64_t now) {
        struct push_session *session = NULL;

        assert_int_equal(push_session_open(&f->sessions, agent_id, now, &session), 0);
        assert_non_null(session);
        return session;
}

/* Opens a session, proves it with `p` as changed by `change`; the token or "" */
static int prove(struct fixture *f, void (*change)(struct fixture *f, struct proof *p), size_t attest_size,
                 size_t signature_size, char token[PUSH_TOKEN_MAX + 1]) {
        struct push_session *session = open_session(f, "agent-1", NOW);
        char id[PUSH_SESSION_ID_SIZE + 1];
        struct proof p;
        int ret;

        snprintf(id, sizeof(id), "%s", session->id);
        proof_good(f, session, &p);
        if (change)
                change(f, &p);
        proof_sign(&p);
        token[0] = '\0';
        vm_error_clear();
        ret = push_session_prove(&f->sessions, session, &f->ak, p.attest_bytes,
                                 attest_size ? attest_size : p.attest_size, p.signature_bytes,
                                 signature_size ? signature_size : p.signature_size, NOW + 1, token);
        if (ret < 0) {
                /* one proof per challenge: the session is gone, and no token came out */
                assert_null(push_session_find(&f->sessions, id, NOW + 1));
                assert_null(push_session_agent(&f->sessions, token, NOW + 1));
        }
        return ret;
}

static void genuine_proof_gives_token(void **state) {
        struct fixture *f = *state;
        char token[PUSH_TOKEN_MAX + 1];

        assert_int_equal(prove(f, NULL, 0, 0, token), 0);
        assert_int_equal(strlen(token), PUSH_SESSION_ID_SIZE + 1 + 64);
        assert_string_equal(push_session_agent(&f->sessions, token, NOW + 2), "agent-1");
        assert_null(push_session_agent(&f->sessions, token, NOW + 1 + 180));
}

static void every_truncation_refused(void **state) {
        struct fixture *f = *state;
        char token[PUSH_TOKEN_MAX + 1];
        struct proof p;
        struct push_session *session = open_session(f, "agent-1", NOW);

        proof_good(f, session, &p);
        proof_sign(&p);
        push_session_end_agent(&f->sessions, "agent-1");
        for (size_t n = 1; n < p.attest_size; n++) {
                int ret = prove(f, NULL, n, 0, token);

                assert_true(ret == -EBADMSG || ret == -EPERM);
                assert_true(vm_error_detail(ret)[0]);
        }
        for (size_t n = 1; n < p.signature_size; n++) {
                int ret = prove(f, NULL, 0, n, token);

                assert_true(ret == -EBADMSG || ret == -EPERM);
        }
}

static void other_challenge(struct fixture *f, struct proof *p) {
        (void)f;
        p->attest.extraData.buffer[0] ^= 1;
}
static void challenge_short(struct fixture *f, struct proof *p) {
        (void)f;
        p->attest.extraData.size = PUSH_CHALLENGE_SIZE - 1;
}
static void other_key_certified(struct fixture *f, struct proof *p) {
        assert_int_equal(tpm2b_public_name(&f->other, &p->attest.attested.certify.name), 0);
}
static void other_signer(struct fixture *f, struct proof *p) {
        p->signer = f->other_key;
}
static void quote_type(struct fixture *f, struct proof *p) {
        (void)f;
        p->attest.type = TPM2_ST_ATTEST_QUOTE;
        memset(&p->attest.attested, 0, sizeof(p->attest.attested)); /* an empty PCR selection */
}
static void forged_magic(struct fixture *f, struct proof *p) {
        (void)f;
        p->attest.magic = 0x12345678;
}

static void each_check_refuses(void **state) {
        static const struct {
                void (*change)(struct fixture *f, struct proof *p);
                const char *word;
        } cases[] = {
                { other_challenge, "challenge" },      { challenge_short, "challenge" },
                { other_key_certified, "certified" },  { other_signer, "signature" },
                { quote_type, "TPM2_Certify" },        { forged_magic, "TPM-generated" },
        };
        struct fixture *f = *state;
        char token[PUSH_TOKEN_MAX + 1];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int ret = prove(f, cases[i].change, 0, 0, token);

                assert_int_equal(ret, -EPERM);
                assert_detail_contains(ret, cases[i].word);
        }
}

/* a second proof over a challenge already tried: not found (the server answers 404) */
static void one_proof_per_challenge(void **state) {
        struct fixture *f = *state;
        struct push_session *session = open_session(f, "agent-1", NOW);
        char id[PUSH_SESSION_ID_SIZE + 1], token[PUSH_TOKEN_MAX + 1];
        struct proof p;

        snprintf(id, sizeof(id), "%s", session->id);
        proof_good(f, session, &p);
        p.signer = f->other_key;
        proof_sign(&p);
        assert_true(push_session_prove(&f->sessions, session, &f->ak, p.attest_bytes, p.attest_size, p.signature_bytes,
                                       p.signature_size, NOW, token) < 0);
        assert_null(push_session_find(&f->sessions, id, NOW));
        /* and a challenge that expired cannot be proved */
        session = open_session(f, "agent-1", NOW);
        snprintf(id, sizeof(id), "%s", session->id);
        assert_null(push_session_find(&f->sessions, id, NOW + 60));
}

static void hostile_tokens(void **state) {
        struct fixture *f = *state;
        char token[PUSH_TOKEN_MAX + 1], bad[2 * PUSH_TOKEN_MAX];
        size_t n;

        assert_int_equal(prove(f, NULL, 0, 0, token), 0);
        n = strlen(token);
        for (size_t i = 0; i < n; i++) { /* every truncation */
                snprintf(bad, sizeof(bad), "%.*s", (int)i, token);
                assert_null(push_session_agent(&f->sessions, bad, NOW + 2));
        }
        snprintf(bad, sizeof(bad), "%sa", token);
        assert_null(push_session_agent(&f->sessions, bad, NOW + 2));
        memset(bad, 'a', sizeof(bad) - 1);
        bad[sizeof(bad) - 1] = '\0';
        assert_null(push_session_agent(&f->sessions, bad, NOW + 2));
        for (size_t i = 0; i < n; i++) { /* every byte changed */
                snprintf(bad, sizeof(bad), "%s", token);
                bad[i] = bad[i] == '0' ? '1' : '0';
                assert_null(push_session_agent(&f->sessions, bad, NOW + 2));
        }
        /* the session's id alone, or with an empty secret */
        snprintf(bad, sizeof(bad), "%.*s.", PUSH_SESSION_ID_SIZE, token);
        assert_null(push_session_agent(&f->sessions, bad, NOW + 2));
        assert_string_equal(push_session_agent(&f->sessions, token, NOW + 2), "agent-1");
}

/* A new proof ends the agent's older session; ending the agent ends all. */
static void one_proved_session_per_agent(void **state) {
        struct fixture *f = *state;
        char first[PUSH_TOKEN_MAX + 1], second[PUSH_TOKEN_MAX + 1];

        assert_int_equal(prove(f, NULL, 0, 0, first), 0);
        assert_int_equal(prove(f, NULL, 0, 0, second), 0);
        assert_null(push_session_agent(&f->sessions, first, NOW + 2));
        assert_string_equal(push_session_agent(&f->sessions, second, NOW + 2), "agent-1");
        push_session_end_agent(&f->sessions, "agent-1");
        assert_null(push_session_agent(&f->sessions, second, NOW + 2));
}

/* A flood of open sessions fills the table: the stalest open challenge goes first, and the
 * proved session stays. */
static void full_table_evicts_oldest_challenge(void **state) {
        struct fixture *f = *state;
        char token[PUSH_TOKEN_MAX + 1], newest[PUSH_SESSION_ID_SIZE + 1], oldest[PUSH_SESSION_ID_SIZE + 1];
        struct push_session *s;

        assert_int_equal(prove(f, NULL, 0, 0, token), 0);
        /* the first open challenge is the newest: a table that takes the first open one it finds
         * evicts it, and the agent that just asked for it must start again */
        for (size_t i = 0; i < PUSH_SESSIONS_MAX - 1; i++) {
                s = open_session(f, "flood", NOW + (i == 0 ? 40 : i == 2000 ? 2 : 10));
                if (i == 0)
                        snprintf(newest, sizeof(newest), "%s", s->id);
                if (i == 2000)
                        snprintf(oldest, sizeof(oldest), "%s", s->id);
        }
        open_session(f, "agent-2", NOW + 45);
        assert_string_equal(push_session_agent(&f->sessions, token, NOW + 45), "agent-1");
        assert_non_null(push_session_find(&f->sessions, newest, NOW + 45));
        assert_null(push_session_find(&f->sessions, oldest, NOW + 45));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(genuine_proof_gives_token, setup, teardown),
                cmocka_unit_test_setup_teardown(every_truncation_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(each_check_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(one_proof_per_challenge, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_tokens, setup, teardown),
                cmocka_unit_test_setup_teardown(one_proved_session_per_agent, setup, teardown),
                cmocka_unit_test_setup_teardown(full_table_evicts_oldest_challenge, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
