/* verifier/hcl_runtime_data.c on the runtime data JSON of Azure's HCL reports
 * (tests/fixtures/platforms/azure): var-data.bin and the variable data of both reports yield the
 * facts of their manifest entries; hostile JSON (no HCLAkPub, duplicate kids, a key of another
 * type, bad base64url, wrong member types, truncated at every length, bytes flipped) is refused
 * with the member named. */
#include "tests/unit/unit.h"

#include <openssl/pem.h>

#include "verifier/hcl_report.h"
#include "verifier/hcl_runtime_data.h"

#define AZURE "tests/fixtures/platforms/azure/"

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)

static EVP_PKEY *load_pem_key(const char *path) {
        _cleanup_(fclosep) FILE *f = fopen(path, "r");
        EVP_PKEY *key;

        assert_non_null(f);
        key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        assert_non_null(key);
        return key;
}

static int parse_text(const char *json, struct hcl_runtime_data *runtime) {
        return hcl_runtime_data_parse((const uint8_t *)json, strlen(json), runtime);
}

/* The text of var-data.bin with the first `from` replaced by `to`, malloc'ed. */
static char *var_data_with(const char *from, const char *to) {
        _cleanup_(freep) uint8_t *text = NULL;
        const char *at;
        char *out;
        size_t size;

        text = read_vector(AZURE "var-data.bin", &size);
        at = strstr((const char *)text, from);
        if (!at)
                fail_msg("var-data.bin has no \"%s\"", from);
        out = malloc(size + strlen(to) + 1);
        assert_non_null(out);
        sprintf(out, "%.*s%s%s", (int)(at - (const char *)text), (const char *)text, to, at + strlen(from));
        return out;
}

#define assert_variant_refused(from, to, word)                                       \
        do {                                                                         \
                _cleanup_(freep) char *json_ = var_data_with((from), (to));          \
                struct hcl_runtime_data runtime_;                                    \
                                                                                     \
                assert_error(parse_text(json_, &runtime_), -EBADMSG, (word));        \
                assert_null(runtime_.ak_public);                                     \
        } while (0)

static void test_var_data(void **state) {
        _cleanup_(freep) uint8_t *json = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *akpub = load_pem_key(AZURE "akpub.pem");
        struct hcl_runtime_data runtime;
        size_t size;

        (void)state;
        json = read_vector(AZURE "var-data.bin", &size);
        assert_int_equal(size, 1110);
        assert_int_equal(hcl_runtime_data_parse(json, size, &runtime), 0);
        assert_int_equal(runtime.n_keys, 2);
        assert_string_equal(runtime.kids[0], "HCLAkPub");
        assert_string_equal(runtime.kids[1], "HCLEkPub");
        assert_non_null(runtime.ak_public);
        assert_int_equal(EVP_PKEY_get_bits(runtime.ak_public), 2048);
        /* manifest: akpub.pem is the HCLAkPub of no runtime data here */
        assert_int_not_equal(EVP_PKEY_eq(runtime.ak_public, akpub), 1);
        assert_true(runtime.vm.console_enabled);
        assert_true(runtime.vm.secure_boot);
        assert_true(runtime.vm.tpm_enabled);
        assert_false(runtime.vm.has_tpm_persisted);
        assert_false(runtime.vm.has_current_time);
        assert_string_equal(runtime.vm.vm_unique_id, "3404EF27-32A2-4A07-A4C7-1A1171624C5D");
        assert_string_equal(runtime.vm.root_cert_thumbprint, "");
        assert_true(runtime.has_user_data);
        for (size_t i = 0; i < HCL_USER_DATA_SIZE; i++)
                assert_int_equal(runtime.user_data[i], 0);
        hcl_runtime_data_clear(&runtime);
        assert_null(runtime.ak_public);
}

