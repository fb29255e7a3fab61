/* verifier/svsm_manifest.c: an SVSM vTPM service's manifest (version 0: the EK's TPMT_PUBLIC)
 * from swtpm's RSA and ECC EKs (svsm-manifest-ek-*.bin: the public areas of
 * tests/fuzz/corpus/tpm2b/public-ek-*, without their size), parsed to the same key tss2-mu reads
 * and marshalled back to the same bytes; every truncation, oversize length, flipped type and
 * trailing byte refused naming the field; an EK match named by what differs; REPORT_DATA the
 * same SHA-512(nonce || manifest) the agent checks (agent/tsm_report.c). */
#include "tests/unit/unit.h"

#include "agent/tsm_report.h"
#include "lib/tpm2b.h"
#include "verifier/svsm_manifest.h"

#define RSA_EK VECTOR("svsm-manifest-ek-rsa.bin")
#define ECC_EK VECTOR("svsm-manifest-ek-ecc.bin")
/* where the RSA EK's parameters start: type, nameAlg, objectAttributes, authPolicy (32 bytes);
 * then symmetric (6), scheme (2), keyBits (2), exponent (4), the modulus's size (2) */
#define RSA_PARMS (2 + 2 + 4 + 2 + 32)

static void parse_vector(const char *path, uint8_t **bytes, size_t *size, TPMT_PUBLIC *ek) {
        *bytes = read_vector(path, size);
        vm_error_clear();
        if (svsm_manifest_parse(*bytes, *size, ek) < 0)
                fail_msg("%s: %s", path, vm_error_detail(-EBADMSG));
}

/* The parse reads what tss2-mu reads, and marshals back to every byte given. */
static void check_round_trip(const uint8_t *bytes, size_t size, const TPMT_PUBLIC *ek) {
        uint8_t wrapped[1024], again[1024];
        TPM2B_PUBLIC mu;
        size_t again_size = 0;

        assert_true(size + 2 <= sizeof(wrapped));
        wrapped[0] = (uint8_t)(size >> 8), wrapped[1] = (uint8_t)size;
        memcpy(wrapped + 2, bytes, size);
        assert_int_equal(tpm2b_public_unmarshal(wrapped, size + 2, &mu), 0);
        assert_int_equal(svsm_manifest_ek_match(ek, &mu.publicArea), 0);
        assert_int_equal(mu.publicArea.objectAttributes, ek->objectAttributes);
        assert_int_equal(mu.publicArea.nameAlg, ek->nameAlg);
        assert_int_equal(tpmt_public_marshal(ek, again, sizeof(again), &again_size), 0);
        assert_int_equal(again_size, size);
        assert_memory_equal(again, bytes, size);
}

