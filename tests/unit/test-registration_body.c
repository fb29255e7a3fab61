/* registration_body_parse: the registrar's first look at a POST body from the network. The
 * valid body is the fuzz seed made from a real swtpm's EK, EK certificate and AK. */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "lib/encoding.h"
#include "lib/tpm2b.h"
#include "verifier/registration_body.h"

#define VALID_BODY "tests/fuzz/corpus/registration-body/keylime-rsa-with-cert.json"

static json_object *valid_body(void) {
        _cleanup_(freep) uint8_t *text = NULL;
        size_t size;
        json_object *body;

        text = read_vector(VALID_BODY, &size);
        body = json_tokener_parse((const char *)text);
        assert_non_null(body);
        return body;
}

static void test_valid_body(void **state) {
        json_object *body = valid_body();
        struct registration_body reg;

        assert_int_equal(registration_body_parse(body, &reg), 0);
        assert_int_equal(reg.ek.publicArea.type, TPM2_ALG_RSA);
        assert_int_equal(reg.ak.publicArea.type, TPM2_ALG_RSA);
        assert_non_null(reg.ekcert);
        assert_true(reg.ekcert_size > 500);
        assert_null(reg.mtls_cert); /* null in the seed */
        assert_string_equal(reg.ip, "127.0.0.1");
        assert_int_equal(reg.port, 9002);
        registration_body_done(&reg);
        json_object_put(body);
}

/* Applies `change` to a valid body and expects -EBADMSG naming `word`. */
static void expect_refused(void (*change)(json_object *body), const char *word) {
        json_object *body = valid_body();
        struct registration_body reg;

        change(body);
        assert_error(registration_body_parse(body, &reg), -EBADMSG, word);
        json_object_put(body);
}

static void drop_ek(json_object *b) { json_object_object_del(b, "ek_tpm"); }
static void drop_aik(json_object *b) { json_object_object_del(b, "aik_tpm"); }
static void drop_ip(json_object *b) { json_object_object_del(b, "ip"); }
static void ek_number(json_object *b) { json_object_object_add(b, "ek_tpm", json_object_new_int(42)); }
static void port_string(json_object *b) { json_object_object_add(b, "port", json_object_new_string("9002")); }
static void port_zero(json_object *b) { json_object_object_add(b, "port", json_object_new_int(0)); }
static void port_huge(json_object *b) { json_object_object_add(b, "port", json_object_new_int(65536)); }
static void ip_name(json_object *b) { json_object_object_add(b, "ip", json_object_new_string("agent.example")); }
static void ek_not_base64(json_object *b) { json_object_object_add(b, "ek_tpm", json_object_new_string("AQ!=")); }
static void mtls_garbage(json_object *b) { json_object_object_add(b, "mtls_cert", json_object_new_string("not a PEM")); }
static void ekcert_garbage(json_object *b) { json_object_object_add(b, "ekcert", json_object_new_string("AAAA")); }

static void huge_string(json_object *b) {
        char *big = malloc(1 << 20);

        assert_non_null(big);
        memset(big, 'A', (1 << 20) - 1);
        big[(1 << 20) - 1] = '\0';
        json_object_object_add(b, "aik_tpm", json_object_new_string(big));
        free(big);
}

/* a TPM2B_PUBLIC whose size field says more than follows */
static void ek_lying_size(json_object *b) {
        json_object *ek;
        char *text;

        assert_true(json_object_object_get_ex(b, "ek_tpm", &ek));
        text = strdup(json_object_get_string(ek));
        assert_non_null(text);
        memcpy(text, "AQA", 3); /* size 0x0100.. instead of 0x013a */
        json_object_object_add(b, "ek_tpm", json_object_new_string(text));
        free(text);
}

/* the AK in the EK's place: a signing key is no EK */
static void ak_as_ek(json_object *b) {
        json_object *ak;

        assert_true(json_object_object_get_ex(b, "aik_tpm", &ak));
        json_object_object_add(b, "ek_tpm", json_object_new_string(json_object_get_string(ak)));
}

/* the EK in the AK's place: a decryption key is no AK */
static void ek_as_ak(json_object *b) {
        json_object *ek;

        assert_true(json_object_object_get_ex(b, "ek_tpm", &ek));
        json_object_object_add(b, "aik_tpm", json_object_new_string(json_object_get_string(ek)));
}

