/* verifier/hcl_verify.c on Azure's real HCL reports (tests/fixtures/platforms/azure): the
 * runtime data binding holds for both, their HCLAkPub equals the key read independently from
 * their JWK (tests/unit/vectors/hcl-akpub-{snp,tdx}.pem, written from the JWK's n and e with
 * Python's cryptography: RSAPublicNumbers(e, n).public_key(), SubjectPublicKeyInfo PEM) and not
 * akpub.pem, the AK of quote.bin, which quote_check() verifies. Refused, each with its reason:
 * a byte of the runtime data changed, a hash type other than SHA-256, a type other than the
 * policy's, and, with REPORT_DATA rewritten to bind them (what a guest could send, before the
 * hardware signature is checked), a HCLAkPub of another key, keys without HCLAkPub and duplicate
 * kids. */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "lib/pcrblob.h"
#include "lib/quote_string.h"
#include "lib/reader.h"
#include "lib/tpm2b.h"
#include "verifier/hcl_verify.h"
#include "verifier/quote_check.h"

#define AZURE "tests/fixtures/platforms/azure/"
#define OFF_REPORT_SIZE 8
#define OFF_DATA_SIZE 1216
#define OFF_REPORT_TYPE 1224
#define OFF_HASH_TYPE 1228
#define OFF_VAR_SIZE 1232
#define OFF_VAR_DATA 1236

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

static EVP_PKEY *load_pem_key(const char *path) {
        _cleanup_(fclosep) FILE *f = fopen(path, "r");
        EVP_PKEY *key;

        assert_non_null(f);
        key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        assert_non_null(key);
        return key;
}

static void put_u32le(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static size_t report_data_offset(const uint8_t *report) {
        return HCL_HEADER_SIZE + (report[OFF_REPORT_TYPE] == HCL_REPORT_SNP ? HCL_SNP_REPORT_DATA_OFFSET
                                                                            : HCL_TDX_REPORT_DATA_OFFSET);
}

/* The report `orig` with its runtime data's first `from` replaced by `to`, sizes fixed up and,
 * when `rebind`, the hardware report's REPORT_DATA rewritten to the new runtime data's SHA-256:
 * what a guest that controls every unsigned byte could send, before the hardware signature is
 * checked. Malloc'ed, *size bytes. */
static uint8_t *rewrite(const uint8_t *orig, size_t orig_size, const char *from, const char *to, bool rebind, size_t *size) {
        struct hcl_report report;
        size_t var_size, before, from_len = strlen(from), to_len = strlen(to);
        const uint8_t *at;
        uint8_t *out;

        assert_int_equal(hcl_report_parse(orig, orig_size, &report), 0);
        at = memmem(report.var_data, report.var_data_size, from, from_len);
        if (!at)
                fail_msg("no \"%s\" in the runtime data", from);
        before = (size_t)(at - report.var_data);
        var_size = report.var_data_size - from_len + to_len;
        *size = OFF_VAR_DATA + var_size + 64; /* and some zero padding */
        out = calloc(1, *size);
        assert_non_null(out);
        memcpy(out, orig, OFF_VAR_DATA);
        memcpy(out + OFF_VAR_DATA, report.var_data, before);
        memcpy(out + OFF_VAR_DATA + before, to, to_len);
        memcpy(out + OFF_VAR_DATA + before + to_len, at + from_len, report.var_data_size - before - from_len);
        put_u32le(out + OFF_VAR_SIZE, (uint32_t)var_size);
        put_u32le(out + OFF_DATA_SIZE, (uint32_t)(HCL_IGVM_REQUEST_SIZE + var_size));
        put_u32le(out + OFF_REPORT_SIZE, (uint32_t)(OFF_VAR_DATA + var_size));
        if (rebind)
                SHA256(out + OFF_VAR_DATA, var_size, out + report_data_offset(out));
        return out;
}

static uint8_t *report_with(const char *name, const char *from, const char *to, bool rebind, size_t *size) {
        _cleanup_(freep) uint8_t *orig = NULL;
        size_t orig_size;

        orig = read_vector(name, &orig_size);
        return rewrite(orig, orig_size, from, to, rebind, size);
}

/* hcl_verify() of `size` bytes against `type` and the AK in `ak_pem`. */
static int verify_bytes(const uint8_t *data, size_t size, enum hcl_report_type type, const char *ak_pem,
                        struct hcl_evidence *evidence) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak = load_pem_key(ak_pem);
        struct hcl_expect expect = { .type = type, .ak = ak };
        struct hcl_report report;

        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        return hcl_verify(&report, &expect, evidence);
}

