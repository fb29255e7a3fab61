/* Fuzzes credential_blob_parse, the agent's parser of the registrar's makecredential blob.
 * Invariants: it accepts exactly what tss2-mu's unmarshalling of the same layout accepts, with the
 * same structures, and what it accepts marshals back to the same bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "lib/credential.h"
#include "lib/error.h"

/* The same layout read with tss2-mu alone, as the oracle. */
static bool mu_parse(const uint8_t *data, size_t size, TPM2B_ID_OBJECT *id_object,
                     TPM2B_ENCRYPTED_SECRET *encrypted_seed) {
        uint32_t magic = 0, version = 0;
        size_t offset = 0;

        return Tss2_MU_UINT32_Unmarshal(data, size, &offset, &magic) == TSS2_RC_SUCCESS &&
               magic == CREDENTIAL_BLOB_MAGIC &&
               Tss2_MU_UINT32_Unmarshal(data, size, &offset, &version) == TSS2_RC_SUCCESS &&
               version == CREDENTIAL_BLOB_VERSION &&
               Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(data, size, &offset, id_object) == TSS2_RC_SUCCESS &&
               Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(data, size, &offset, encrypted_seed) == TSS2_RC_SUCCESS &&
               offset == size;
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
        TPM2B_ENCRYPTED_SECRET encrypted_seed, mu_seed;
        TPM2B_ID_OBJECT id_object, mu_id;
        uint8_t *again = NULL;
        size_t again_size = 0;
        bool mu_ok;
        int ret;

        ret = credential_blob_parse(data, size, &id_object, &encrypted_seed);
        mu_ok = mu_parse(data, size, &mu_id, &mu_seed);
        if (ret < 0) {
                if (ret != -EBADMSG || mu_ok)
                        abort();
                return 0;
        }
        if (!mu_ok || id_object.size != mu_id.size ||
            memcmp(id_object.credential, mu_id.credential, mu_id.size) != 0 || encrypted_seed.size != mu_seed.size ||
            memcmp(encrypted_seed.secret, mu_seed.secret, mu_seed.size) != 0)
                abort();
        if (credential_blob_marshal(&id_object, &encrypted_seed, &again, &again_size) < 0 || again_size != size ||
            memcmp(again, data, size) != 0)
                abort();
        free(again);
        return 0;
}
