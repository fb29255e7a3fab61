#include "tpmkey.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "error.h"
#include "hashalg.h"

DEFINE_POINTER_CLEANUP(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
DEFINE_POINTER_CLEANUP(OSSL_PARAM, OSSL_PARAM_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

static int rsa_params(const TPMT_PUBLIC *pub, OSSL_PARAM_BLD *bld, BIGNUM **n, BIGNUM **e) {
        const TPM2B_PUBLIC_KEY_RSA *modulus = &pub->unique.rsa;
        /* exponent 0 means the default 2^16+1 (TPM 2.0 Part 2, TPMS_RSA_PARMS) */
        uint32_t exponent = pub->parameters.rsaDetail.exponent ? pub->parameters.rsaDetail.exponent : 65537;

        if (modulus->size == 0 || modulus->size * 8u != pub->parameters.rsaDetail.keyBits)
                return vm_error(-EBADMSG, "RSA key: modulus of %u bytes for %u key bits", modulus->size,
                                pub->parameters.rsaDetail.keyBits);
        *n = BN_bin2bn(modulus->buffer, modulus->size, NULL);
        *e = BN_new();
        if (!*n || !*e || !BN_set_word(*e, exponent) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, *n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, *e))
                return -ENOMEM;
        return 0;
}

static int ecc_params(const TPMT_PUBLIC *pub, OSSL_PARAM_BLD *bld, uint8_t *point, size_t *point_size) {
        const TPMS_ECC_POINT *p = &pub->unique.ecc;
        const char *group;
        size_t field;

        switch (pub->parameters.eccDetail.curveID) {
        case TPM2_ECC_NIST_P256:
                group = SN_X9_62_prime256v1, field = 32;
                break;
        case TPM2_ECC_NIST_P384:
                group = SN_secp384r1, field = 48;
                break;
        case TPM2_ECC_NIST_P521:
                group = SN_secp521r1, field = 66;
                break;
        default:
                return vm_error(-EBADMSG, "ECC key: unsupported curve 0x%04x", pub->parameters.eccDetail.curveID);
        }
        if (p->x.size == 0 || p->x.size > field || p->y.size == 0 || p->y.size > field)
                return vm_error(-EBADMSG, "ECC key: point coordinates of %u/%u bytes for a %zu-byte field",
                                p->x.size, p->y.size, field);
        /* uncompressed SEC1 point, coordinates left-padded to the field size */
        memset(point, 0, 1 + 2 * field);
        point[0] = 0x04;
        memcpy(point + 1 + field - p->x.size, p->x.buffer, p->x.size);
        memcpy(point + 1 + 2 * field - p->y.size, p->y.buffer, p->y.size);
        *point_size = 1 + 2 * field;
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, *point_size))
                return -ENOMEM;
        return 0;
}

int tpmkey_to_evp(const TPMT_PUBLIC *pub, EVP_PKEY **out) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(BN_freep) BIGNUM *n = NULL;
        _cleanup_(BN_freep) BIGNUM *e = NULL;
        uint8_t point[1 + 2 * 66];
        size_t point_size;
        const char *type;
        int ret;

        if (!bld)
                return -ENOMEM;
        if (pub->type == TPM2_ALG_RSA) {
                type = "RSA";
                ret = rsa_params(pub, bld, &n, &e);
        } else if (pub->type == TPM2_ALG_ECC) {
                type = "EC";
                ret = ecc_params(pub, bld, point, &point_size);
        } else
                return vm_error(-EBADMSG, "TPM key of type 0x%04x is neither RSA nor ECC", pub->type);
        if (ret < 0)
                return ret;

        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        if (!params || !ctx)
                return -ENOMEM;
        *out = NULL;
        if (EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
                return vm_error(-EBADMSG, "%s key: OpenSSL refuses the public key (bad point or modulus)", type);
        return 0;
}