static const uint8_t certs_pem_vcek_hwid[64] = {
        0xda, 0x8a, 0x56, 0x95, 0xb5, 0xae, 0xaf, 0xdb, 0x8e, 0xd2, 0xed, 0xc6, 0xc2, 0x9b, 0xe4, 0x97,
        0xb7, 0x11, 0x57, 0x04, 0xb7, 0xb8, 0x93, 0xb4, 0x6b, 0xdd, 0x37, 0x7a, 0x31, 0x69, 0x5e, 0xd5,
        0xd7, 0xea, 0x8e, 0xbf, 0x64, 0x03, 0x66, 0x5e, 0x87, 0xde, 0x47, 0x57, 0x42, 0xeb, 0x25, 0x93,
        0x5a, 0x27, 0x58, 0x6e, 0xba, 0x93, 0xa3, 0x2f, 0x0e, 0xf9, 0xb3, 0x35, 0x95, 0xcb, 0xe8, 0xd2,
};

static void test_snp(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_evidence evidence;
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-snp.bin", &size);
        assert_int_equal(verify_bytes(data, size, HCL_REPORT_SNP, VECTOR("hcl-akpub-snp.pem"), &evidence), 0);
        assert_int_equal(evidence.type, HCL_REPORT_SNP);
        assert_ptr_equal(evidence.hw_report, data + 32);
        assert_int_equal(evidence.hw_report_size, 1184);
        assert_true(evidence.runtime.vm.secure_boot);
        assert_true(evidence.runtime.vm.tpm_enabled);
        assert_true(evidence.runtime.vm.console_enabled);
        assert_int_equal(evidence.runtime.vm.current_time, 1678652405);
        assert_string_equal(evidence.runtime.vm.vm_unique_id, "BAEFD3E1-184B-4C4C-AB88-0BDAD260505F");
        assert_false(evidence.runtime.has_user_data);
        hcl_evidence_clear(&evidence);
        assert_null(evidence.runtime.ak_public);

        /* manifest: certs.pem's VCEK is another chip's (its hwID) than this report's (its
         * CHIP_ID at 0x1a0), so the report's signature does not verify with it: a fact for the
         * SNP checks, which must refuse this report with that VCEK. Not verified here. */
        assert_memory_not_equal(data + 32 + 0x1a0, certs_pem_vcek_hwid, sizeof(certs_pem_vcek_hwid));

        /* the other report's AK, and akpub.pem (the AK of quote.bin, not of any report here) */
        assert_error(verify_bytes(data, size, HCL_REPORT_SNP, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                     "HCLAkPub is not the AK that signs the agent's quotes");
        assert_null(evidence.runtime.ak_public);
        assert_error(verify_bytes(data, size, HCL_REPORT_SNP, AZURE "akpub.pem", &evidence), -EPERM,
                     "HCLAkPub is not the AK");
}

static void test_tdx(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_evidence evidence;
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-tdx.bin", &size);
        assert_int_equal(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), 0);
        assert_int_equal(evidence.type, HCL_REPORT_TDX);
        assert_ptr_equal(evidence.hw_report, data + 32);
        assert_int_equal(evidence.hw_report_size, 1024);
        assert_false(evidence.runtime.vm.secure_boot);
        assert_true(evidence.runtime.vm.has_tpm_persisted);
        assert_false(evidence.runtime.vm.tpm_persisted);
        assert_string_equal(evidence.runtime.vm.root_cert_thumbprint, "6nZZnYaJc4KqUZ_yvA-mucFdYNouvlPnITnNMXsHl-0");
        assert_true(evidence.runtime.has_user_data);
        assert_int_equal(evidence.runtime.n_keys, 2);
        hcl_evidence_clear(&evidence);

        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, AZURE "akpub.pem", &evidence), -EPERM,
                     "HCLAkPub is not the AK");
}

