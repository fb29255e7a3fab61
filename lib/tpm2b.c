#include "tpm2b.h"

#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "encoding.h"
#include "error.h"
#include "hashalg.h"

/* Defines NAME_unmarshal(data, size, out) that fails unless TYPE consumes all `size` bytes. */
#define DEFINE_EXACT_UNMARSHAL(name, TYPE, label)                                                     \
        int name(const uint8_t *data, size_t size, TYPE *out) {                                       \
                size_t offset = 0;                                                                    \
                TSS2_RC rc;                                                                           \
                                                                                                      \
                memset(out, 0, sizeof(*out));                                                         \
                rc = Tss2_MU_##TYPE##_Unmarshal(data, size, &offset, out);                            \
                if (rc != TSS2_RC_SUCCESS)                                                            \
                        return vm_error(-EBADMSG, "%s: malformed (%zu bytes): %s", label, size,       \
                                        Tss2_RC_Decode(rc));                                          \
                if (offset != size)                                                                   \
                        return vm_error(-EBADMSG, "%s: %zu unexpected trailing bytes after %zu", label, \
                                        size - offset, offset);                                       \
                return 0;                                                                             \
        }

#define DEFINE_MARSHAL(name, TYPE, label)                                                             \
        int name(const TYPE *in, uint8_t *out, size_t cap, size_t *out_size) {                        \
                size_t offset = 0;                                                                    \
                TSS2_RC rc = Tss2_MU_##TYPE##_Marshal(in, out, cap, &offset);                         \
                                                                                                      \
                if (rc != TSS2_RC_SUCCESS)                                                            \
                        return vm_error(-EINVAL, "%s: cannot marshal: %s", label, Tss2_RC_Decode(rc)); \
                *out_size = offset;                                                                   \
                return 0;                                                                             \
        }

DEFINE_EXACT_UNMARSHAL(tpms_attest_unmarshal, TPMS_ATTEST, "TPMS_ATTEST")
DEFINE_EXACT_UNMARSHAL(tpmt_signature_unmarshal, TPMT_SIGNATURE, "TPMT_SIGNATURE")
DEFINE_EXACT_UNMARSHAL(tpm2b_private_unmarshal, TPM2B_PRIVATE, "TPM2B_PRIVATE")
static DEFINE_EXACT_UNMARSHAL(tpm2b_public_unmarshal_mu, TPM2B_PUBLIC, "TPM2B_PUBLIC")

DEFINE_MARSHAL(tpm2b_public_marshal, TPM2B_PUBLIC, "TPM2B_PUBLIC")
DEFINE_MARSHAL(tpmt_public_marshal, TPMT_PUBLIC, "TPMT_PUBLIC")
DEFINE_MARSHAL(tpms_attest_marshal, TPMS_ATTEST, "TPMS_ATTEST")
DEFINE_MARSHAL(tpmt_signature_marshal, TPMT_SIGNATURE, "TPMT_SIGNATURE")
DEFINE_MARSHAL(tpm2b_private_marshal, TPM2B_PRIVATE, "TPM2B_PRIVATE")

int tpm2b_public_unmarshal(const uint8_t *data, size_t size, TPM2B_PUBLIC *out) {
        int ret = tpm2b_public_unmarshal_mu(data, size, out);

        if (ret < 0)
                return ret;
        /* tss2-mu takes a zero size as an empty (absent) public area: for us it is no key */
        if (out->size == 0)
                return vm_error(-EBADMSG, "TPM2B_PUBLIC: empty (size 0)");
        /* The size prefix must describe exactly the TPMT_PUBLIC that follows it. */
        if ((size_t)out->size + 2 != size)
                return vm_error(-EBADMSG, "TPM2B_PUBLIC: size field %u disagrees with %zu bytes of TPMT_PUBLIC",
                                out->size, size - 2);
        return 0;
}

char *tpm2b_public_base64(const TPM2B_PUBLIC *pub) {
        uint8_t bytes[sizeof(TPM2B_PUBLIC)];
        size_t size = 0;

        if (tpm2b_public_marshal(pub, bytes, sizeof(bytes), &size) < 0)
                return NULL;
        return base64_encode(bytes, size);
}

int tpm2b_public_name(const TPM2B_PUBLIC *pub, TPM2B_NAME *name) {
        TPM2_ALG_ID alg = pub->publicArea.nameAlg;
        size_t digest_size = hashalg_size(alg), size = 0;
        uint8_t marshalled[sizeof(TPMT_PUBLIC)];
        int ret;

        if (!digest_size || alg == TPM2_ALG_SHA1)
                return vm_error(-EINVAL, "TPM2B_PUBLIC: unsupported nameAlg 0x%04x", alg);
        ret = tpmt_public_marshal(&pub->publicArea, marshalled, sizeof(marshalled), &size);
        if (ret < 0)
                return ret;
        name->name[0] = (uint8_t)(alg >> 8);
        name->name[1] = (uint8_t)alg;
        ret = hashalg_digest(alg, marshalled, size, name->name + 2);
        if (ret < 0)
                return ret;
        name->size = (UINT16)(2 + digest_size);
        return 0;
}