static void test_report_var_data(void **state) {
        _cleanup_(freep) uint8_t *snp = NULL;
        _cleanup_(freep) uint8_t *tdx = NULL;
        struct hcl_runtime_data runtime;
        struct hcl_report report;
        size_t size;

        (void)state;
        snp = read_vector(AZURE "hcl-report-snp.bin", &size);
        assert_int_equal(hcl_report_parse(snp, size, &report), 0);
        assert_int_equal(hcl_runtime_data_parse(report.var_data, report.var_data_size, &runtime), 0);
        assert_int_equal(runtime.n_keys, 1);
        assert_string_equal(runtime.kids[0], "HCLAkPub");
        assert_true(runtime.vm.console_enabled);
        assert_true(runtime.vm.has_current_time);
        assert_int_equal(runtime.vm.current_time, 1678652405);
        assert_true(runtime.vm.secure_boot);
        assert_true(runtime.vm.tpm_enabled);
        assert_false(runtime.vm.has_tpm_persisted);
        assert_string_equal(runtime.vm.vm_unique_id, "BAEFD3E1-184B-4C4C-AB88-0BDAD260505F");
        assert_false(runtime.has_user_data);
        hcl_runtime_data_clear(&runtime);

        tdx = read_vector(AZURE "hcl-report-tdx.bin", &size);
        assert_int_equal(hcl_report_parse(tdx, size, &report), 0);
        assert_int_equal(hcl_runtime_data_parse(report.var_data, report.var_data_size, &runtime), 0);
        assert_int_equal(runtime.n_keys, 2);
        assert_string_equal(runtime.kids[0], "HCLAkPub");
        assert_string_equal(runtime.kids[1], "HCLEkPub");
        assert_true(runtime.vm.console_enabled);
        assert_false(runtime.vm.has_current_time);
        assert_false(runtime.vm.secure_boot);
        assert_true(runtime.vm.tpm_enabled);
        assert_true(runtime.vm.has_tpm_persisted);
        assert_false(runtime.vm.tpm_persisted);
        assert_string_equal(runtime.vm.root_cert_thumbprint, "6nZZnYaJc4KqUZ_yvA-mucFdYNouvlPnITnNMXsHl-0");
        assert_string_equal(runtime.vm.vm_unique_id, "D270E56B-F668-4990-A5BC-9B624576841D");
        assert_true(runtime.has_user_data);
        hcl_runtime_data_clear(&runtime);
}

static void test_keys_refused(void **state) {
        (void)state;
        /* no HCLAkPub: the AK renamed, leaving only the EK */
        assert_variant_refused("\"kid\":\"HCLAkPub\"", "\"kid\":\"HCLAkPub2\"", "no key with kid \"HCLAkPub\"");
        /* two keys of one kid: either way round */
        assert_variant_refused("\"kid\":\"HCLEkPub\"", "\"kid\":\"HCLAkPub\"",
                               "keys[0] and keys[1] both have kid \"HCLAkPub\"");
        assert_variant_refused("\"kid\":\"HCLAkPub\"", "\"kid\":\"HCLEkPub\"",
                               "keys[0] and keys[1] both have kid \"HCLEkPub\"");
        assert_variant_refused("\"kid\":\"HCLEkPub\",", "", "keys[1]: missing kid");
        assert_variant_refused("\"kid\":\"HCLEkPub\"", "\"kid\":7", "keys[1]: kid is not a string");
        assert_variant_refused("{\"keys\":[", "{\"keys\":[3,", "keys[0] is not an object");
        assert_variant_refused("{\"keys\":", "{\"keys\":7,\"k\":", "\"keys\" is not an array");
        assert_variant_refused("{\"keys\":", "{\"other\":", "no \"keys\"");
        assert_variant_refused("{\"keys\":[", "{\"keys\":[{\"kid\":\"1\"},{\"kid\":\"2\"},{\"kid\":\"3\"},{\"kid\":\"4\"},"
                                              "{\"kid\":\"5\"},{\"kid\":\"6\"},{\"kid\":\"7\"},",
                               "9 keys, at most 8");
        /* HCLAkPub not an RSA key with base64url n and e */
        assert_variant_refused("\"kty\":\"RSA\"", "\"kty\":\"EC\"", "HCLAkPub has kty \"EC\", not \"RSA\"");
        assert_variant_refused("\"kty\":\"RSA\",", "", "HCLAkPub: missing kty");
        assert_variant_refused("\"n\":\"tegZ", "\"n\":\"te+Z", "HCLAkPub n: '+' at offset 2 is not base64url");
        assert_variant_refused("\"n\":\"tegZ", "\"n\":\"te=Z", "HCLAkPub n: '=' at offset 2");
        assert_variant_refused("\"n\":\"tegZ", "\"n\":\"te.Z", "HCLAkPub n: ");
        assert_variant_refused("\"n\":\"tegZ", "\"n\":\"AAAA", "HCLAkPub n is 256 bytes, not an RSA modulus");
        assert_variant_refused("\"n\":\"tegZ", "\"n\":\"teg", "HCLAkPub n: 341 characters are no whole base64url byte count");
        assert_variant_refused("\"e\":\"AQAB\",\"n\":\"tegZ", "\"e\":\"\",\"n\":\"tegZ", "HCLAkPub e is 0 bytes");
        assert_variant_refused("\"e\":\"AQAB\",\"n\":\"tegZ", "\"e\":\"AAAAAQAB\",\"n\":\"tegZ", "HCLAkPub e is 6 bytes");
        assert_variant_refused("\"e\":\"AQAB\",\"n\":\"tegZ", "\"e\":\"AQABAQABAQABAQAB\",\"n\":\"tegZ",
                               "HCLAkPub: e is longer");
        assert_variant_refused("\"n\":\"tegZ", "\"n\":\"AQ\",\"x\":\"", "HCLAkPub n is 1 bytes");
}