/* The report's type is checked against the policy's, and for TDX against the TDREPORT's own
 * type byte: an SNP report relabelled TDX parses (its last 160 bytes are zeros) but is refused. */
/* Azure TDX with the TD quote's REPORTDATA (signed): the binding is checked against it, and the
 * TDREPORT, whose MAC only its CPU can check, is not read: its type byte and REPORTDATA changed,
 * the real report still verifies; a REPORTDATA that does not hold the runtime data's hash is
 * named as the quote's. */
static void test_tdx_signed_report_data(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak = load_pem_key(VECTOR("hcl-akpub-tdx.pem"));
        uint8_t quote_report_data[64] = { 0 };
        struct hcl_expect expect = { .type = HCL_REPORT_TDX, .ak = ak, .signed_report_data = quote_report_data };
        struct hcl_evidence evidence;
        struct hcl_report report;
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-tdx.bin", &size);
        memcpy(quote_report_data, data + 32 + HCL_TDX_REPORT_DATA_OFFSET, sizeof(quote_report_data));
        data[32] ^= 0xff;                                     /* REPORTTYPE.TYPE */
        data[32 + HCL_TDX_REPORT_DATA_OFFSET] ^= 0x01;        /* REPORTDATA */
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        assert_int_equal(hcl_verify(&report, &expect, &evidence), 0);
        assert_true(evidence.runtime.has_user_data);
        hcl_evidence_clear(&evidence);
        quote_report_data[0] ^= 0x01;
        assert_error(hcl_verify(&report, &expect, &evidence), -EPERM,
                     "HCL report: the TD quote's REPORTDATA does not bind the variable data (SHA-256 differs)");
        quote_report_data[0] ^= 0x01;
        quote_report_data[63] = 1;
        assert_error(hcl_verify(&report, &expect, &evidence), -EPERM,
                     "HCL report: the TD quote's REPORTDATA[32:64] is not zero");
        /* without the quote's REPORTDATA the changed TDREPORT is refused, as before */
        expect.signed_report_data = NULL;
        assert_error(hcl_verify(&report, &expect, &evidence), -EPERM, "TDREPORT's REPORTTYPE.TYPE");
}

static void test_type(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_evidence evidence;
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-snp.bin", &size);
        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-snp.pem"), &evidence), -EPERM,
                     "HCL report: holds a SEV-SNP report, the policy expects TDX");
        put_u32le(data + OFF_REPORT_TYPE, HCL_REPORT_TDX);
        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-snp.pem"), &evidence), -EPERM,
                     "TDREPORT's REPORTTYPE.TYPE is 0x02, not 0x81 (TDX)");
        assert_error(verify_bytes(data, size, HCL_REPORT_SNP, VECTOR("hcl-akpub-snp.pem"), &evidence), -EPERM,
                     "holds a TDX report, the policy expects SEV-SNP");
}

/* The hash type is not signed: only SHA-256 is accepted, whatever else it names. */
static void test_hash_type(void **state) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_evidence evidence;
        size_t size;

        (void)state;
        data = read_vector(AZURE "hcl-report-tdx.bin", &size);
        put_u32le(data + OFF_HASH_TYPE, HCL_HASH_INVALID);
        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                     "report_data_hash_type 0 (invalid) is not SHA-256");
        put_u32le(data + OFF_HASH_TYPE, HCL_HASH_SHA384);
        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                     "report_data_hash_type 2 (SHA-384) is not SHA-256");
        put_u32le(data + OFF_HASH_TYPE, HCL_HASH_SHA512);
        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                     "report_data_hash_type 3 (SHA-512) is not SHA-256");
        put_u32le(data + OFF_HASH_TYPE, 0x101);
        assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                     "report_data_hash_type 257 (invalid)");
}

