/* agent/platform_ak.c without a TPM: the AK certificate read from a cloud's NV index (the real
 * GCE one, padded as an NV index may be) and the ak_source key. The TPM paths are in
 * tests/integration/test-ak-identity.sh. */
#include "tests/unit/unit.h"

#include <unistd.h>

#include "agent/config.h"
#include "agent/platform_ak.h"

#define GCE_AK_CERT "tests/fixtures/platforms/gce/gce-cos-85-nonce9009/ak_cert.der"

static void test_cert_length(void **state) {
        size_t size, der_size = 0;
        _cleanup_(freep) uint8_t *der = read_vector(GCE_AK_CERT, &size);
        _cleanup_(freep) uint8_t *nv = calloc(1, size + 64);

        (void)state;
        assert_non_null(nv);
        memcpy(nv, der, size);
        assert_int_equal(platform_ak_cert_length("AK certificate", nv, size, &der_size), 0);
        assert_int_equal(der_size, size);
        /* an index larger than its certificate: zeros or 0xff after it */
        assert_int_equal(platform_ak_cert_length("AK certificate", nv, size + 64, &der_size), 0);
        assert_int_equal(der_size, size);
        memset(nv + size, 0xff, 64);
        assert_int_equal(platform_ak_cert_length("AK certificate", nv, size + 64, &der_size), 0);
        assert_int_equal(der_size, size);
        /* anything else after it is not padding */
        nv[size + 10] = 0x00;
        assert_error(platform_ak_cert_length("AK certificate", nv, size + 64, &der_size), -EBADMSG,
                     "AK certificate: 64 bytes after the certificate that are not padding");
        /* truncated at every length, or a byte of its header flipped */
        for (size_t n = 0; n < size; n += 7)
                assert_error(platform_ak_cert_length("AK certificate", nv, n, &der_size), -EBADMSG,
                             "AK certificate: not a DER X.509 certificate");
        nv[0] ^= 0xff;
        assert_error(platform_ak_cert_length("AK certificate", nv, size, &der_size), -EBADMSG, "not a DER");
}

static void test_ak_source_key(void **state) {
        char path[] = "/tmp/vmattest-akconf.XXXXXX";
        int fd = mkstemp(path);
        struct agent_config config;
        char value[16];

        (void)state;
        assert_true(fd >= 0);
        agent_config_defaults(&config);
        assert_string_equal(config.ak_source, "auto");
        assert_true(ak_source_valid("agent") && ak_source_valid("azure") && ak_source_valid("gce"));
        assert_false(ak_source_valid("aws") || ak_source_valid("") || ak_source_valid("Azure"));
        assert_true(write(fd, "[agent]\nak_source = gce\n", 24) == 24);
        assert_int_equal(agent_config_load(path, true, &config), 0);
        assert_string_equal(config.ak_source, "gce");
        assert_int_equal(agent_config_get(&config, "ak_source", value, sizeof(value)), 0);
        assert_string_equal(value, "gce");
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_true(pwrite(fd, "[agent]\nak_source = aws\n", 24, 0) == 24);
        agent_config_defaults(&config);
        assert_error(agent_config_load(path, true, &config), -EINVAL, "is not auto, agent, azure or gce");
        close(fd);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cert_length),
                cmocka_unit_test(test_ak_source_key),
        };

        return cmocka_run_group_tests_name("platform_ak", tests, NULL, NULL);
}
