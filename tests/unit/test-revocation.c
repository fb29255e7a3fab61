/* agent/revocation.c: a revocation notification as Keylime's verifier sends it (docs/protocol.md
 * §2.8), checked against a certificate made here with OpenSSL: the body read and bounded, the
 * RSA-PSS signature verified, the signed msg a JSON object. Hostile bodies: another key, a byte
 * flipped in msg or in the signature, members missing or of the wrong type, oversize members,
 * text that is not JSON, an unsigned notification, and random mutations of a good body. */
#include "tests/unit/unit.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "agent/revocation.h"
#include "lib/encoding.h"

#define MSG "{\"type\": \"revocation\", \"ip\": \"127.0.0.1\", \"agent_id\": \"d432fbb3-d2f1-4a97-9ef7-75bd81c00000\", " \
            "\"port\": 9002, \"tpm_policy\": \"{}\", \"meta_data\": \"{}\", \"event_time\": \"Mon Jan  5 10:00:00 2026\", " \
            "\"event_id\": \"ima.validation.ima-ng.not_in_allowlist\", \"severity_label\": \"emergency\", " \
            "\"context\": {\"message\": \"File not found in allowlist: /usr/bin/evil\"}}"

/* The tenant's revocation key and its certificate file, another key (a forger's), and
 * certificates the agent must refuse to load. */
static EVP_PKEY *tenant_key, *forger_key;
static char cert_path[64] = "/tmp/vmattest-test-revocation-XXXXXX";
static EVP_PKEY *cert_key; /* what revocation_cert_load() made of cert_path */

/* A self-signed certificate for `key`, written as PEM to a new temporary file (`path`). */
static void write_cert(EVP_PKEY *key, char *path) {
        X509 *cert = X509_new();
        FILE *f;
        int fd;

        assert_non_null(cert);
        assert_int_equal(X509_set_version(cert, 2), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 1), 1);
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 86400));
        assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                                                    (const unsigned char *)"RevocationNotifier", -1, -1, 0),
                         1);
        assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(cert)), 1);
        assert_int_equal(X509_set_pubkey(cert, key), 1);
        assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        assert_int_equal(PEM_write_X509(f, cert), 1);
        fclose(f);
        X509_free(cert);
}

static int setup_group(void **state) {
        tenant_key = EVP_RSA_gen(2048);
        forger_key = EVP_RSA_gen(2048);
        assert_non_null(tenant_key);
        assert_non_null(forger_key);
        write_cert(tenant_key, cert_path);
        assert_int_equal(revocation_cert_load(cert_path, &cert_key), 0);
        return 0;
}

static int teardown_group(void **state) {
        unlink(cert_path);
        EVP_PKEY_free(cert_key);
        EVP_PKEY_free(tenant_key);
        EVP_PKEY_free(forger_key);
        return 0;
}

/* base64(RSA-PSS(SHA-256, MGF1-SHA-256, salt `salt_len`)), as keylime/crypto.py's rsa_sign with
 * RSA_PSS_SALTLEN_MAX (its PSS.MAX_LENGTH). */
static char *sign_salt(EVP_PKEY *key, const char *msg, size_t msg_size, int salt_len) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        uint8_t signature[512];
        size_t signature_size = sizeof(signature);
        char *b64;

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len), 1);
        assert_int_equal(EVP_DigestSign(ctx, signature, &signature_size, (const uint8_t *)msg, msg_size), 1);
        EVP_MD_CTX_free(ctx);
        b64 = base64_encode(signature, signature_size);
        assert_non_null(b64);
        return b64;
}

static char *sign(EVP_PKEY *key, const char *msg) {
        return sign_salt(key, msg, strlen(msg), RSA_PSS_SALTLEN_MAX);
}

/* The body Keylime's verifier POSTs: json.dumps({"msg": msg, "signature": signature}). */
static char *body_of(const char *msg, const char *signature) {
        json_object *body = json_object_new_object();
        char *text;

        json_object_object_add(body, "msg", json_object_new_string(msg));
        json_object_object_add(body, "signature", json_object_new_string(signature));
        text = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_SPACED));
        json_object_put(body);
        assert_non_null(text);
        return text;
}