/* Every bit of the runtime data matters; so do the unused 32 bytes of REPORT_DATA. */
static void binding(const char *name, enum hcl_report_type type, const char *ak_pem) {
        _cleanup_(freep) uint8_t *data = NULL;
        struct hcl_evidence evidence;
        struct hcl_report report;
        size_t size;

        data = read_vector(name, &size);
        assert_int_equal(hcl_report_parse(data, size, &report), 0);
        for (size_t i = 0; i < report.var_data_size; i += 7) {
                data[OFF_VAR_DATA + i] ^= 0x20;
                assert_error(verify_bytes(data, size, type, ak_pem, &evidence), -EPERM,
                             "report's REPORT_DATA does not bind the variable data");
                data[OFF_VAR_DATA + i] ^= 0x20;
        }
        data[report_data_offset(data) + 63] = 1;
        assert_error(verify_bytes(data, size, type, ak_pem, &evidence), -EPERM, "REPORT_DATA[32:64] is not zero");
        data[report_data_offset(data) + 63] = 0;
        data[report_data_offset(data)] ^= 1;
        assert_error(verify_bytes(data, size, type, ak_pem, &evidence), -EPERM, "does not bind the variable data");
        data[report_data_offset(data)] ^= 1;
        assert_int_equal(verify_bytes(data, size, type, ak_pem, &evidence), 0);
        hcl_evidence_clear(&evidence);
}

static void test_binding(void **state) {
        _cleanup_(freep) uint8_t *changed = NULL;
        struct hcl_evidence evidence;
        size_t size;

        (void)state;
        binding(AZURE "hcl-report-snp.bin", HCL_REPORT_SNP, VECTOR("hcl-akpub-snp.pem"));
        binding(AZURE "hcl-report-tdx.bin", HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"));
        /* one byte of the runtime data changed: secure boot said to be on */
        changed = report_with(AZURE "hcl-report-tdx.bin", "\"secure-boot\":false", "\"secure-boot\":true ", false, &size);
        assert_error(verify_bytes(changed, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                     "the TDX report's REPORT_DATA does not bind the variable data (SHA-256 differs)");
}

/* Runtime data a guest rewrote, with REPORT_DATA made to bind it: these checks refuse it on
 * their own, before the hardware signature would. */
static void test_rebound(void **state) {
        struct hcl_evidence evidence;
        size_t size;

        (void)state;
        {
                /* control: a rewrite that changes nothing still verifies */
                _cleanup_(freep) uint8_t *data =
                        report_with(AZURE "hcl-report-tdx.bin", "\"kid\":\"HCLAkPub\"", "\"kid\":\"HCLAkPub\"", true, &size);

                assert_int_equal(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), 0);
                hcl_evidence_clear(&evidence);
        }
        {
                /* HCLAkPub another key: the AK renamed, the EK named HCLAkPub */
                _cleanup_(freep) uint8_t *step = report_with(AZURE "hcl-report-tdx.bin", "\"kid\":\"HCLAkPub\"",
                                                             "\"kid\":\"HCLOldAk\"", false, &size);
                _cleanup_(freep) uint8_t *data =
                        rewrite(step, size, "\"kid\":\"HCLEkPub\"", "\"kid\":\"HCLAkPub\"", true, &size);

                assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                             "HCLAkPub is not the AK that signs the agent's quotes");
                assert_null(evidence.runtime.ak_public);
        }
        {
                /* no HCLAkPub: refused by the binding when REPORT_DATA is left alone, else by name */
                _cleanup_(freep) uint8_t *unbound = report_with(AZURE "hcl-report-tdx.bin", "\"kid\":\"HCLAkPub\"",
                                                                "\"kid\":\"HCLOldAk\"", false, &size);
                _cleanup_(freep) uint8_t *data =
                        report_with(AZURE "hcl-report-tdx.bin", "\"kid\":\"HCLAkPub\"", "\"kid\":\"HCLOldAk\"", true, &size);

                assert_error(verify_bytes(unbound, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EPERM,
                             "does not bind the variable data");
                assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EBADMSG,
                             "no key with kid \"HCLAkPub\" in \"keys\"");
        }
        {
                /* two HCLAkPub: the EK renamed; refused whichever of them is the AK */
                _cleanup_(freep) uint8_t *data =
                        report_with(AZURE "hcl-report-tdx.bin", "\"kid\":\"HCLEkPub\"", "\"kid\":\"HCLAkPub\"", true, &size);

                assert_error(verify_bytes(data, size, HCL_REPORT_TDX, VECTOR("hcl-akpub-tdx.pem"), &evidence), -EBADMSG,
                             "keys[0] and keys[1] both have kid \"HCLAkPub\"");
        }
        {
                /* a second, empty HCLAkPub ahead of the real one */
                _cleanup_(freep) uint8_t *data = report_with(AZURE "hcl-report-snp.bin", "{\"keys\":[",
                                                             "{\"keys\":[{\"kid\":\"HCLAkPub\"},", true, &size);

                assert_error(verify_bytes(data, size, HCL_REPORT_SNP, VECTOR("hcl-akpub-snp.pem"), &evidence), -EBADMSG,
                             "HCLAkPub: missing kty");
        }
}

