#include "verifier/svsm_manifest.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/reader.h"

#define WHAT "SVSM vTPM manifest"
#define manifest_error(...) vm_error(-EBADMSG, WHAT ": " __VA_ARGS__)

/* The GUID that opens an all-services manifest (58019, SVSM_ATTEST_SERVICES), as its first
 * four bytes lie in memory (little-endian): 63849ebb-... */
static const uint8_t services_manifest_guid_start[4] = { 0xbb, 0x9e, 0x84, 0x63 };

int svsm_manifest_report_data(const uint8_t nonce[SVSM_REPORT_DATA_SIZE], const uint8_t *manifest, size_t size,
                              uint8_t out[SVSM_REPORT_DATA_SIZE]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned digest_size = 0;
        bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) &&
                  EVP_DigestUpdate(ctx, nonce, SVSM_REPORT_DATA_SIZE) && EVP_DigestUpdate(ctx, manifest, size) &&
                  EVP_DigestFinal_ex(ctx, out, &digest_size) && digest_size == SVSM_REPORT_DATA_SIZE;

        EVP_MD_CTX_free(ctx);
        if (!ctx)
                return -ENOMEM;
        return ok ? 0 : vm_error(-EIO, WHAT ": SHA-512 failed");
}

static int read_sized(struct reader *r, uint8_t *buf, uint16_t *size, size_t cap, const char *field) {
        int ret = reader_u16be(r, size, field);

        if (ret < 0)
                return ret;
        if (*size > cap)
                return reader_invalid(r, "%s is %u bytes, at most %zu", field, *size, cap);
        return reader_copy(r, buf, *size, field);
}

/* TPMT_SYM_DEF_OBJECT: an EK's is AES (or another block cipher the TPM defines) with key bits
 * and mode, or NULL. */
static int read_symmetric(struct reader *r, TPMT_SYM_DEF_OBJECT *sym) {
        int ret = reader_u16be(r, &sym->algorithm, "parameters.symmetric.algorithm");

        if (ret >= 0 && sym->algorithm != TPM2_ALG_NULL && sym->algorithm != TPM2_ALG_AES &&
            sym->algorithm != TPM2_ALG_SM4 && sym->algorithm != TPM2_ALG_CAMELLIA)
                return reader_invalid(r, "parameters.symmetric.algorithm 0x%04x is not AES, SM4, Camellia or NULL",
                                      sym->algorithm);
        if (ret >= 0 && sym->algorithm != TPM2_ALG_NULL) {
                ret = reader_u16be(r, &sym->keyBits.sym, "parameters.symmetric.keyBits");
                if (ret >= 0)
                        ret = reader_u16be(r, &sym->mode.sym, "parameters.symmetric.mode");
        }
        return ret;
}

/* A restricted decryption key's scheme is TPM_ALG_NULL (TPM 2.0 Part 2, TPMS_RSA_PARMS and
 * TPMS_ECC_PARMS): any other one is no EK, and would carry details this parser does not read. */
static int read_null_scheme(struct reader *r, TPM2_ALG_ID *scheme, const char *field) {
        int ret = reader_u16be(r, scheme, field);

        if (ret >= 0 && *scheme != TPM2_ALG_NULL)
                return reader_invalid(r, "%s is 0x%04x, not TPM_ALG_NULL as an EK's", field, *scheme);
        return ret;
}

static int read_rsa(struct reader *r, TPMT_PUBLIC *ek) {
        TPMS_RSA_PARMS *rsa = &ek->parameters.rsaDetail;
        TPM2B_PUBLIC_KEY_RSA *n = &ek->unique.rsa;
        int ret = read_symmetric(r, &rsa->symmetric);

        if (ret >= 0)
                ret = read_null_scheme(r, &rsa->scheme.scheme, "parameters.scheme");
        if (ret >= 0)
                ret = reader_u16be(r, &rsa->keyBits, "parameters.keyBits");
        if (ret >= 0)
                ret = reader_u32be(r, &rsa->exponent, "parameters.exponent");
        if (ret >= 0)
                ret = read_sized(r, n->buffer, &n->size, sizeof(n->buffer), "unique.rsa");
        if (ret >= 0 && (rsa->keyBits < 1024 || rsa->keyBits % 8 || n->size != rsa->keyBits / 8))
                return reader_invalid(r, "the %u-byte modulus is not keyBits %u", n->size, rsa->keyBits);
        return ret;
}

static int read_ecc(struct reader *r, TPMT_PUBLIC *ek) {
        TPMS_ECC_PARMS *ecc = &ek->parameters.eccDetail;
        TPMS_ECC_POINT *point = &ek->unique.ecc;
        int ret = read_symmetric(r, &ecc->symmetric);

        if (ret >= 0)
                ret = read_null_scheme(r, &ecc->scheme.scheme, "parameters.scheme");
        if (ret >= 0)
                ret = reader_u16be(r, &ecc->curveID, "parameters.curveID");
        if (ret >= 0)
                ret = read_null_scheme(r, &ecc->kdf.scheme, "parameters.kdf");
        if (ret >= 0)
                ret = read_sized(r, point->x.buffer, &point->x.size, sizeof(point->x.buffer), "unique.ecc.x");
        if (ret >= 0)
                ret = read_sized(r, point->y.buffer, &point->y.size, sizeof(point->y.buffer), "unique.ecc.y");
        if (ret >= 0 && (point->x.size == 0 || point->x.size != point->y.size))
                return reader_invalid(r, "the point's x (%u bytes) and y (%u bytes) are not one non-empty size",
                                      point->x.size, point->y.size);
        return ret;
}

