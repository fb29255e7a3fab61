/* verifier/quote_check.c's checks (quote_check_signed, which quote_check makes too) on a real
 * cloud's evidence: a GCE Shielded VM's attestation with the nonce 0x9009
 * (tests/fixtures/platforms/gce/gce-cos-85-nonce9009). Its AK (a TPMT_PUBLIC, RSASSA with
 * SHA-256) signs a quote of each of the SHA-1, SHA-256 and SHA-384 banks, each over the nonce's
 * two bytes, each pcrDigest the SHA-256 of that bank's 24 PCR values (pcrs.json); the firmware's
 * event log replays to each bank's PCRs 0-9. Tampered evidence is refused by name: a flipped
 * byte of any quote or signature, another nonce, a changed PCR value, another bank's values, a
 * demand for another signature hash. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <json-c/json.h>
#include <tss2/tss2_mu.h>

#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/tpm2b.h"
#include "verifier/quote_check.h"

#define GCE "tests/fixtures/platforms/gce/gce-cos-85-nonce9009/"
#define LOG_PCRS 0x3ffu /* PCRs 0-9: the firmware's, GRUB's and the kernel's */

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

static const char *const banks[] = { "sha1", "sha256", "sha384" };

struct evidence {
        uint8_t *attest;
        size_t attest_size;
        TPMT_SIGNATURE signature;
        TPM2B_PUBLIC ak;
        uint8_t nonce[8];
        size_t nonce_size;
        struct pcr_values pcrs;
};

static void unhex(const char *hex, uint8_t *out, size_t size) {
        assert_int_equal(strlen(hex), 2 * size);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

/* pcrs.json: {"bank": "sha256", "pcrs": {"0": "hex", ...}} */
static void load_pcrs(const char *path, struct pcr_values *pcrs) {
        _cleanup_(json_object_putp) json_object *root = json_object_from_file(path);
        json_object *bank, *values;

        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "bank", &bank));
        assert_true(json_object_object_get_ex(root, "pcrs", &values));
        memset(pcrs, 0, sizeof(*pcrs));
        pcrs->bank = hashalg_from_name(json_object_get_string(bank));
        assert_true(hashalg_size(pcrs->bank) > 0);
        json_object_object_foreach(values, key, value) {
                unsigned pcr = (unsigned)atoi(key);

                assert_true(pcr < 24);
                pcrs->mask |= 1u << pcr;
                pcrs->value[pcr].size = (UINT16)hashalg_size(pcrs->bank);
                unhex(json_object_get_string(value), pcrs->value[pcr].buffer, pcrs->value[pcr].size);
        }
}

/* ak_pub.tpmt is a TPMT_PUBLIC (no TPM2B size): unmarshalled whole, through tss2-mu. */
static void load_ak(TPM2B_PUBLIC *ak) {
        _cleanup_(freep) uint8_t *bytes = NULL;
        size_t size, offset = 0;

        bytes = read_vector(GCE "ak_pub.tpmt", &size);
        memset(ak, 0, sizeof(*ak));
        assert_int_equal(Tss2_MU_TPMT_PUBLIC_Unmarshal(bytes, size, &offset, &ak->publicArea), TSS2_RC_SUCCESS);
        assert_int_equal(offset, size);
        ak->size = (UINT16)size;
}

static void load(const char *bank, struct evidence *ev) {
        _cleanup_(freep) uint8_t *sig = NULL, *nonce_hex = NULL;
        char path[256];
        size_t size;

        memset(ev, 0, sizeof(*ev));
        load_ak(&ev->ak);
        snprintf(path, sizeof(path), GCE "quote-%s/quote.attest", bank);
        ev->attest = read_vector(path, &ev->attest_size);
        snprintf(path, sizeof(path), GCE "quote-%s/quote.sig", bank);
        sig = read_vector(path, &size);
        assert_int_equal(tpmt_signature_unmarshal(sig, size, &ev->signature), 0);
        snprintf(path, sizeof(path), GCE "quote-%s/pcrs.json", bank);
        load_pcrs(path, &ev->pcrs);
        assert_int_equal(ev->pcrs.bank, hashalg_from_name(bank));
        nonce_hex = read_vector(GCE "nonce.hex", &size);
        while (size > 0 && (nonce_hex[size - 1] == '\n' || nonce_hex[size - 1] == ' '))
                nonce_hex[--size] = '\0';
        ev->nonce_size = size / 2;
        unhex((const char *)nonce_hex, ev->nonce, ev->nonce_size);
}

