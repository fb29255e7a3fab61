/* agent/first_boot_config.c: the vmattest: object of cloud-init user-data. Every field is
 * checked, every error names its field, defaults fill what is optional, and no error quotes the
 * enrolment token. The CA is made once per run with OpenSSL (a CA and a leaf certificate). */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "agent/first_boot_config.h"

#define TOKEN "group-token-0123456789abcdef"

static char ca_pem[4096], leaf_pem[4096];

/* A self-signed certificate, a CA (basicConstraints CA:TRUE) or not, as PEM into `out`. */
static void make_cert(bool ca, char *out, size_t size) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *cert = X509_new();
        BIO *bio = BIO_new(BIO_s_mem());
        X509V3_CTX ctx;
        X509_EXTENSION *ext;
        char *data;
        long len;

        assert_non_null(key);
        assert_non_null(cert);
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
        X509_set_issuer_name(cert, X509_get_subject_name(cert));
        X509_set_pubkey(cert, key);
        X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        assert_non_null(ext);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
        assert_true(PEM_write_bio_X509(bio, cert));
        len = BIO_get_mem_data(bio, &data);
        assert_true((size_t)len < size);
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
        BIO_free(bio);
        X509_free(cert);
        EVP_PKEY_free(key);
}

static int setup_certs(void **state) {
        make_cert(true, ca_pem, sizeof(ca_pem));
        make_cert(false, leaf_pem, sizeof(leaf_pem));
        return 0;
}

/* The JSON text of an object with `members` (JSON members, comma-separated, may be "") after
 * the required fields, unless `members` starts with '!': then it is the whole object. */
static char *object(const char *members) {
        json_object *ca = json_object_new_string(ca_pem);
        char *text;

        if (members[0] == '!')
                text = strdup(members + 1);
        else
                assert_true(asprintf(&text, "{\"registrar\": \"192.0.2.10:8891\", \"verifier_ca\": %s, \"token\": \"%s\"%s%s}",
                                     json_object_to_json_string(ca), TOKEN, members[0] ? ", " : "", members) >= 0);
        json_object_put(ca);
        return text;
}

static int parse(const char *members, struct first_boot_config *config) {
        _cleanup_(freep) char *text = object(members);

        vm_error_clear();
        return first_boot_config_parse(text, strlen(text), config);
}

/* Parsing fails with -EINVAL and a detail naming `field`, and never the token. */
#define assert_refused(members, field)                                                        \
        do {                                                                                  \
                struct first_boot_config c_;                                                  \
                int r_ = parse((members), &c_);                                               \
                                                                                              \
                assert_int_equal(r_, -EINVAL);                                                \
                assert_detail_contains(r_, (field));                                          \
                if (strstr(vm_error_detail(r_), TOKEN))                                       \
                        fail_msg("the detail quotes the token: %s", vm_error_detail(r_));     \
                assert_null(c_.token);                                                        \
                assert_null(c_.verifier_ca_pem);                                              \
        } while (0)

static void test_required_only(void **state) {
        struct first_boot_config c;

        assert_int_equal(parse("", &c), 0);
        assert_string_equal(c.registrar_host, "192.0.2.10");
        assert_int_equal(c.registrar_port, 8891);
        assert_int_equal(c.verifier_ca_certs, 1);
        assert_string_equal(c.verifier_ca_pem, ca_pem);
        assert_int_equal(c.token->size, strlen(TOKEN));
        assert_memory_equal(c.token->data, TOKEN, strlen(TOKEN));
        assert_string_equal(c.contact_ip, ""); /* the command picks the primary address */
        assert_int_equal(c.agent_id, FIRST_BOOT_ID_EK_HASH);
        assert_int_equal(c.volume_count, 1); /* the root, by default */
        assert_string_equal(c.volumes[0], "root");
        first_boot_config_clear(&c);
        assert_null(c.token);
}