/* Parse then verify, as the agent API does; 0 or the first error. */
static int check(const char *body, size_t size) {
        struct revocation_message m;
        int ret;

        vm_error_clear();
        ret = revocation_message_parse(body, size, &m);
        if (ret >= 0) {
                ret = revocation_message_verify(&m, cert_key);
                assert_true(ret < 0 || json_object_is_type(m.message, json_type_object));
                revocation_message_done(&m);
        }
        return ret;
}

#define assert_check_fails(body, code, word)                   \
        do {                                                   \
                const char *body_ = (body);                    \
                int ret_ = check(body_, strlen(body_));        \
                assert_int_equal(ret_, (code));                \
                assert_detail_contains(ret_, (word));          \
        } while (0)

static void test_keylime_notification_verifies(void **state) {
        _cleanup_(freep) char *signature = sign(tenant_key, MSG), *body = body_of(MSG, signature);
        struct revocation_message m;
        json_object *agent_id;

        assert_int_equal(revocation_message_parse(body, strlen(body), &m), 0);
        assert_int_equal(m.msg_size, strlen(MSG));
        assert_memory_equal(m.msg, MSG, m.msg_size);
        assert_int_equal(revocation_message_verify(&m, cert_key), 0);
        assert_true(json_object_object_get_ex(m.message, "agent_id", &agent_id));
        assert_string_equal(json_object_get_string(agent_id), "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
        revocation_message_done(&m);
}

/* The salt's length is read from the signature, as rust-keylime does: Keylime's longest salt and
 * a digest-length salt both verify. */
static void test_any_salt_length(void **state) {
        _cleanup_(freep) char *digest_salt = sign_salt(tenant_key, MSG, strlen(MSG), RSA_PSS_SALTLEN_DIGEST);
        _cleanup_(freep) char *no_salt = sign_salt(tenant_key, MSG, strlen(MSG), 0);
        _cleanup_(freep) char *body1 = body_of(MSG, digest_salt), *body2 = body_of(MSG, no_salt);

        assert_int_equal(check(body1, strlen(body1)), 0);
        assert_int_equal(check(body2, strlen(body2)), 0);
}

static void test_wrong_key(void **state) {
        _cleanup_(freep) char *signature = sign(forger_key, MSG), *body = body_of(MSG, signature);

        assert_check_fails(body, -EPERM, "does not verify under revocation_cert's key");
}

/* Every byte of msg, and bytes all along the signature, flipped in turn: never verifies. */
static void test_flipped_byte(void **state) {
        _cleanup_(freep) char *signature = sign(tenant_key, MSG);
        _cleanup_(freep) uint8_t *raw = NULL;
        char msg[sizeof(MSG)];
        size_t raw_size;

        for (size_t i = 0; i < strlen(MSG); i++) {
                _cleanup_(freep) char *body = NULL;

                memcpy(msg, MSG, sizeof(MSG));
                msg[i] ^= 0x01;
                body = body_of(msg, signature);
                assert_check_fails(body, -EPERM, "does not verify");
        }
        assert_int_equal(base64_decode(signature, strlen(signature), &raw, &raw_size), 0);
        assert_int_equal(raw_size, 256);
        for (size_t i = 0; i < raw_size; i += 7) {
                _cleanup_(freep) char *flipped = NULL, *body = NULL;

                raw[i] ^= 0x80;
                flipped = base64_encode(raw, raw_size);
                body = body_of(MSG, flipped);
                assert_check_fails(body, -EPERM, "does not verify");
                raw[i] ^= 0x80;
        }
        /* one byte short, one byte long: the signature's size is the key's */
        {
                _cleanup_(freep) char *shorter = base64_encode(raw, raw_size - 1), *body = body_of(MSG, shorter);

                assert_check_fails(body, -EPERM, "does not verify");
        }
}

static void test_missing_and_mistyped_members(void **state) {
        _cleanup_(freep) char *signature = sign(tenant_key, MSG);
        char body[1024];

        snprintf(body, sizeof(body), "{\"signature\": \"%s\"}", signature);
        assert_check_fails(body, -EBADMSG, "missing msg");
        assert_check_fails("{\"msg\": \"{}\"}", -EBADMSG, "missing signature");
        assert_check_fails("{\"msg\": \"{}\", \"signature\": null}", -EBADMSG, "missing signature");
        assert_check_fails("{\"msg\": {}, \"signature\": \"AAAA\"}", -EBADMSG, "msg is not a string");
        assert_check_fails("{\"msg\": \"{}\", \"signature\": 12}", -EBADMSG, "signature is not a string");
        assert_check_fails("{\"msg\": \"\", \"signature\": \"AAAA\"}", -EBADMSG, "msg is empty");
        assert_check_fails("{\"msg\": \"{}\\u0000{}\", \"signature\": \"AAAA\"}", -EBADMSG, "msg contains a NUL byte");
        /* Keylime without a revocation key sends an empty signature; Python's agent knew "none" */
        assert_check_fails("{\"msg\": \"{}\", \"signature\": \"\"}", -EBADMSG, "is not signed");
        assert_check_fails("{\"msg\": \"{}\", \"signature\": \"none\"}", -EBADMSG, "is not signed");
        assert_check_fails("{\"msg\": \"{}\", \"signature\": \"AA!A\"}", -EBADMSG, "signature:");
        assert_check_fails("{\"msg\": \"{}\", \"signature\": \"AAA\"}", -EBADMSG, "signature:");
}

static void test_oversize(void **state) {
        size_t big = REVOCATION_BODY_MAX + 1;
        _cleanup_(freep) char *body = malloc(big + 1), *long_signature = malloc(REVOCATION_SIGNATURE_MAX + 2);
        _cleanup_(freep) char *signed_body = NULL, *signature = NULL, *msg = NULL;
        char *p;

        assert_non_null(body);
        assert_non_null(long_signature);
        /* a body over the bound: refused before it is parsed */
        p = body + sprintf(body, "{\"msg\": \"");
        memset(p, 'a', big - (size_t)(p - body) - 2);
        strcpy(body + big - 2, "\"}");
        assert_int_equal(strlen(body), big);
        assert_check_fails(body, -EBADMSG, "more than 262144");
        /* a signature over its bound */
        memset(long_signature, 'A', REVOCATION_SIGNATURE_MAX + 1);
        long_signature[REVOCATION_SIGNATURE_MAX + 1] = '\0';
        signed_body = body_of("{}", long_signature);
        assert_check_fails(signed_body, -EBADMSG, "signature is longer than 2048 bytes");
        /* a long message within the bound verifies */
        msg = malloc(200000);
        assert_non_null(msg);
        memset(msg, ' ', 200000);
        msg[0] = '{';
        msg[199998] = '}';
        msg[199999] = '\0';
        signature = sign(tenant_key, msg);
        free(signed_body);
        signed_body = body_of(msg, signature);
        assert_int_equal(check(signed_body, strlen(signed_body)), 0);
}

static void test_not_json(void **state) {
        _cleanup_(freep) char *signature = sign(tenant_key, MSG), *good = body_of(MSG, signature);
        _cleanup_(freep) char *trailing = NULL;
        char deep[64];

        assert_check_fails("", -EBADMSG, "empty body");
        assert_check_fails("not json", -EBADMSG, "not one JSON object");
        assert_check_fails("[\"msg\", \"signature\"]", -EBADMSG, "not one JSON object");
        assert_check_fails("\"msg\"", -EBADMSG, "not one JSON object");
        assert_check_fails("{\"msg\": \"{}\", \"signature\": \"AAAA\"", -EBADMSG, "not one JSON object");
        assert_int_equal(asprintf(&trailing, "%s{}", good), (int)strlen(good) + 2);
        assert_check_fails(trailing, -EBADMSG, "not one JSON object");
        /* nesting past the servers' depth limit */
        memset(deep, '[', 40);
        strcpy(deep + 40, "]");
        assert_check_fails(deep, -EBADMSG, "not one JSON object");
        assert_int_equal(check("{\"msg\": \"{}\", \"signature\": \"AAAA\"}", 5), -EBADMSG); /* cut short */
}

/* A signature that verifies over text that is not one JSON object: signed garbage is still garbage. */
static void test_signed_msg_not_an_object(void **state) {
        static const char *const msgs[] = { "not json", "[1, 2]", "\"text\"", "{} {}", "{\"a\": 1" };

        for (size_t i = 0; i < ELEMENTSOF(msgs); i++) {
                _cleanup_(freep) char *signature = sign(tenant_key, msgs[i]), *body = body_of(msgs[i], signature);

                assert_check_fails(body, -EBADMSG, "msg is signed but is not one JSON object");
        }
}

/* A certificate that carries no usable key is refused when it is loaded, naming the file. */
static void test_cert_load(void **state) {
        char ec_path[64] = "/tmp/vmattest-test-revocation-XXXXXX", small_path[64] = "/tmp/vmattest-test-revocation-XXXXXX";
        char junk_path[64] = "/tmp/vmattest-test-revocation-XXXXXX";
        EVP_PKEY *ec = EVP_EC_gen("P-256"), *small = EVP_RSA_gen(1024), *key = NULL;
        FILE *junk;
        int fd;

        assert_non_null(ec);
        assert_non_null(small);
        write_cert(ec, ec_path);
        write_cert(small, small_path);
        fd = mkstemp(junk_path);
        assert_true(fd >= 0);
        junk = fdopen(fd, "w");
        assert_non_null(junk);
        fputs("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", junk);
        fclose(junk);

        assert_error(revocation_cert_load("/nonexistent/RevocationNotifier-cert.crt", &key), -ENOENT,
                     "revocation_cert /nonexistent/RevocationNotifier-cert.crt does not exist");
        assert_error(revocation_cert_load(ec_path, &key), -EINVAL, "the key is not an RSA key");
        assert_error(revocation_cert_load(small_path, &key), -EINVAL, "an RSA key of 1024 bits, fewer than 2048");
        assert_error(revocation_cert_load(junk_path, &key), -EINVAL, "holds no PEM certificate");
        assert_null(key);
        unlink(ec_path);
        unlink(small_path);
        unlink(junk_path);
        EVP_PKEY_free(ec);
        EVP_PKEY_free(small);
}

/* Random byte flips of a good body: whatever still verifies carries exactly the signed msg. */
static void test_mutations(void **state) {
        _cleanup_(freep) char *signature = sign(tenant_key, MSG), *good = body_of(MSG, signature);
        size_t size = strlen(good);
        _cleanup_(freep) char *body = malloc(size + 1);
        uint64_t prng = FUZZ_SEED;

        assert_non_null(body);
        for (int i = 0; i < FUZZ_ITERATIONS / 4; i++) {
                struct revocation_message m;

                memcpy(body, good, size + 1);
                prng_mutate(&prng, (uint8_t *)body, size);
                if (revocation_message_parse(body, size, &m) < 0)
                        continue;
                if (revocation_message_verify(&m, cert_key) == 0) {
                        assert_int_equal(m.msg_size, strlen(MSG));
                        assert_memory_equal(m.msg, MSG, m.msg_size);
                }
                revocation_message_done(&m);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keylime_notification_verifies),
                cmocka_unit_test(test_any_salt_length),
                cmocka_unit_test(test_wrong_key),
                cmocka_unit_test(test_flipped_byte),
                cmocka_unit_test(test_missing_and_mistyped_members),
                cmocka_unit_test(test_oversize),
                cmocka_unit_test(test_not_json),
                cmocka_unit_test(test_signed_msg_not_an_object),
                cmocka_unit_test(test_cert_load),
                cmocka_unit_test(test_mutations),
        };

        return cmocka_run_group_tests_name("revocation", tests, setup_group, teardown_group);
}
