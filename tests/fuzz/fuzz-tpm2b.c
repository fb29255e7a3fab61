/* Fuzzes tpm2b.h unmarshalling (byte 0 picks the type) and tpmkey_to_evp; invariant: marshal(unmarshal(x)) == x. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/hashalg.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

enum selector { SELECT_PUBLIC, SELECT_ATTEST, SELECT_SIGNATURE, SELECT_COUNT };

/* The largest wire form of the three structures; each marshals to at most its C size. */
static uint8_t marshalled[sizeof(TPM2B_PUBLIC) + sizeof(TPMS_ATTEST) + sizeof(TPMT_SIGNATURE)];

static void expect_bytes(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size) {
        if (a_size != b_size || memcmp(a, b, a_size) != 0)
                abort();
}

static void fuzz_public(const uint8_t *data, size_t size) {
        static TPM2B_PUBLIC pub, again;
        EVP_PKEY *key = NULL;
        TPM2B_NAME name;
        size_t out_size = 0;

        if (tpm2b_public_unmarshal(data, size, &pub) < 0)
                return;
        if (tpm2b_public_marshal(&pub, marshalled, sizeof(marshalled), &out_size) < 0)
                abort();
        expect_bytes(marshalled, out_size, data, size);
        if (tpm2b_public_unmarshal(marshalled, out_size, &again) < 0 || memcmp(&pub, &again, sizeof(pub)) != 0)
                abort();

        if (tpm2b_public_name(&pub, &name) == 0 && name.size != 2 + hashalg_size(pub.publicArea.nameAlg))
                abort();
        if (tpmkey_to_evp(&pub.publicArea, &key) == 0 && !key)
                abort();
        EVP_PKEY_free(key);
}

static void fuzz_attest(const uint8_t *data, size_t size) {
        static TPMS_ATTEST attest, again;
        size_t out_size = 0;

        if (tpms_attest_unmarshal(data, size, &attest) < 0)
                return;
        if (tpms_attest_marshal(&attest, marshalled, sizeof(marshalled), &out_size) < 0)
                abort();
        expect_bytes(marshalled, out_size, data, size);
        if (tpms_attest_unmarshal(marshalled, out_size, &again) < 0 || memcmp(&attest, &again, sizeof(attest)) != 0)
                abort();
}

static void fuzz_signature(const uint8_t *data, size_t size) {
        static TPMT_SIGNATURE signature, again;
        size_t out_size = 0;

        if (tpmt_signature_unmarshal(data, size, &signature) < 0)
                return;
        if (tpmt_signature_marshal(&signature, marshalled, sizeof(marshalled), &out_size) < 0)
                abort();
        expect_bytes(marshalled, out_size, data, size);
        if (tpmt_signature_unmarshal(marshalled, out_size, &again) < 0 ||
            memcmp(&signature, &again, sizeof(signature)) != 0)
                abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tss2-mu logs every rejected structure to stderr, which would slow the fuzzer down to the
 * speed of the terminal; TSS2_LOG set by hand (to reproduce a crash) is left alone. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        setenv("TSS2_LOG", "all+NONE", 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        switch (data[0] % SELECT_COUNT) {
        case SELECT_PUBLIC:
                fuzz_public(data + 1, size - 1);
                break;
        case SELECT_ATTEST:
                fuzz_attest(data + 1, size - 1);
                break;
        case SELECT_SIGNATURE:
                fuzz_signature(data + 1, size - 1);
                break;
        }
        return 0;
}