static void test_every_field(void **state) {
        struct first_boot_config c;

        assert_int_equal(parse("\"contact\": \"[2001:db8::33]:9443\", \"agent_id\": \"instance-id\", "
                               "\"volumes\": [\"root\", \"/dev/vdb\", \"/dev/disk/by-id/virtio-data\"]",
                               &c),
                         0);
        assert_string_equal(c.contact_ip, "2001:db8::33");
        assert_int_equal(c.contact_port, 9443);
        assert_int_equal(c.agent_id, FIRST_BOOT_ID_INSTANCE_ID);
        assert_int_equal(c.volume_count, 3);
        assert_string_equal(c.volumes[2], "/dev/disk/by-id/virtio-data");
        first_boot_config_clear(&c);

        assert_int_equal(parse("!{\"registrar\": \"verifier.example.org\", \"verifier_ca\": \"x\", \"token\": \"" TOKEN "\"}", &c),
                         -EINVAL); /* (a CA of "x": refused, see below) */
        assert_int_equal(parse("\"contact\": \"192.0.2.33\", \"agent_id\": \"generate\"", &c), 0);
        assert_string_equal(c.contact_ip, "192.0.2.33");
        assert_int_equal(c.contact_port, 9002);
        assert_int_equal(c.agent_id, FIRST_BOOT_ID_GENERATE);
        first_boot_config_clear(&c);
}

static void test_registrar(void **state) {
        struct first_boot_config c;
        json_object *ca = json_object_new_string(ca_pem);
        char text[8192];

        snprintf(text, sizeof(text), "{\"registrar\": \"registrar.example.org\", \"verifier_ca\": %s, \"token\": \"%s\"}",
                 json_object_to_json_string(ca), TOKEN);
        json_object_put(ca);
        assert_int_equal(first_boot_config_parse(text, strlen(text), &c), 0);
        assert_string_equal(c.registrar_host, "registrar.example.org");
        assert_int_equal(c.registrar_port, 8891);
        first_boot_config_clear(&c);

        assert_refused("!{\"verifier_ca\": \"x\"}", "vmattest.");
        assert_refused("!{\"token\": \"" TOKEN "\"}", "vmattest.registrar: missing");
        assert_refused("!{\"registrar\": \"a b\"}", "vmattest.registrar");
        assert_refused("!{\"registrar\": \"192.0.2.10:0\"}", "vmattest.registrar: port");
        assert_refused("!{\"registrar\": \"192.0.2.10:65536\"}", "vmattest.registrar: port");
        assert_refused("!{\"registrar\": \"2001:db8::1\"}", "vmattest.registrar: an IPv6 address goes in brackets");
        assert_refused("!{\"registrar\": \"[2001:db8::1\"}", "vmattest.registrar");
        assert_refused("!{\"registrar\": \"-bad.example\"}", "vmattest.registrar");
        assert_refused("!{\"registrar\": \"a\\\"b\"}", "vmattest.registrar");
        assert_refused("!{\"registrar\": 8891}", "vmattest.registrar: not a string");
        assert_refused("!{\"registrar\": \"\"}", "vmattest.registrar: empty");
}

static void test_verifier_ca(void **state) {
        char members[9000];
        json_object *s;

        assert_refused("!{\"registrar\": \"192.0.2.10\", \"token\": \"" TOKEN "\"}", "vmattest.verifier_ca: missing");
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"verifier_ca\": \"\", \"token\": \"" TOKEN "\"}",
                       "vmattest.verifier_ca");
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"verifier_ca\": \"not a pem\", \"token\": \"" TOKEN "\"}",
                       "vmattest.verifier_ca: no PEM certificate");
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"verifier_ca\": \"-----BEGIN CERTIFICATE-----\\n!!!!\\n-----END "
                       "CERTIFICATE-----\\n\", \"token\": \"" TOKEN "\"}",
                       "vmattest.verifier_ca: certificate 1 is not valid");
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"verifier_ca\": \"-----BEGIN PRIVATE KEY-----\\n\", \"token\": \"" TOKEN
                       "\"}",
                       "vmattest.verifier_ca: PEM block 1 is not a CERTIFICATE");
        /* a leaf certificate is not a CA */
        s = json_object_new_string(leaf_pem);
        snprintf(members, sizeof(members), "!{\"registrar\": \"192.0.2.10\", \"verifier_ca\": %s, \"token\": \"%s\"}",
                 json_object_to_json_string(s), TOKEN);
        json_object_put(s);
        assert_refused(members, "vmattest.verifier_ca: certificate 1 is not a CA certificate");
        /* the CA, then a leaf: the second is named */
        {
                char both[8192];

                snprintf(both, sizeof(both), "%s%s", ca_pem, leaf_pem);
                s = json_object_new_string(both);
                snprintf(members, sizeof(members), "!{\"registrar\": \"192.0.2.10\", \"verifier_ca\": %s, \"token\": \"%s\"}",
                         json_object_to_json_string(s), TOKEN);
                json_object_put(s);
                assert_refused(members, "certificate 2 is not a CA certificate");
        }
}

