/* registration_body_parse: the registrar's first look at a POST body from the network. The
 * valid body is the fuzz seed made from a real swtpm's EK, EK certificate and AK. */
#include "tests/unit/unit.h"

#include <json-c/json.h>

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_body),
                cmocka_unit_test(test_hostile_bodies),
                cmocka_unit_test(test_null_and_disabled_are_absent),
        };

        return cmocka_run_group_tests_name("registration_body", tests, NULL, NULL);
}