static void test_real_eks(void **state) {
        _cleanup_(freep) uint8_t *rsa = NULL;
        _cleanup_(freep) uint8_t *ecc = NULL;
        size_t rsa_size, ecc_size;
        TPMT_PUBLIC rsa_ek, ecc_ek;

        (void)state;
        parse_vector(RSA_EK, &rsa, &rsa_size, &rsa_ek);
        assert_int_equal(rsa_ek.type, TPM2_ALG_RSA);
        assert_int_equal(rsa_ek.parameters.rsaDetail.keyBits, 2048);
        assert_int_equal(rsa_ek.unique.rsa.size, 256);
        check_round_trip(rsa, rsa_size, &rsa_ek);

        parse_vector(ECC_EK, &ecc, &ecc_size, &ecc_ek);
        assert_int_equal(ecc_ek.type, TPM2_ALG_ECC);
        assert_int_equal(ecc_ek.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
        assert_int_equal(ecc_ek.unique.ecc.x.size, 32);
        check_round_trip(ecc, ecc_size, &ecc_ek);
}

/* Every cut: refused, named, never read past the end (ASan). */
static void test_truncations(void **state) {
        const char *paths[] = { RSA_EK, ECC_EK };

        (void)state;
        for (size_t p = 0; p < ELEMENTSOF(paths); p++) {
                size_t size;
                _cleanup_(freep) uint8_t *bytes = read_vector(paths[p], &size);

                for (size_t cut = 0; cut < size; cut++) {
                        _cleanup_(freep) uint8_t *copy = malloc(cut ? cut : 1);
                        TPMT_PUBLIC ek;

                        assert_non_null(copy);
                        memcpy(copy, bytes, cut);
                        assert_error(svsm_manifest_parse(copy, cut, &ek), -EBADMSG, "SVSM vTPM manifest: ");
                }
        }
}

/* Every byte flipped: refused with a named reason, or (a key byte) read as what it now says. */
static void test_flipped_bytes(void **state) {
        const char *paths[] = { RSA_EK, ECC_EK };

        (void)state;
        for (size_t p = 0; p < ELEMENTSOF(paths); p++) {
                size_t size;
                _cleanup_(freep) uint8_t *bytes = read_vector(paths[p], &size);

                for (size_t i = 0; i < size; i++) {
                        TPMT_PUBLIC ek;
                        int ret;

                        bytes[i] ^= 0xff;
                        vm_error_clear();
                        ret = svsm_manifest_parse(bytes, size, &ek);
                        if (ret < 0) {
                                assert_int_equal(ret, -EBADMSG);
                                assert_detail_contains(ret, "SVSM vTPM manifest: ");
                        } else
                                check_round_trip(bytes, size, &ek);
                        bytes[i] ^= 0xff;
                }
        }
}

static void test_hostile(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *bytes = read_vector(RSA_EK, &size);
        uint8_t buf[SVSM_MANIFEST_MAX + 1] = { 0 };
        TPMT_PUBLIC ek;

        (void)state;
        /* a trailing byte rides along unparsed: refused */
        memcpy(buf, bytes, size);
        assert_error(svsm_manifest_parse(buf, size + 1, &ek), -EBADMSG, "SVSM vTPM manifest");
        /* authPolicy (offset 8) claims more than a digest can hold */
        buf[8] = 0xff, buf[9] = 0xff;
        assert_error(svsm_manifest_parse(buf, size, &ek), -EBADMSG, "authPolicy is 65535 bytes, at most");
        /* the modulus (after authPolicy's 32 bytes and the RSA parameters) claims 0xffff bytes */
        memcpy(buf, bytes, size);
        buf[RSA_PARMS + 14] = 0xff, buf[RSA_PARMS + 15] = 0xff;
        assert_error(svsm_manifest_parse(buf, size, &ek), -EBADMSG, "unique.rsa is 65535 bytes");
        /* a modulus of another size than keyBits says */
        memcpy(buf, bytes, size);
        buf[RSA_PARMS + 8] = 0x04; /* keyBits 1024 */
        assert_error(svsm_manifest_parse(buf, size, &ek), -EBADMSG, "is not keyBits 1024");
        /* a key type that is no EK's */
        memcpy(buf, bytes, size);
        buf[1] = 0x08; /* TPM_ALG_KEYEDHASH */
        assert_error(svsm_manifest_parse(buf, size, &ek), -EBADMSG, "type 0x0008 is not RSA or ECC");
        /* a signing scheme: not a restricted decryption key */
        memcpy(buf, bytes, size);
        buf[RSA_PARMS + 7] = 0x14; /* TPM_ALG_RSASSA where TPM_ALG_NULL was */
        assert_error(svsm_manifest_parse(buf, size, &ek), -EBADMSG, "parameters.scheme is 0x0014");
        /* an unknown nameAlg */
        memcpy(buf, bytes, size);
        buf[3] = 0x99;
        assert_error(svsm_manifest_parse(buf, size, &ek), -EBADMSG, "nameAlg 0x0099 is not a known hash");
        /* larger than the page it comes in */
        assert_error(svsm_manifest_parse(buf, sizeof(buf), &ek), -EBADMSG, "at most 4096");
        /* the all-services form (its GUID table header), named */
        memcpy(buf, (const uint8_t[]){ 0xbb, 0x9e, 0x84, 0x63, 0x92, 0x3d, 0x70, 0x46 }, 8);
        assert_error(svsm_manifest_parse(buf, 48, &ek), -EBADMSG, "an all-services manifest");
}

static void test_ek_match(void **state) {
        _cleanup_(freep) uint8_t *rsa = NULL;
        _cleanup_(freep) uint8_t *ecc = NULL;
        size_t rsa_size, ecc_size;
        TPMT_PUBLIC rsa_ek, ecc_ek, other;

        (void)state;
        parse_vector(RSA_EK, &rsa, &rsa_size, &rsa_ek);
        parse_vector(ECC_EK, &ecc, &ecc_size, &ecc_ek);
        assert_int_equal(svsm_manifest_ek_match(&rsa_ek, &rsa_ek), 0);
        assert_int_equal(svsm_manifest_ek_match(&ecc_ek, &ecc_ek), 0);
        assert_error(svsm_manifest_ek_match(&ecc_ek, &rsa_ek), -EPERM, "its EK is an ECC key, the registered EK an RSA");

        other = rsa_ek;
        other.unique.rsa.buffer[100] ^= 1;
        assert_error(svsm_manifest_ek_match(&other, &rsa_ek), -EPERM, "its EK's RSA modulus is not the registered EK's");
        other = rsa_ek;
        other.parameters.rsaDetail.exponent = 3;
        assert_error(svsm_manifest_ek_match(&other, &rsa_ek), -EPERM, "RSA exponent 3 is not the registered EK's 65537");
        /* 0 is 65537 (TPMS_RSA_PARMS) */
        other.parameters.rsaDetail.exponent = 65537;
        assert_int_equal(svsm_manifest_ek_match(&other, &rsa_ek), 0);

        other = ecc_ek;
        other.unique.ecc.y.buffer[0] ^= 1;
        assert_error(svsm_manifest_ek_match(&other, &ecc_ek), -EPERM, "its EK's ECC point is not the registered EK's");
        other = ecc_ek;
        other.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
        assert_error(svsm_manifest_ek_match(&other, &ecc_ek), -EPERM, "curve 0x0004 is not the registered EK's 0x0003");
}

/* The verifier's REPORT_DATA for a manifest is the one the agent checks the SVSM's report for. */
static void test_report_data_is_the_agents(void **state) {
        size_t size;
        _cleanup_(freep) uint8_t *manifest = read_vector(RSA_EK, &size);
        uint8_t nonce[SVSM_REPORT_DATA_SIZE], report[0x4a0] = { 0 }, expected[SVSM_REPORT_DATA_SIZE];

        (void)state;
        for (size_t i = 0; i < sizeof(nonce); i++)
                nonce[i] = (uint8_t)(i * 7);
        assert_int_equal(svsm_manifest_report_data(nonce, manifest, size, expected), 0);
        assert_memory_not_equal(expected, nonce, sizeof(nonce));
        memcpy(report + 0x50, expected, sizeof(expected));
        assert_int_equal(tsm_report_data_check("sev_guest", report, sizeof(report), nonce, manifest, size), 0);
        /* another manifest, another digest */
        manifest[size - 1] ^= 1;
        assert_int_equal(svsm_manifest_report_data(nonce, manifest, size, expected), 0);
        assert_memory_not_equal(report + 0x50, expected, sizeof(expected));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_eks),       cmocka_unit_test(test_truncations),
                cmocka_unit_test(test_flipped_bytes),  cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_ek_match),       cmocka_unit_test(test_report_data_is_the_agents),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