static void test_token(void **state) {
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"token\": \"short\"}", "vmattest.token: 5 characters, 16-256");
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"token\": \"" TOKEN "\\u0001\"}",
                       "vmattest.token: character 29 is not printable ASCII");
        assert_refused("!{\"registrar\": \"192.0.2.10\", \"token\": [\"" TOKEN "\"]}", "vmattest.token: not a string");
        {
                char members[512];

                snprintf(members, sizeof(members), "!{\"registrar\": \"192.0.2.10\", \"token\": \"%0257d\"}", 0);
                assert_refused(members, "vmattest.token: 257 characters");
        }
}

static void test_optional_fields(void **state) {
        assert_refused("\"contact\": \"host.example.org:9002\"", "vmattest.contact");
        assert_refused("\"contact\": \"192.0.2.33:x\"", "vmattest.contact: port");
        assert_refused("\"agent_id\": \"uuid\"", "vmattest.agent_id: \"uuid\" is not instance-id, ek-hash or generate");
        assert_refused("\"volumes\": \"root\"", "vmattest.volumes: not a list");
        assert_refused("\"volumes\": []", "vmattest.volumes: 0 entries");
        assert_refused("\"volumes\": [\"root\", \"vdb\"]", "vmattest.volumes[1]: \"vdb\" is not root or a device path");
        assert_refused("\"volumes\": [\"/dev/../etc/passwd\"]", "vmattest.volumes[0]");
        assert_refused("\"volumes\": [\"/dev/vd b\"]", "vmattest.volumes[0]");
        assert_refused("\"volumes\": [\"root\", 1]", "vmattest.volumes[1]: not a string");
        assert_refused("\"volumes\": [\"/dev/vdb\", \"/dev/vdb\"]", "vmattest.volumes[1]: \"/dev/vdb\" is listed twice");
        assert_refused("\"volumes\": [\"/dev/a\",\"/dev/b\",\"/dev/c\",\"/dev/d\",\"/dev/e\",\"/dev/f\",\"/dev/g\",\"/dev/h\","
                       "\"/dev/i\"]",
                       "vmattest.volumes: 9 entries");
        assert_refused("\"registar\": \"typo\"", "vmattest.registar: unknown key");
}

static void test_document(void **state) {
        struct first_boot_config c;
        char *big;

        assert_refused("![\"registrar\"]", "vmattest: not a mapping");
        assert_refused("!null", "vmattest: not a mapping");
        assert_refused("!{\"registrar\": ", "vmattest: not valid JSON");
        assert_refused("!{} {}", "vmattest: not valid JSON");
        assert_refused("!{\"volumes\": [[[[\"root\"]]]]}", "vmattest: not valid JSON");
        /* the hook's trailing newline is fine */
        {
                _cleanup_(freep) char *text = object("");
                _cleanup_(freep) char *line = NULL;

                assert_true(asprintf(&line, "%s\n", text) >= 0);
                assert_int_equal(first_boot_config_parse(line, strlen(line), &c), 0);
                first_boot_config_clear(&c);
        }
        big = calloc(1, FIRST_BOOT_INPUT_MAX + 2);
        assert_non_null(big);
        memset(big, ' ', FIRST_BOOT_INPUT_MAX + 1);
        big[0] = '{';
        big[FIRST_BOOT_INPUT_MAX] = '}';
        vm_error_clear();
        assert_int_equal(first_boot_config_parse(big, FIRST_BOOT_INPUT_MAX + 1, &c), -EINVAL);
        assert_detail_contains(-EINVAL, "bytes of JSON");
        free(big);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_required_only), cmocka_unit_test(test_every_field), cmocka_unit_test(test_registrar),
                cmocka_unit_test(test_verifier_ca),   cmocka_unit_test(test_token),       cmocka_unit_test(test_optional_fields),
                cmocka_unit_test(test_document),
        };
        return cmocka_run_group_tests(tests, setup_certs, NULL);
}
