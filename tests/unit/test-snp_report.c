/* verifier/snp_report.c on the real Milan report of tests/fixtures/platforms/snp (every fact of
 * its manifest entry), on versions 3 and 5 made from it (the parser does not check signatures),
 * and on hostile input: every truncation, an oversize report, unknown versions, reserved bits
 * and reserved ranges that are set, flipped bytes anywhere. */
#include "tests/unit/unit.h"

#include "lib/encoding.h"
#include "verifier/snp_report.h"

#define SNP "tests/fixtures/platforms/snp/"

static uint8_t *real_report(size_t *size) {
        uint8_t *data = read_vector(SNP "attestation.bin", size);

        assert_int_equal(*size, SNP_REPORT_SIZE);
        return data;
}

static void assert_hex(const void *bytes, size_t size, const char *hex) {
        _cleanup_(freep) char *text = hex_encode(bytes, size);

        assert_non_null(text);
        assert_string_equal(text, hex);
}

static void put_u32le(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void test_real_report(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct snp_report rep;
        struct snp_tcb tcb;
        size_t size;

        (void)state;
        data = real_report(&size);
        assert_int_equal(snp_report_parse(data, size, &rep), 0);
        assert_int_equal(rep.version, 2);
        assert_int_equal(rep.guest_svn, 0);
        assert_int_equal(rep.policy, 0xb0000);
        assert_hex(rep.family_id, 16, "00000000000000000000000000000000");
        assert_hex(rep.image_id, 16, "00000000000000000000000000000000");
        assert_int_equal(rep.vmpl, 0);
        assert_int_equal(rep.signature_algo, SNP_SIGNATURE_ECDSA_P384_SHA384);
        assert_int_equal(rep.current_tcb, 0x4405000000000002ULL);
        assert_int_equal(rep.platform_info, 1);
        assert_int_equal(rep.signer_info, 0);
        assert_int_equal(rep.signing_key, SNP_SIGNING_KEY_VCEK);
        assert_false(rep.mask_chip_id);
        assert_false(rep.author_key_en);
        assert_hex(rep.report_data, 64,
                   "0102030405000000000000000000000000000000000000000000000000000000"
                   "0000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(rep.measurement, 48,
                   "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
        assert_hex(rep.host_data, 32, "0000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(rep.id_key_digest, 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(rep.author_key_digest, 48,
                   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_hex(rep.report_id, 32, "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
        assert_hex(rep.report_id_ma, 32, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        assert_int_equal(rep.reported_tcb, 0x4405000000000002ULL);
        assert_false(rep.has_cpuid);
        assert_hex(rep.chip_id, 64,
                   "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea4"
                   "64cdce40c05f63c9b610c5068b006b5d");
        assert_int_equal(rep.committed_tcb, 0x4405000000000002ULL);
        assert_int_equal(rep.launch_tcb, 0x4405000000000002ULL);
        assert_false(rep.has_mit_vectors);
        assert_memory_equal(rep.bytes, data, SNP_REPORT_SIZE);

        snp_tcb_decode(rep.reported_tcb, SNP_PRODUCT_MILAN, &tcb);
        assert_int_equal(tcb.bl, 2);
        assert_int_equal(tcb.tee, 0);
        assert_int_equal(tcb.snp, 5);
        assert_int_equal(tcb.ucode, 68);
        assert_false(tcb.has_fmc);
}

/* Turin lays the same eight bytes out differently: FMC first, SNP in byte 3. */
static void test_tcb_layouts(void **state) {
        struct snp_tcb tcb;

        (void)state;
        snp_tcb_decode(0x4800000004030201ULL, SNP_PRODUCT_TURIN, &tcb);
        assert_true(tcb.has_fmc);
        assert_int_equal(tcb.fmc, 1);
        assert_int_equal(tcb.bl, 2);
        assert_int_equal(tcb.tee, 3);
        assert_int_equal(tcb.snp, 4);
        assert_int_equal(tcb.ucode, 0x48);
        snp_tcb_decode(0x4807000000000201ULL, SNP_PRODUCT_GENOA, &tcb);
        assert_false(tcb.has_fmc);
        assert_int_equal(tcb.bl, 1);
        assert_int_equal(tcb.tee, 2);
        assert_int_equal(tcb.snp, 7);
        assert_int_equal(tcb.ucode, 0x48);

        assert_int_equal(snp_product_of_cpuid(0x19, 0x01), SNP_PRODUCT_MILAN);
        assert_int_equal(snp_product_of_cpuid(0x19, 0x11), SNP_PRODUCT_GENOA);
        assert_int_equal(snp_product_of_cpuid(0x1A, 0x02), SNP_PRODUCT_TURIN);
        assert_int_equal(snp_product_of_cpuid(0x17, 0x31), SNP_PRODUCT_UNKNOWN);
}

static void test_versions(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct snp_report rep;
        size_t size;

        (void)state;
        data = real_report(&size);

        /* version 2: the CPUID bytes are reserved */
        data[0x188] = 0x19;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x188-0x19f are not zero");

        put_u32le(data, 3);
        data[0x189] = 0x01;
        data[0x18A] = 0x01;
        assert_int_equal(snp_report_parse(data, size, &rep), 0);
        assert_true(rep.has_cpuid);
        assert_int_equal(rep.cpuid_fam_id, 0x19);
        assert_int_equal(rep.cpuid_mod_id, 0x01);
        assert_int_equal(rep.cpuid_step, 0x01);
        assert_false(rep.has_mit_vectors);
        data[0x19F] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x18b-0x19f are not zero");
        data[0x19F] = 0;

        /* versions 2 and 3: the mitigation vectors are reserved */
        data[0x1F8] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x1f8-0x29f are not zero");
        put_u32le(data, 5);
        data[0x200] = 3;
        assert_int_equal(snp_report_parse(data, size, &rep), 0);
        assert_true(rep.has_mit_vectors);
        assert_int_equal(rep.launch_mit_vector, 1);
        assert_int_equal(rep.current_mit_vector, 3);
        data[0x208] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x208-0x29f are not zero");
        data[0x208] = 0;

        for (uint32_t v = 0; v < 8; v++) {
                char word[32];

                if (v == 2 || v == 3 || v == 5)
                        continue;
                put_u32le(data, v);
                snprintf(word, sizeof(word), "version %u is not supported", v);
                assert_error(snp_report_parse(data, size, &rep), -EBADMSG, word);
        }
        put_u32le(data, 0xffffffff);
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "version 4294967295");
}

static void test_reserved_fields(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct snp_report rep;
        size_t size;

        (void)state;
        data = real_report(&size);

        data[0x08 + 2] &= (uint8_t)~0x02; /* policy bit 17 */
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "policy bit 17 is reserved and must be one");
        data[0x08 + 2] |= 0x02;
        data[0x08 + 3] |= 0x04; /* policy bit 26 */
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "policy bits 63:26");
        data[0x08 + 3] &= (uint8_t)~0x04;

        put_u32le(data + 0x48, 1u << 5);
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "signer_info bits 31:5");
        for (uint32_t key = 2; key < 7; key++) {
                put_u32le(data + 0x48, key << 2);
                assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "signing key");
        }
        put_u32le(data + 0x48, 1u << 2 | 3);
        assert_int_equal(snp_report_parse(data, size, &rep), 0);
        assert_int_equal(rep.signing_key, SNP_SIGNING_KEY_VLEK);
        assert_true(rep.mask_chip_id);
        assert_true(rep.author_key_en);
        put_u32le(data + 0x48, 0);

        data[0x4C] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x04c-0x04f");
        data[0x4C] = 0;
        data[0x1EB] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x1eb-0x1eb");
        data[0x1EB] = 0;
        data[0x1EF] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x1ef-0x1ef");
        data[0x1EF] = 0;
        /* the unused tail of the ECDSA signature field */
        data[SNP_REPORT_SIZE - 1] = 1;
        assert_error(snp_report_parse(data, size, &rep), -EBADMSG, "reserved bytes 0x330-0x49f");
        /* ... which another algorithm would use: parsed, and refused by snp_verify */
        put_u32le(data + 0x34, 2);
        assert_int_equal(snp_report_parse(data, size, &rep), 0);
        assert_int_equal(rep.signature_algo, 2);
}

