/* Fuzzes host_binding_parse (docs/protocol.md §5.9) and host_binding_check behind it, with a
 * policy trusting the blob's own host AK so that the signature, pcrDigest, qualifyingData and
 * PCR steps all run; invariant: what parses re-encodes to the same bytes. Input: the blob as an
 * NV index holds it, or as the host service answers (seeds: tests/fuzz/corpus/host-binding, the
 * blob and the truncated index of tests/integration/test-host-binding.sh and a fresh binding of
 * tests/integration/test-host-fresh.sh, kept from runs with KEEP_TMP=1). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/host_binding.h"
#include "lib/tpmkey.h"
#include "verifier/host_binding_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tss2-mu logs every rejected structure to stderr; TSS2_LOG set by hand is left alone. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        setenv("TSS2_LOG", "all+NONE", 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct host_binding binding;
        static uint8_t encoded[HOST_BINDING_MAX_SIZE];
        static TPM2B_PUBLIC ek;
        static struct host_class class;
        struct host_policy policy = { 0 };
        EVP_PKEY *key = NULL;
        size_t encoded_size = 0;

        /* no bytes is no binding (-ENOENT), not a malformed one */
        if (size == 0)
                return 0;
        if (host_binding_parse(data, size, &binding) < 0) {
                if (host_binding_check(data, size, &ek, NULL, 0, &policy, NULL) != -EBADMSG)
                        abort();
                return 0;
        }
        if (host_binding_encode(&binding, encoded, sizeof(encoded), &encoded_size) < 0)
                abort();
        if (encoded_size != size || memcmp(encoded, data, size) != 0)
                abort();

        /* an EK-shaped key whose Name the qualifyingData step hashes */
        ek.publicArea.type = TPM2_ALG_RSA;
        ek.publicArea.nameAlg = TPM2_ALG_SHA256;
        ek.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        ek.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        ek.publicArea.parameters.rsaDetail.keyBits = 2048;
        if (tpmkey_to_evp(&binding.host_ak.publicArea, &key) == 0) {
                policy.trusted_aks = &key;
                policy.trusted_ak_count = 1;
                class.pcrs = binding.pcrs;
                policy.classes = &class;
                policy.class_count = 1;
        }
        /* a fresh binding checked against the nonce it names, so that every step runs for it too */
        if (binding.version == HOST_BINDING_VERSION_FRESH) {
                (void)host_binding_check(data, size, &ek, binding.nonce, binding.nonce_size, &policy, NULL);
                policy.fresh = true;
        }
        (void)host_binding_check(data, size, &ek, NULL, 0, &policy, NULL);
        EVP_PKEY_free(key);
        return 0;
}
