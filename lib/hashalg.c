#include "hashalg.h"

#include <string.h>

#include "cleanup.h"
#include "error.h"

static const struct hashalg {
        TPM2_ALG_ID id;
        const char *name;
        size_t size;
} hashalgs[] = {
        { TPM2_ALG_SHA1, "sha1", TPM2_SHA1_DIGEST_SIZE },
        { TPM2_ALG_SHA256, "sha256", TPM2_SHA256_DIGEST_SIZE },
        { TPM2_ALG_SHA384, "sha384", TPM2_SHA384_DIGEST_SIZE },
        { TPM2_ALG_SHA512, "sha512", TPM2_SHA512_DIGEST_SIZE },
};

static const struct hashalg *hashalg_find(TPM2_ALG_ID id) {
        for (size_t i = 0; i < ELEMENTSOF(hashalgs); i++)
                if (hashalgs[i].id == id)
                        return &hashalgs[i];
        return NULL;
}

TPM2_ALG_ID hashalg_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(hashalgs); i++)
                if (strcmp(hashalgs[i].name, name) == 0)
                        return hashalgs[i].id;
        return TPM2_ALG_ERROR;
}

TPM2_ALG_ID hashalg_for_quotes(const char *name) {
        TPM2_ALG_ID alg = hashalg_from_name(name);

        return alg == TPM2_ALG_SHA1 ? TPM2_ALG_ERROR : alg;
}

const char *hashalg_name(TPM2_ALG_ID alg) {
        const struct hashalg *h = hashalg_find(alg);

        return h ? h->name : NULL;
}

size_t hashalg_size(TPM2_ALG_ID alg) {
        const struct hashalg *h = hashalg_find(alg);

        return h ? h->size : 0;
}

const EVP_MD *hashalg_md(TPM2_ALG_ID alg) {
        switch (alg) {
        case TPM2_ALG_SHA1:
                return EVP_sha1();
        case TPM2_ALG_SHA256:
                return EVP_sha256();
        case TPM2_ALG_SHA384:
                return EVP_sha384();
        case TPM2_ALG_SHA512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

int hashalg_digest(TPM2_ALG_ID alg, const void *data, size_t size, uint8_t *out) {
        const EVP_MD *md = hashalg_md(alg);

        if (!md)
                return vm_error(-EINVAL, "unsupported hash algorithm 0x%04x", alg);
        if (!EVP_Digest(data, size, out, NULL, md, NULL))
                return vm_error(-EIO, "OpenSSL digest failed");
        return 0;
}
