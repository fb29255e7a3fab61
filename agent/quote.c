#include "agent/quote.h"

#include <string.h>

#include "agent/pcr.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/tpm2b.h"

#define QUOTE_ATTEMPTS 5

/* One TPM2_Quote + TPM2_PCR_Read; *agree tells whether the values match the pcrDigest. */
static int quote_once(struct tpm *tpm, const struct ak *ak, const struct quote_request *req,
                      const TPML_PCR_SELECTION *sel, struct quote_parts *parts, struct pcr_values *pcrs, bool *agree) {
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL }; /* the AK's own scheme */
        TPM2B_DATA extra = { .size = (UINT16)req->nonce_size };
        TPM2B_ATTEST *quoted = NULL;
        TPMT_SIGNATURE *signature = NULL;
        TPMS_ATTEST attest;
        uint8_t digest[TPM2_MAX_DIGEST_BUFFER];
        int ret;

        memcpy(extra.buffer, req->nonce, req->nonce_size);
        ret = TPM_RUN("TPM2_Quote", Esys_Quote(tpm->esys, ak->handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                               &extra, &scheme, sel, &quoted, &signature));
        if (ret < 0)
                return ret;
        ret = pcr_read(tpm, req->bank, req->mask, pcrs);
        if (ret >= 0)
                ret = tpms_attest_unmarshal(quoted->attestationData, quoted->size, &attest);
        if (ret >= 0)
                ret = pcr_values_digest(pcrs, digest);
        if (ret >= 0) {
                const TPM2B_DIGEST *quoted_digest = &attest.attested.quote.pcrDigest;

                *agree = quoted_digest->size == hashalg_size(req->bank) &&
                         memcmp(quoted_digest->buffer, digest, quoted_digest->size) == 0;
                memcpy(parts->attest, quoted->attestationData, quoted->size);
                parts->attest_size = quoted->size;
                ret = tpmt_signature_marshal(signature, parts->signature, sizeof(parts->signature),
                                             &parts->signature_size);
        }
        if (ret >= 0)
                ret = pcrblob_encode(pcrs, parts->pcrblob, sizeof(parts->pcrblob), &parts->pcrblob_size);
        Esys_Free(quoted);
        Esys_Free(signature);
        return ret;
}

int quote_take(struct tpm *tpm, const struct ak *ak, const struct quote_request *req, struct quote_parts *parts,
               struct pcr_values *pcrs) {
        struct pcr_values local;
        TPML_PCR_SELECTION sel;
        TPM2_ALG_ID ak_hash = ak_sign_hash(ak);

        if (req->nonce_size == 0 || req->nonce_size > QUOTE_NONCE_MAX)
                return vm_error(-EINVAL, "nonce of %zu bytes: must be 1-%d", req->nonce_size, QUOTE_NONCE_MAX);
        if (req->mask == 0)
                return vm_error(-EINVAL, "no PCR selected");
        /* docs/protocol.md §2: the signature's hash and the PCR bank must both be hash_alg. */
        if (req->bank != ak_hash)
                return vm_error(-EINVAL, "PCR bank %s differs from the AK's signing hash %s", hashalg_name(req->bank),
                                hashalg_name(ak_hash));
        pcr_selection_from_mask(req->bank, req->mask, &sel);
        for (unsigned attempt = 1; attempt <= QUOTE_ATTEMPTS; attempt++) {
                bool agree = false;
                int ret = quote_once(tpm, ak, req, &sel, parts, pcrs ? pcrs : &local, &agree);

                if (ret < 0 || agree)
                        return ret;
                log_debug("PCRs changed between TPM2_Quote and TPM2_PCR_Read (attempt %u), quoting again", attempt);
        }
        return vm_error(-EAGAIN, "PCRs kept changing between quote and read in %d attempts", QUOTE_ATTEMPTS);
}