static void test_configuration_refused(void **state) {
        (void)state;
        assert_variant_refused("\"vm-configuration\":", "\"vm-config\":", "no \"vm-configuration\"");
        assert_variant_refused("\"vm-configuration\":{", "\"vm-configuration\":[{", "not JSON");
        assert_variant_refused("\"vm-configuration\":{\"console-enabled\":true,", "\"vm-configuration\":3,\"x\":{",
                               "\"vm-configuration\" is not an object");
        assert_variant_refused("\"secure-boot\":true", "\"secure-boot\":\"true\"", "\"secure-boot\" is not true or false");
        assert_variant_refused("\"secure-boot\":true,", "", "vm-configuration has no \"secure-boot\"");
        assert_variant_refused("\"tpm-enabled\":true,", "", "vm-configuration has no \"tpm-enabled\"");
        assert_variant_refused("\"console-enabled\":true,", "", "vm-configuration has no \"console-enabled\"");
        assert_variant_refused("\"tpm-enabled\":true,", "\"tpm-enabled\":true,\"tpm-persisted\":1,",
                               "\"tpm-persisted\" is not true or false");
        assert_variant_refused("\"tpm-enabled\":true,", "\"tpm-enabled\":true,\"current-time\":\"now\",",
                               "\"current-time\" is not an integer");
        assert_variant_refused("\"vmUniqueId\":\"", "\"vmUniqueId\":\"0123456789012345678901234567890123456789",
                               "vmUniqueId is longer than 64 bytes");
        assert_variant_refused("\"user-data\":\"00", "\"user-data\":\"", "\"user-data\" is not 64 bytes in hex");
        assert_variant_refused("\"user-data\":\"00", "\"user-data\":\"0g", "\"user-data\" is not 64 bytes in hex");
        assert_variant_refused("\"user-data\":\"00", "\"user-data\":\"0000", "user-data is longer than 128 bytes");
        assert_variant_refused("\"user-data\":\"", "\"user-data\":1,\"u\":\"", "user-data is not a string");
}

static void test_not_json(void **state) {
        static const char deep[] = "{\"keys\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}";
        _cleanup_(freep) uint8_t *json = NULL;
        struct hcl_runtime_data runtime;
        size_t size;

        (void)state;
        json = read_vector(AZURE "var-data.bin", &size);
        assert_error(hcl_runtime_data_parse(json, 0, &runtime), -EBADMSG, "0 bytes");
        assert_error(parse_text("[]", &runtime), -EBADMSG, "not a JSON object");
        assert_error(parse_text("{\"keys\":[],}", &runtime), -EBADMSG, "not JSON");
        assert_error(parse_text(deep, &runtime), -EBADMSG, "not JSON (nesting too deep");
        /* the NV index's zero padding is not part of the JSON */
        json[size] = '\0';
        assert_error(hcl_runtime_data_parse(json, size + 1, &runtime), -EBADMSG, "1 bytes after the JSON value");

        /* every truncation of an object is refused, and each byte changed either still parses
         * (a letter of a base64 key, of an id) or is refused: never a crash */
        for (size_t len = 1; len < size; len++)
                assert_error(hcl_runtime_data_parse(json, len, &runtime), -EBADMSG, "HCL runtime data: JSON cut short");
        for (size_t i = 0; i < size; i++) {
                for (unsigned bit = 0; bit < 8; bit++) {
                        int ret;

                        json[i] ^= (uint8_t)(1u << bit);
                        ret = hcl_runtime_data_parse(json, size, &runtime);
                        assert_true(ret == 0 || ret == -EBADMSG);
                        hcl_runtime_data_clear(&runtime);
                        json[i] ^= (uint8_t)(1u << bit);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_var_data),         cmocka_unit_test(test_report_var_data),
                cmocka_unit_test(test_keys_refused),     cmocka_unit_test(test_configuration_refused),
                cmocka_unit_test(test_not_json),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