int tpmkey_check_ak(const TPMT_PUBLIC *pub) {
        const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                 TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

        if (pub->type != TPM2_ALG_RSA && pub->type != TPM2_ALG_ECC)
                return vm_error(-EINVAL, "not an RSA or ECC key (type 0x%04x)", pub->type);
        if ((pub->objectAttributes & need) != need || (pub->objectAttributes & TPMA_OBJECT_DECRYPT))
                return vm_error(-EINVAL, "attributes 0x%08x are not those of a restricted signing key",
                                pub->objectAttributes);
        return 0;
}

int tpmkey_check_payload_key(const TPMT_PUBLIC *pub) {
        const TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                 TPMA_OBJECT_DECRYPT;

        if (pub->type != TPM2_ALG_RSA || pub->parameters.rsaDetail.keyBits != 2048)
                return vm_error(-EINVAL, "not an RSA-2048 key (type 0x%04x)", pub->type);
        if ((pub->objectAttributes & need) != need)
                return vm_error(-EINVAL, "attributes 0x%08x lack fixedTPM, fixedParent, sensitiveDataOrigin or decrypt",
                                pub->objectAttributes);
        if (pub->objectAttributes & (TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED))
                return vm_error(-EINVAL, "attributes 0x%08x: a payload key must neither sign nor be restricted",
                                pub->objectAttributes);
        return 0;
}

int tpmkey_check_strength(const TPMT_PUBLIC *pub) {
        if (pub->type == TPM2_ALG_RSA) {
                unsigned bits = pub->parameters.rsaDetail.keyBits;
                /* exponent 0 means 2^16+1 (TPM 2.0 Part 2, TPMS_RSA_PARMS) */
                uint32_t exponent = pub->parameters.rsaDetail.exponent ? pub->parameters.rsaDetail.exponent : 65537;

                if (bits < 2048 || pub->unique.rsa.size * 8u < 2048)
                        return vm_error(-EINVAL, "RSA key of %u bits (a %u-byte modulus): at least 2048 are required",
                                        bits, pub->unique.rsa.size);
                if (exponent != 65537)
                        return vm_error(-EINVAL, "RSA key with public exponent %u: only 65537 is accepted", exponent);
                return 0;
        }
        if (pub->type == TPM2_ALG_ECC) {
                TPMI_ECC_CURVE curve = pub->parameters.eccDetail.curveID;

                if (curve != TPM2_ECC_NIST_P256 && curve != TPM2_ECC_NIST_P384)
                        return vm_error(-EINVAL, "ECC key on curve 0x%04x: only NIST P-256 and P-384 are accepted", curve);
                return 0;
        }
        return vm_error(-EINVAL, "not an RSA or ECC key (type 0x%04x)", pub->type);
}

int tpmkey_spki_pem(const TPMT_PUBLIC *pub, char **out) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        char *data;
        long size;
        int ret;

        ret = tpmkey_to_evp(pub, &key);
        if (ret < 0)
                return ret;
        bio = BIO_new(BIO_s_mem());
        if (!bio || !PEM_write_bio_PUBKEY(bio, key))
                return -ENOMEM;
        size = BIO_get_mem_data(bio, &data);
        *out = strndup(data, (size_t)size);
        return *out ? 0 : -ENOMEM;
}

int tpmkey_hash_ek(const TPMT_PUBLIC *pub, char out[65]) {
        _cleanup_(freep) char *pem = NULL;
        _cleanup_(freep) char *hex = NULL;
        uint8_t digest[32];
        int ret;

        ret = tpmkey_spki_pem(pub, &pem);
        if (ret < 0)
                return ret;
        ret = hashalg_digest(TPM2_ALG_SHA256, pem, strlen(pem), digest);
        if (ret < 0)
                return ret;
        hex = hex_encode(digest, sizeof(digest));
        if (!hex)
                return -ENOMEM;
        memcpy(out, hex, 65);
        return 0;
}