/* quote.bin (manifest: u64-LE signature length, RSASSA-SHA256 signature, u64-LE length,
 * TPMS_ATTEST, u64-LE PCR count, the SHA-256 PCR values) as a Keylime quote string. */
static char *quote_bin_as_string(struct pcr_values *pcrs) {
        static struct quote_parts parts;
        _cleanup_(freep) uint8_t *data = NULL;
        TPMT_SIGNATURE signature = { .sigAlg = TPM2_ALG_RSASSA };
        uint32_t sig_size, sig_high, msg_size, msg_high, count, count_high;
        const uint8_t *sig, *msg, *pcr;
        struct reader r;
        char *text = NULL;
        size_t size;

        data = read_vector(AZURE "quote.bin", &size);
        reader_init(&r, data, size, "quote.bin");
        assert_int_equal(reader_u32le(&r, &sig_size, "signature length"), 0);
        assert_int_equal(reader_u32le(&r, &sig_high, "signature length"), 0);
        assert_int_equal(sig_high, 0);
        assert_int_equal(sig_size, 256);
        assert_int_equal(reader_bytes(&r, sig_size, &sig, "signature"), 0);
        assert_int_equal(reader_u32le(&r, &msg_size, "message length"), 0);
        assert_int_equal(reader_u32le(&r, &msg_high, "message length"), 0);
        assert_int_equal(msg_high, 0);
        assert_int_equal(msg_size, 122);
        assert_int_equal(reader_bytes(&r, msg_size, &msg, "message"), 0);
        assert_int_equal(reader_u32le(&r, &count, "PCR count"), 0);
        assert_int_equal(reader_u32le(&r, &count_high, "PCR count"), 0);
        assert_int_equal(count, 24);
        memset(pcrs, 0, sizeof(*pcrs));
        pcrs->bank = TPM2_ALG_SHA256;
        for (uint32_t i = 0; i < count; i++) {
                assert_int_equal(reader_bytes(&r, 32, &pcr, "PCR value"), 0);
                pcrs->mask |= 1u << i;
                pcrs->value[i].size = 32;
                memcpy(pcrs->value[i].buffer, pcr, 32);
        }
        assert_int_equal(reader_expect_end(&r), 0);

        memcpy(parts.attest, msg, msg_size);
        parts.attest_size = msg_size;
        signature.signature.rsassa.hash = TPM2_ALG_SHA256;
        signature.signature.rsassa.sig.size = (UINT16)sig_size;
        memcpy(signature.signature.rsassa.sig.buffer, sig, sig_size);
        assert_int_equal(
                tpmt_signature_marshal(&signature, parts.signature, sizeof(parts.signature), &parts.signature_size), 0);
        assert_int_equal(pcrblob_encode(pcrs, parts.pcrblob, sizeof(parts.pcrblob), &parts.pcrblob_size), 0);
        assert_int_equal(quote_string_encode(&parts, &text), 0);
        return text;
}