/* Rewrites the TPM2B_PUBLIC of member `name` with `change`. */
static void change_public(json_object *b, const char *name, void (*change)(TPMT_PUBLIC *pub)) {
        _cleanup_(freep) uint8_t *raw = NULL;
        _cleanup_(freep) char *text = NULL;
        uint8_t out[sizeof(TPM2B_PUBLIC) + 2];
        json_object *member;
        TPM2B_PUBLIC pub;
        size_t size;

        assert_true(json_object_object_get_ex(b, name, &member));
        assert_int_equal(base64_decode(json_object_get_string(member), (size_t)json_object_get_string_len(member), &raw,
                                       &size),
                         0);
        assert_int_equal(tpm2b_public_unmarshal(raw, size, &pub), 0);
        change(&pub.publicArea);
        pub.size = 0; /* marshalled from publicArea */
        assert_int_equal(tpm2b_public_marshal(&pub, out, sizeof(out), &size), 0);
        text = base64_encode(out, size);
        assert_non_null(text);
        json_object_object_add(b, name, json_object_new_string(text));
}

static void exponent_3(TPMT_PUBLIC *pub) { pub->parameters.rsaDetail.exponent = 3; }
static void exponent_65537(TPMT_PUBLIC *pub) { pub->parameters.rsaDetail.exponent = 65537; }
static void rsa_1024(TPMT_PUBLIC *pub) {
        pub->parameters.rsaDetail.keyBits = 1024;
        pub->unique.rsa.size = 128;
}

/* the same attributes, an ECC key on `curve` */
static void ecc_on(TPMT_PUBLIC *pub, const char *openssl_name, TPM2_ECC_CURVE curve) {
        EVP_PKEY *key = EVP_EC_gen(openssl_name);
        BIGNUM *x = NULL, *y = NULL;

        assert_non_null(key);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
        pub->type = TPM2_ALG_ECC;
        memset(&pub->parameters, 0, sizeof(pub->parameters));
        memset(&pub->unique, 0, sizeof(pub->unique));
        pub->parameters.eccDetail.symmetric = (TPMT_SYM_DEF_OBJECT){ .algorithm = TPM2_ALG_AES, .keyBits.aes = 128,
                                                                     .mode.aes = TPM2_ALG_CFB };
        pub->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        pub->parameters.eccDetail.curveID = curve;
        pub->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        pub->unique.ecc.x.size = (UINT16)BN_bn2bin(x, pub->unique.ecc.x.buffer);
        pub->unique.ecc.y.size = (UINT16)BN_bn2bin(y, pub->unique.ecc.y.buffer);
        BN_free(x);
        BN_free(y);
        EVP_PKEY_free(key);
}
static void ecc_p521(TPMT_PUBLIC *pub) { ecc_on(pub, "P-521", TPM2_ECC_NIST_P521); }
static void ecc_p384(TPMT_PUBLIC *pub) { ecc_on(pub, "P-384", TPM2_ECC_NIST_P384); }

/* an AK as tpm_signing_alg = ecdsa makes it: P-256, no symmetric, ECDSA-SHA256 */
static void ecdsa_p256(TPMT_PUBLIC *pub) {
        ecc_on(pub, "P-256", TPM2_ECC_NIST_P256);
        pub->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        pub->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        pub->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
}
static void ak_p521(json_object *b) { change_public(b, "aik_tpm", ecc_p521); }

static void ek_exponent_3(json_object *b) { change_public(b, "ek_tpm", exponent_3); }
static void ak_exponent_3(json_object *b) { change_public(b, "aik_tpm", exponent_3); }
static void ek_rsa_1024(json_object *b) { change_public(b, "ek_tpm", rsa_1024); }
static void ak_rsa_1024(json_object *b) { change_public(b, "aik_tpm", rsa_1024); }
static void ek_p521(json_object *b) { change_public(b, "ek_tpm", ecc_p521); }

/* docs/protocol.md §1 keys the registrar accepts: RSA >= 2048 bits with exponent 65537, ECC P-256 or
 * P-384; the refusal names the key and the rule */
static void test_weak_keys_refused(void **state) {
        json_object *body = valid_body();
        struct registration_body reg;

        expect_refused(ek_exponent_3, "ek_tpm: RSA key with public exponent 3: only 65537 is accepted");
        expect_refused(ak_exponent_3, "aik_tpm: RSA key with public exponent 3: only 65537 is accepted");
        expect_refused(ek_rsa_1024, "ek_tpm: RSA key of 1024 bits (a 128-byte modulus): at least 2048 are required");
        expect_refused(ak_rsa_1024, "aik_tpm: RSA key of 1024 bits (a 128-byte modulus): at least 2048 are required");
        expect_refused(ek_p521, "ek_tpm: ECC key on curve 0x0005: only NIST P-256 and P-384 are accepted");
        /* 65537 written out is the same key as 0 */
        change_public(body, "aik_tpm", exponent_65537);
        change_public(body, "ek_tpm", ecc_p384);
        json_object_object_add(body, "ekcert", NULL);
        assert_int_equal(registration_body_parse(body, &reg), 0);
        registration_body_done(&reg);
        json_object_put(body);
}