int svsm_manifest_parse(const uint8_t *manifest, size_t size, TPMT_PUBLIC *ek) {
        struct reader r;
        int ret;

        memset(ek, 0, sizeof(*ek));
        if (size > SVSM_MANIFEST_MAX)
                return manifest_error("%zu bytes, at most %d", size, SVSM_MANIFEST_MAX);
        if (size >= sizeof(services_manifest_guid_start) &&
            memcmp(manifest, services_manifest_guid_start, sizeof(services_manifest_guid_start)) == 0)
                return manifest_error("an all-services manifest (a GUID table), not the vTPM service's alone "
                                      "(the agent asks for the vTPM service's GUID)");
        reader_init(&r, manifest, size, WHAT);
        ret = reader_u16be(&r, &ek->type, "type");
        if (ret >= 0 && ek->type != TPM2_ALG_RSA && ek->type != TPM2_ALG_ECC)
                return reader_invalid(&r, "type 0x%04x is not RSA or ECC", ek->type);
        if (ret >= 0)
                ret = reader_u16be(&r, &ek->nameAlg, "nameAlg");
        if (ret >= 0 && !hashalg_size(ek->nameAlg))
                return reader_invalid(&r, "nameAlg 0x%04x is not a known hash", ek->nameAlg);
        if (ret >= 0)
                ret = reader_u32be(&r, &ek->objectAttributes, "objectAttributes");
        if (ret >= 0)
                ret = read_sized(&r, ek->authPolicy.buffer, &ek->authPolicy.size, sizeof(ek->authPolicy.buffer),
                                 "authPolicy");
        if (ret >= 0)
                ret = ek->type == TPM2_ALG_RSA ? read_rsa(&r, ek) : read_ecc(&r, ek);
        if (ret >= 0)
                ret = reader_expect_end(&r);
        return ret;
}

static const char *key_kind(TPM2_ALG_ID type) {
        return type == TPM2_ALG_RSA ? "RSA" : type == TPM2_ALG_ECC ? "ECC" : "unknown";
}

static bool same_bytes(const uint8_t *a, uint16_t a_size, const uint8_t *b, uint16_t b_size) {
        return a_size == b_size && memcmp(a, b, a_size) == 0;
}

int svsm_manifest_ek_match(const TPMT_PUBLIC *manifest_ek, const TPMT_PUBLIC *registered_ek) {
        const TPMU_PUBLIC_ID *m = &manifest_ek->unique, *e = &registered_ek->unique;

        if (manifest_ek->type != registered_ek->type)
                return vm_error(-EPERM, WHAT ": its EK is an %s key, the registered EK an %s key",
                                key_kind(manifest_ek->type), key_kind(registered_ek->type));
        if (manifest_ek->type == TPM2_ALG_RSA) {
                /* exponent 0 means the default, 65537 (TPM 2.0 Part 2, TPMS_RSA_PARMS) */
                uint32_t m_exp = manifest_ek->parameters.rsaDetail.exponent ?: 65537;
                uint32_t e_exp = registered_ek->parameters.rsaDetail.exponent ?: 65537;

                if (!same_bytes(m->rsa.buffer, m->rsa.size, e->rsa.buffer, e->rsa.size))
                        return vm_error(-EPERM, WHAT ": its EK's RSA modulus is not the registered EK's: the "
                                                "report vouches for another vTPM");
                if (m_exp != e_exp)
                        return vm_error(-EPERM, WHAT ": its EK's RSA exponent %u is not the registered EK's %u",
                                        m_exp, e_exp);
                return 0;
        }
        if (manifest_ek->type == TPM2_ALG_ECC) {
                if (manifest_ek->parameters.eccDetail.curveID != registered_ek->parameters.eccDetail.curveID)
                        return vm_error(-EPERM, WHAT ": its EK's curve 0x%04x is not the registered EK's 0x%04x",
                                        manifest_ek->parameters.eccDetail.curveID,
                                        registered_ek->parameters.eccDetail.curveID);
                if (!same_bytes(m->ecc.x.buffer, m->ecc.x.size, e->ecc.x.buffer, e->ecc.x.size) ||
                    !same_bytes(m->ecc.y.buffer, m->ecc.y.size, e->ecc.y.buffer, e->ecc.y.size))
                        return vm_error(-EPERM, WHAT ": its EK's ECC point is not the registered EK's: the report "
                                                "vouches for another vTPM");
                return 0;
        }
        return vm_error(-EPERM, WHAT ": the registered EK is neither RSA nor ECC");
}