static void test_sizes(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        _cleanup_(freep) uint8_t *longer = NULL;
        struct snp_report rep;
        size_t size;

        (void)state;
        data = real_report(&size);
        for (size_t n = 0; n < SNP_REPORT_SIZE; n++)
                assert_error(snp_report_parse(data, n, &rep), -EBADMSG, "an ATTESTATION_REPORT is 1184");
        longer = calloc(1, SNP_REPORT_SIZE + 4096);
        assert_non_null(longer);
        memcpy(longer, data, size);
        assert_error(snp_report_parse(longer, SNP_REPORT_SIZE + 1, &rep), -EBADMSG, "1185 bytes");
        assert_error(snp_report_parse(longer, SNP_REPORT_SIZE + 4096, &rep), -EBADMSG, "5280 bytes");
}

/* Flipped bytes anywhere: a report or an error naming the SNP report, never a crash. */
static void test_flipped_bytes(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        uint8_t copy[SNP_REPORT_SIZE];
        uint64_t prng = FUZZ_SEED;
        struct snp_report rep;
        size_t size;

        (void)state;
        data = real_report(&size);
        for (int i = 0; i < FUZZ_ITERATIONS; i++) {
                int ret;

                memcpy(copy, data, size);
                prng_mutate(&prng, copy, size);
                vm_error_clear();
                ret = snp_report_parse(copy, size, &rep);
                if (ret < 0) {
                        assert_int_equal(ret, -EBADMSG);
                        assert_detail_contains(ret, "SNP report");
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_report),   cmocka_unit_test(test_tcb_layouts),
                cmocka_unit_test(test_versions),      cmocka_unit_test(test_reserved_fields),
                cmocka_unit_test(test_sizes),         cmocka_unit_test(test_flipped_bytes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