/* An ECC AK (an agent with tpm_signing_alg = ecdsa, GCE's ECC AK) registers as an RSA one does;
 * its curve is held to the same rule as an EK's. */
static void test_ecc_ak_accepted(void **state) {
        json_object *body = valid_body();
        struct registration_body reg;

        change_public(body, "aik_tpm", ecdsa_p256);
        assert_int_equal(registration_body_parse(body, &reg), 0);
        assert_int_equal(reg.ak.publicArea.type, TPM2_ALG_ECC);
        assert_int_equal(reg.ak.publicArea.parameters.eccDetail.scheme.scheme, TPM2_ALG_ECDSA);
        registration_body_done(&reg);
        json_object_put(body);
        expect_refused(ak_p521, "aik_tpm: ECC key on curve 0x0005: only NIST P-256 and P-384 are accepted");
}

static void test_hostile_bodies(void **state) {
        expect_refused(drop_ek, "missing ek_tpm");
        expect_refused(drop_aik, "missing aik_tpm");
        expect_refused(drop_ip, "missing ip");
        expect_refused(ek_number, "ek_tpm is not a string");
        expect_refused(port_string, "port");
        expect_refused(port_zero, "port");
        expect_refused(port_huge, "port");
        expect_refused(ip_name, "is not an IPv4 or IPv6 address");
        expect_refused(ek_not_base64, "ek_tpm: base64");
        expect_refused(mtls_garbage, "mtls_cert is not a PEM certificate");
        expect_refused(ekcert_garbage, "ekcert");
        expect_refused(huge_string, "aik_tpm is longer than");
        expect_refused(ek_lying_size, "ek_tpm: TPM2B_PUBLIC");
        expect_refused(ak_as_ek, "not a restricted decryption key");
        expect_refused(ek_as_ak, "aik_tpm: attributes");
}

/* ak_cert (docs/protocol.md, "AK certificate at registration"): the form is checked here, the
 * trust in tests/unit/test-identity_proof.c */
#define GCE_AK_CERT "tests/fixtures/platforms/gce/gce-cos-85-nonce9009/ak_cert.der"

static void set_ak_cert_bytes(json_object *b, const uint8_t *der, size_t size) {
        _cleanup_(freep) char *text = base64_encode(der, size);

        assert_non_null(text);
        json_object_object_add(b, "ak_cert", json_object_new_string(text));
}

static void ak_cert_garbage(json_object *b) { json_object_object_add(b, "ak_cert", json_object_new_string("AAAA")); }
static void ak_cert_empty(json_object *b) { json_object_object_add(b, "ak_cert", json_object_new_string("")); }
static void ak_cert_not_base64(json_object *b) { json_object_object_add(b, "ak_cert", json_object_new_string("MII!")); }
static void ak_cert_number(json_object *b) { json_object_object_add(b, "ak_cert", json_object_new_int(1)); }
static void ak_cert_trailing(json_object *b) {
        size_t size;
        _cleanup_(freep) uint8_t *der = read_vector(GCE_AK_CERT, &size);
        _cleanup_(freep) uint8_t *longer = malloc(size + 1);

        assert_non_null(longer);
        memcpy(longer, der, size);
        longer[size] = 0;
        set_ak_cert_bytes(b, longer, size + 1);
}
static void ak_cert_truncated(json_object *b) {
        size_t size;
        _cleanup_(freep) uint8_t *der = read_vector(GCE_AK_CERT, &size);

        set_ak_cert_bytes(b, der, size / 2);
}
static void ak_cert_oversize(json_object *b) {
        _cleanup_(freep) uint8_t *big = calloc(1, 9000);

        assert_non_null(big);
        set_ak_cert_bytes(b, big, 9000);
}

static void test_ak_cert(void **state) {
        json_object *body = valid_body();
        struct registration_body reg;
        size_t size;
        _cleanup_(freep) uint8_t *der = read_vector(GCE_AK_CERT, &size);

        set_ak_cert_bytes(body, der, size);
        assert_int_equal(registration_body_parse(body, &reg), 0);
        assert_int_equal(reg.ak_cert_size, size);
        assert_memory_equal(reg.ak_cert, der, size);
        registration_body_done(&reg);
        json_object_object_add(body, "ak_cert", NULL);
        assert_int_equal(registration_body_parse(body, &reg), 0);
        assert_null(reg.ak_cert);
        registration_body_done(&reg);
        json_object_put(body);

        expect_refused(ak_cert_garbage, "ak_cert: not a DER X.509 certificate");
        expect_refused(ak_cert_empty, "ak_cert: 0 bytes");
        expect_refused(ak_cert_not_base64, "ak_cert: not base64");
        expect_refused(ak_cert_number, "ak_cert is not a string");
        expect_refused(ak_cert_trailing, "ak_cert: 1 bytes after the certificate");
        expect_refused(ak_cert_truncated, "ak_cert: not a DER X.509 certificate");
        expect_refused(ak_cert_oversize, "ak_cert: 9000 bytes, more than 8192");
}

