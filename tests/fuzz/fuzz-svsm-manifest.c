/* Fuzzes svsm_manifest_parse (verifier/svsm_manifest.h) with a raw SVSM vTPM manifest; seeds:
 * swtpm's RSA and ECC EKs' public areas and an all-services manifest's header. Invariants: an
 * accepted manifest is an RSA or ECC key that tss2-mu reads the same (the key matches), and
 * marshals back to exactly the bytes given; a refusal is -EBADMSG. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tpm2b.h"
#include "verifier/svsm_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t wrapped[SVSM_MANIFEST_MAX + 2], again[SVSM_MANIFEST_MAX];
        TPMT_PUBLIC ek;
        TPM2B_PUBLIC mu;
        size_t again_size = 0;
        int ret = svsm_manifest_parse(data, size, &ek);

        if (ret < 0) {
                if (ret != -EBADMSG)
                        abort();
                return 0;
        }
        if ((ek.type != TPM2_ALG_RSA && ek.type != TPM2_ALG_ECC) || size > SVSM_MANIFEST_MAX)
                abort();
        if (svsm_manifest_ek_match(&ek, &ek) != 0)
                abort();
        wrapped[0] = (uint8_t)(size >> 8), wrapped[1] = (uint8_t)size;
        memcpy(wrapped + 2, data, size);
        if (tpm2b_public_unmarshal(wrapped, size + 2, &mu) < 0 || svsm_manifest_ek_match(&ek, &mu.publicArea) != 0)
                abort();
        if (tpmt_public_marshal(&ek, again, sizeof(again), &again_size) < 0 || again_size != size ||
            memcmp(again, data, size) != 0)
                abort();
        return 0;
}