static void done(struct evidence *ev) {
        free(ev->attest);
}

/* The hash the AK signs with, from its own (registered, trusted) public area. */
static TPM2_ALG_ID ak_scheme_hash(const TPM2B_PUBLIC *ak) {
        assert_int_equal(ak->publicArea.type, TPM2_ALG_RSA);
        assert_int_equal(ak->publicArea.parameters.rsaDetail.scheme.scheme, TPM2_ALG_RSASSA);
        return ak->publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg;
}

static int check(const struct evidence *ev, const struct pcr_values *pcrs, const uint8_t *nonce, size_t nonce_size,
                 TPM2_ALG_ID sig_hash, TPMS_ATTEST *attest) {
        struct quote_signed q = {
                .attest = ev->attest, .attest_size = ev->attest_size, .signature = &ev->signature, .ak = &ev->ak,
                .sig_hash = sig_hash, .nonce = nonce, .nonce_size = nonce_size, .pcrs = pcrs,
        };

        vm_error_clear();
        return quote_check_signed(&q, attest);
}

static void test_real_quotes(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        size_t log_size;

        (void)state;
        log = read_vector(GCE "event_log.bin", &log_size);
        for (size_t b = 0; b < ELEMENTSOF(banks); b++) {
                struct evidence ev;
                struct pcr_values replayed;
                TPMS_ATTEST attest;
                int ret;

                load(banks[b], &ev);
                assert_int_equal(ev.nonce_size, 2);
                assert_int_equal(ak_scheme_hash(&ev.ak), TPM2_ALG_SHA256);
                ret = check(&ev, &ev.pcrs, ev.nonce, ev.nonce_size, ak_scheme_hash(&ev.ak), &attest);
                if (ret != 0)
                        fail_msg("quote-%s: %s", banks[b], vm_error_detail(ret));
                assert_int_equal(ev.pcrs.mask, 0xffffff);
                assert_int_equal(attest.attested.quote.pcrSelect.pcrSelections[0].hash, ev.pcrs.bank);
                assert_int_equal(attest.clockInfo.resetCount, 10);
                assert_int_equal(attest.clockInfo.safe, 1);

                /* the event log accounts for PCRs 0-9 of the quoted values */
                assert_int_equal(eventlog_replay(log, log_size, ev.pcrs.bank, &replayed), 0);
                assert_int_equal(replayed.mask, LOG_PCRS);
                for (unsigned pcr = 0; pcr < 10; pcr++)
                        if (memcmp(replayed.value[pcr].buffer, ev.pcrs.value[pcr].buffer, hashalg_size(ev.pcrs.bank)))
                                fail_msg("quote-%s: event_log.bin does not replay to PCR %u", banks[b], pcr);
                print_message("# quote-%s: signed by the AK over nonce 9009, PCRs 0-9 replay\n", banks[b]);
                done(&ev);
        }
}

/* Every single-bit flip of any byte of each quote, and of each signature's RSA bytes, is
 * refused: the attest's by its parse or its signature, the signature's by its own check. */
