#include "lib/tsm_binding.h"

#include <openssl/evp.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"

/* A Name as TPM 2.0 Part 1 §16 defines it for an object: a 2-byte hash algorithm the project
 * knows, then exactly that algorithm's digest. */
static int name_check(const TPM2B_NAME *name, const char *which) {
        TPM2_ALG_ID alg;
        size_t digest_size;

        if (name->size < 2)
                return vm_error(-EINVAL, "TSM binding: %s name is %u bytes, not nameAlg || digest", which, name->size);
        alg = (TPM2_ALG_ID)(name->name[0] << 8 | name->name[1]);
        digest_size = hashalg_size(alg);
        if (!digest_size)
                return vm_error(-EINVAL, "TSM binding: %s name's algorithm 0x%04x is not a known hash", which, alg);
        if (name->size != 2 + digest_size)
                return vm_error(-EINVAL, "TSM binding: %s name is %u bytes, %s names are %zu", which, name->size,
                                hashalg_name(alg), 2 + digest_size);
        return 0;
}

int tsm_report_binding(const uint8_t *nonce, size_t nonce_size, const TPM2B_NAME *ak_name, const TPM2B_NAME *ek_name,
                       uint8_t out[TSM_BINDING_SIZE]) {
        static const uint8_t separator = 0x00;
        EVP_MD_CTX *ctx;
        unsigned size = 0;
        int ok, ret;

        if (nonce_size == 0 || nonce_size > TSM_BINDING_NONCE_MAX)
                return vm_error(-EINVAL, "TSM binding: nonce is %zu bytes, not 1-%d", nonce_size, TSM_BINDING_NONCE_MAX);
        if ((ret = name_check(ak_name, "AK")) < 0 || (ret = name_check(ek_name, "EK")) < 0)
                return ret;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) &&
             EVP_DigestUpdate(ctx, TSM_BINDING_LABEL, strlen(TSM_BINDING_LABEL)) &&
             EVP_DigestUpdate(ctx, &separator, 1) && EVP_DigestUpdate(ctx, nonce, nonce_size) &&
             EVP_DigestUpdate(ctx, ak_name->name, ak_name->size) && EVP_DigestUpdate(ctx, ek_name->name, ek_name->size) &&
             EVP_DigestFinal_ex(ctx, out, &size) && size == TSM_BINDING_SIZE;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : vm_error(-EIO, "TSM binding: SHA-512 failed");
}
