/* Fuzzes quote_check_signed (verifier/quote_check.h) under a real GCE vTPM AK
 * (tests/fixtures/platforms/gce/gce-cos-85-nonce9009/ak_pub.tpmt, read at start from the top of
 * the tree, where tests/run runs the harnesses). Input, read as a script (input.h):
 *   u16 attest size, attest bytes; u16 signature size, TPMT_SIGNATURE bytes;
 *   u8 bank (0 sha1, 1 sha256, 2 sha384), u32 PCR mask (big-endian), then the selected values
 *   in PCR order (the bank's size each); u8 nonce size, nonce bytes.
 * The seeds are the attestation's three quotes with their values and nonce (make-corpus.sh).
 * Invariants: only 0, -EBADMSG or -EPERM; a quote accepted is over the nonce given, selects one
 * bank, the values' own, and exactly their PCRs, and its pcrDigest is the SHA-256 of the values
 * (computed here apart from the code under test). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "lib/hashalg.h"
#include "tests/fuzz/input.h"
#include "verifier/quote_check.h"

#define AK_PATH "tests/fixtures/platforms/gce/gce-cos-85-nonce9009/ak_pub.tpmt"

static TPM2B_PUBLIC ak;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        uint8_t bytes[sizeof(TPMT_PUBLIC)];
        size_t size, offset = 0;
        FILE *f = fopen(AK_PATH, "rb");

        (void)argc;
        (void)argv;
        setenv("TSS2_LOG", "all+NONE", 0); /* tss2-mu logs each rejected structure */
        if (!f) {
                fprintf(stderr, "fuzz-quote-signed: cannot open %s (run from the top of the tree)\n", AK_PATH);
                abort();
        }
        size = fread(bytes, 1, sizeof(bytes), f);
        fclose(f);
        if (Tss2_MU_TPMT_PUBLIC_Unmarshal(bytes, size, &offset, &ak.publicArea) != TSS2_RC_SUCCESS || offset != size)
                abort();
        ak.size = (UINT16)size;
        return 0;
}

/* H_sha256 of the values in PCR order: the pcrDigest an accepted quote must hold. */
static void expect_pcr_digest(const TPMS_ATTEST *attest, const struct pcr_values *pcrs) {
        uint8_t digest[32];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

        for (unsigned i = 0; ok && i < PCR_MAX; i++)
                if (pcrs->mask & (1u << i))
                        ok = EVP_DigestUpdate(ctx, pcrs->value[i].buffer, pcrs->value[i].size);
        ok = ok && EVP_DigestFinal_ex(ctx, digest, NULL);
        EVP_MD_CTX_free(ctx);
        if (!ok)
                abort();
        if (attest->attested.quote.pcrDigest.size != 32 || memcmp(attest->attested.quote.pcrDigest.buffer, digest, 32))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const TPM2_ALG_ID banks[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384 };
        struct fuzz_input in = { .data = data, .size = size };
        static uint8_t attest_bytes[sizeof(TPMS_ATTEST)], sig_bytes[sizeof(TPMT_SIGNATURE)];
        static struct pcr_values pcrs;
        static TPMS_ATTEST attest;
        struct quote_signed q = { .ak = &ak, .sig_hash = TPM2_ALG_SHA256 };
        TPMT_SIGNATURE signature;
        uint8_t nonce[256];
        size_t attest_size, sig_size, nonce_size, offset = 0;
        uint32_t mask;
        int ret;

        attest_size = fuzz_bytes(&in, attest_bytes, fuzz_u16(&in) % (sizeof(attest_bytes) + 1));
        sig_size = fuzz_bytes(&in, sig_bytes, fuzz_u16(&in) % (sizeof(sig_bytes) + 1));
        memset(&signature, 0, sizeof(signature));
        if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig_bytes, sig_size, &offset, &signature) != TSS2_RC_SUCCESS ||
            offset != sig_size)
                return 0;
        memset(&pcrs, 0, sizeof(pcrs));
        pcrs.bank = banks[fuzz_byte(&in) % 3];
        mask = (uint32_t)fuzz_u16(&in) << 16;
        mask |= fuzz_u16(&in);
        pcrs.mask = mask;
        for (unsigned i = 0; i < PCR_MAX; i++)
                if (mask & (1u << i)) {
                        pcrs.value[i].size = (UINT16)hashalg_size(pcrs.bank);
                        fuzz_bytes(&in, pcrs.value[i].buffer, pcrs.value[i].size);
                }
        nonce_size = fuzz_bytes(&in, nonce, fuzz_byte(&in));

        q.attest = attest_bytes, q.attest_size = attest_size, q.signature = &signature;
        q.nonce = nonce, q.nonce_size = nonce_size, q.pcrs = &pcrs;
        ret = quote_check_signed(&q, &attest);
        if (ret != 0 && ret != -EBADMSG && ret != -EPERM)
                abort();
        if (ret != 0)
                return 0;
        if (attest.extraData.size != nonce_size || memcmp(attest.extraData.buffer, nonce, nonce_size) != 0)
                abort();
        if (attest.attested.quote.pcrSelect.count != 1 || attest.attested.quote.pcrSelect.pcrSelections[0].hash != pcrs.bank)
                abort();
        expect_pcr_digest(&attest, &pcrs);
        return 0;
}