static void test_flipped_bytes(void **state) {
        (void)state;
        for (size_t b = 0; b < ELEMENTSOF(banks); b++) {
                struct evidence ev;
                TPMS_ATTEST attest;
                TPM2B_PUBLIC_KEY_RSA *rsa;

                load(banks[b], &ev);
                for (size_t i = 0; i < ev.attest_size; i++) {
                        int ret;

                        ev.attest[i] ^= 0x01;
                        ret = check(&ev, &ev.pcrs, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest);
                        if (ret == 0)
                                fail_msg("quote-%s: byte %zu flipped, accepted", banks[b], i);
                        if (ret == -EPERM)
                                assert_detail_contains(ret, "quote signature does not verify under the registered AK");
                        else
                                assert_int_equal(ret, -EBADMSG);
                        ev.attest[i] ^= 0x01;
                }
                rsa = &ev.signature.signature.rsassa.sig;
                for (size_t i = 0; i < rsa->size; i += 7) {
                        rsa->buffer[i] ^= 0x80;
                        assert_int_equal(check(&ev, &ev.pcrs, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest),
                                         -EPERM);
                        assert_detail_contains(-EPERM, "quote signature does not verify under the registered AK");
                        rsa->buffer[i] ^= 0x80;
                }
                assert_int_equal(check(&ev, &ev.pcrs, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest), 0);
                done(&ev);
        }
}

static void test_tampered(void **state) {
        static const uint8_t other_nonce[] = { 0x90, 0x08 }, longer_nonce[] = { 0x90, 0x09, 0x00 };
        struct evidence ev, sha1;
        TPMS_ATTEST attest;
        struct pcr_values changed;

        (void)state;
        load("sha384", &ev);
        load("sha1", &sha1);
        assert_error(check(&ev, &ev.pcrs, other_nonce, sizeof(other_nonce), TPM2_ALG_SHA256, &attest), -EPERM,
                     "quote is not over the nonce we sent");
        assert_error(check(&ev, &ev.pcrs, longer_nonce, sizeof(longer_nonce), TPM2_ALG_SHA256, &attest), -EPERM,
                     "quote is not over the nonce we sent");
        assert_error(check(&ev, &ev.pcrs, ev.nonce, 0, TPM2_ALG_SHA256, &attest), -EPERM,
                     "quote is not over the nonce we sent");

        /* each PCR's value changed in turn (pcrs.json is not signed; its digest is) */
        for (unsigned pcr = 0; pcr < 24; pcr++) {
                changed = ev.pcrs;
                changed.value[pcr].buffer[pcr % 48] ^= 0x01;
                assert_error(check(&ev, &changed, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest), -EPERM,
                             "the PCR values sent do not hash to the quote's pcrDigest");
        }
        /* a PCR left out, another bank's values, values of one PCR too many */
        changed = ev.pcrs;
        changed.mask &= ~(1u << 9);
        assert_error(check(&ev, &changed, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest), -EPERM,
                     "the PCR values sent are not the ones quoted (selection 0xffffff, values 0xfffdff)");
        assert_error(check(&ev, &sha1.pcrs, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest), -EPERM,
                     "the PCR values sent are not the ones quoted");
        changed = ev.pcrs;
        changed.mask |= 1u << 24;
        assert_error(check(&ev, &changed, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest), -EPERM,
                     "the PCR values sent are not the ones quoted");
        /* a verifier wanting SHA-384 signatures: the signature's SHA-256 is refused, not followed */
        assert_error(check(&ev, &ev.pcrs, ev.nonce, ev.nonce_size, TPM2_ALG_SHA384, &attest), -EPERM,
                     "quote signature uses hash 0x000b, not sha384");
        /* the SHA-1 quote's signature over the SHA-384 quote */
        ev.signature = sha1.signature;
        assert_error(check(&ev, &ev.pcrs, ev.nonce, ev.nonce_size, TPM2_ALG_SHA256, &attest), -EPERM,
                     "quote signature does not verify under the registered AK");
        done(&sha1);
        done(&ev);
}

int main(void) {
        /* tss2-mu logs each malformed attest of test_flipped_bytes to stderr */
        setenv("TSS2_LOG", "all+none", 0);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_quotes),
                cmocka_unit_test(test_flipped_bytes),
                cmocka_unit_test(test_tampered),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