static void test_null_and_disabled_are_absent(void **state) {
        json_object *body = valid_body();
        struct registration_body reg;

        json_object_object_add(body, "ekcert", NULL);
        json_object_object_add(body, "mtls_cert", json_object_new_string("disabled"));
        assert_int_equal(registration_body_parse(body, &reg), 0);
        assert_null(reg.ekcert);
        assert_null(reg.mtls_cert);
        registration_body_done(&reg);
        json_object_put(body);
}


/* vmattest_enrolment_token: kept as its SHA-256, its text wiped from the body; a token of the
 * wrong form, whatever else the body holds, is refused */
static void test_enrolment_token(void **state) {
        static const char token[] = "eR7kV0bq3xN2mP5sT8wY1zA4cF6hJ9lQ0uX3vB5nD7g";
        json_object *body = valid_body(), *member;
        struct registration_body reg;

        assert_int_equal(registration_body_parse(body, &reg), 0);
        assert_string_equal(reg.enrolment_token_sha256, ""); /* none sent */
        registration_body_done(&reg);
        json_object_object_add(body, "vmattest_enrolment_token", json_object_new_string(token));
        assert_int_equal(registration_body_parse(body, &reg), 0);
        /* printf %s TOKEN | sha256sum */
        assert_string_equal(reg.enrolment_token_sha256, "763a0363b9f7939a0ffd93a6f0f906ac693d56de6c6a89f90bd752c107304142");
        member = json_object_object_get(body, "vmattest_enrolment_token");
        assert_int_equal(json_object_get_string(member)[0], '\0');
        registration_body_done(&reg);
        for (const char *const *bad = (const char *const[]){ "short", "has a space in it, sixteen+", "tab\tin-the-token-text",
                                                            NULL };
             *bad; bad++) {
                json_object_object_add(body, "vmattest_enrolment_token", json_object_new_string(*bad));
                assert_error(registration_body_parse(body, &reg), -EBADMSG, "vmattest_enrolment_token is not 16-256");
        }
        json_object_object_add(body, "vmattest_enrolment_token", json_object_new_int(1));
        assert_error(registration_body_parse(body, &reg), -EBADMSG, "vmattest_enrolment_token");
        json_object_put(body);
}

/* Every byte of a string member is zero (its length unchanged). */
static bool member_wiped(json_object *body, const char *name, size_t size) {
        json_object *member = json_object_object_get(body, name);
        const char *text = json_object_get_string(member);

        if ((size_t)json_object_get_string_len(member) != size)
                return false;
        for (size_t i = 0; i < size; i++)
                if (text[i])
                        return false;
        return true;
}

/* a token refused for its length is wiped all the same: it may be a real one with a stray
 * byte, and is a secret until proven otherwise */
static void test_refused_token_wiped(void **state) {
        char token[300];
        json_object *body = valid_body();
        struct registration_body reg;

        memset(token, 'k', sizeof(token) - 1);
        token[sizeof(token) - 1] = '\0';
        json_object_object_add(body, "vmattest_enrolment_token", json_object_new_string(token));
        assert_error(registration_body_parse(body, &reg), -EBADMSG, "vmattest_enrolment_token is longer than 256");
        assert_true(member_wiped(body, "vmattest_enrolment_token", sizeof(token) - 1));
        /* a NUL inside */
        json_object_object_add(body, "vmattest_enrolment_token", json_object_new_string_len("eR7kV0bq3xN2\0mP5sT8wY1zA4", 25));
        assert_error(registration_body_parse(body, &reg), -EBADMSG, "NUL");
        assert_true(member_wiped(body, "vmattest_enrolment_token", 25));
        json_object_put(body);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_body),
                cmocka_unit_test(test_hostile_bodies),
                cmocka_unit_test(test_null_and_disabled_are_absent),
                cmocka_unit_test(test_ak_cert),
                cmocka_unit_test(test_weak_keys_refused),
                cmocka_unit_test(test_ecc_ak_accepted),
                cmocka_unit_test(test_enrolment_token),
                cmocka_unit_test(test_refused_token_wiped),
        };

        return cmocka_run_group_tests_name("registration_body", tests, NULL, NULL);
}