/* An RSA SubjectPublicKeyInfo as the TPM2B_PUBLIC of an RSASSA-SHA256 signing key. */
static void tpm_public_of(EVP_PKEY *key, TPM2B_PUBLIC *pub) {
        _cleanup_(BN_freep) BIGNUM *n = NULL;
        TPMT_PUBLIC *area = &pub->publicArea;

        memset(pub, 0, sizeof(*pub));
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        area->type = TPM2_ALG_RSA;
        area->nameAlg = TPM2_ALG_SHA256;
        area->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
                                 TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
        area->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        area->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        area->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        area->parameters.rsaDetail.keyBits = 2048;
        area->unique.rsa.size = 256;
        assert_int_equal(BN_bn2binpad(n, area->unique.rsa.buffer, 256), 256);
}

/* quote.bin verifies under akpub.pem with the verifier's own quote checks: its signature, its
 * nonce ("challenge"), its selection and its pcrDigest all pass, and the first check that fails
 * is vmattest's own PCR 16 binding of the payload key, which an Azure test quote cannot have.
 * Under the reports' HCLAkPub it fails at the signature: what an agent whose registered AK is
 * not the report's HCLAkPub would get. */
static void test_quote(void **state) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *akpub = load_pem_key(AZURE "akpub.pem");
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *hcl_ak = load_pem_key(VECTOR("hcl-akpub-snp.pem"));
        _cleanup_(freep) char *quote_string = NULL;
        static struct quote quote;
        struct quote_clock clock;
        struct pcr_values pcrs;
        TPM2B_PUBLIC ak;
        struct quote_expect expect = {
                .ak = &ak,
                .nonce = "challenge",
                .hash_alg = TPM2_ALG_SHA256,
                .mask = 0xffffff & ~(1u << 16),
                .pubkey_pem = "-----BEGIN PUBLIC KEY-----\n",
        };

        (void)state;
        quote_string = quote_bin_as_string(&pcrs);
        tpm_public_of(akpub, &ak);
        assert_error(quote_check(quote_string, &expect, &quote, &clock), -EPERM, "PCR 16 is not bound to the payload key");
        assert_int_equal(quote.attest.magic, TPM2_GENERATED_VALUE);
        assert_int_equal(quote.attest.type, TPM2_ST_ATTEST_QUOTE);
        assert_int_equal(quote.attest.clockInfo.clock, 3131573);
        assert_int_equal(quote.attest.clockInfo.resetCount, 3);
        assert_int_equal(quote.attest.clockInfo.restartCount, 0);
        assert_int_equal(quote.attest.clockInfo.safe, 1);
        assert_int_equal(quote.attest.firmwareVersion, 0x2020031200120003ull);

        expect.nonce = "challengf";
        assert_error(quote_check(quote_string, &expect, &quote, &clock), -EPERM, "not over the nonce we sent");
        expect.nonce = "challenge";

        tpm_public_of(hcl_ak, &ak);
        assert_error(quote_check(quote_string, &expect, &quote, &clock), -EPERM,
                     "quote signature does not verify under the registered AK");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snp),       cmocka_unit_test(test_tdx),     cmocka_unit_test(test_type),
                cmocka_unit_test(test_hash_type), cmocka_unit_test(test_binding), cmocka_unit_test(test_rebound),
                cmocka_unit_test(test_quote),     cmocka_unit_test(test_tdx_signed_report_data),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
