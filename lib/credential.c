/* Security-sensitive: derives the keys that protect a credential. Every secret (seed, ECDH Z,
 * symKey, HMAC key, the credential in clear) lives in a struct credential_keys, which its
 * cleanup wipes however the function returns. */
#include "credential.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "cleanup.h"
#include "error.h"
#include "hashalg.h"
#include "reader.h"
#include "tpmkey.h"

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_KDF, EVP_KDF_free)
DEFINE_POINTER_CLEANUP(EVP_KDF_CTX, EVP_KDF_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_MAC, EVP_MAC_free)
DEFINE_POINTER_CLEANUP(EVP_MAC_CTX, EVP_MAC_CTX_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

/* The seed's label (Part 1, 24.3). OAEP and KDFe take it with its terminating NUL: sizeof. */
static const char identity_label[] = "IDENTITY";

/* One struct for every secret a function derives, so that one cleanup wipes them all. */
struct credential_keys {
        uint8_t seed[TPM2_SHA512_DIGEST_SIZE];
        uint8_t ecdh_z[TPM2_MAX_ECC_KEY_BYTES];
        uint8_t sym_key[32]; /* AES-256 at most */
        uint8_t hmac_key[TPM2_SHA512_DIGEST_SIZE];
        TPM2B_DIGEST credential;
        uint8_t credential_marshalled[sizeof(TPM2B_DIGEST)];
};

static void credential_keys_wipe(struct credential_keys *keys) {
        OPENSSL_cleanse(keys, sizeof(*keys));
}

/* The EK's symmetric algorithm as an OpenSSL cipher; NULL with a vm_error() detail when the EK
 * cannot protect a credential. TPM2_ActivateCredential needs a restricted decryption key (Part 3,
 * 12.5), and that is what an EK template makes. */
static const EVP_CIPHER *ek_cipher(const TPM2B_PUBLIC *ek) {
        const TPMT_PUBLIC *pub = &ek->publicArea;
        TPMA_OBJECT role = pub->objectAttributes &
                           (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT);
        const TPMT_SYM_DEF_OBJECT *sym;

        if (pub->type == TPM2_ALG_RSA)
                sym = &pub->parameters.rsaDetail.symmetric;
        else if (pub->type == TPM2_ALG_ECC)
                sym = &pub->parameters.eccDetail.symmetric;
        else {
                vm_error(-EINVAL, "credential: EK type 0x%04x is neither RSA nor ECC", pub->type);
                return NULL;
        }
        /* SHA-1 is known to hashalg.h for PCR banks only; no EK template uses it as nameAlg. */
        if (pub->nameAlg == TPM2_ALG_SHA1 || !hashalg_size(pub->nameAlg)) {
                vm_error(-EINVAL, "credential: EK nameAlg 0x%04x is not SHA-256, SHA-384 or SHA-512", pub->nameAlg);
                return NULL;
        }
        if (role != (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)) {
                vm_error(-EINVAL, "credential: EK objectAttributes 0x%08x do not make a restricted decryption key",
                         pub->objectAttributes);
                return NULL;
        }
        if (sym->algorithm == TPM2_ALG_AES && sym->mode.aes == TPM2_ALG_CFB && sym->keyBits.aes == 128)
                return EVP_aes_128_cfb128();
        if (sym->algorithm == TPM2_ALG_AES && sym->mode.aes == TPM2_ALG_CFB && sym->keyBits.aes == 256)
                return EVP_aes_256_cfb128();
        vm_error(-EINVAL, "credential: EK symmetric algorithm 0x%04x, %u bits, mode 0x%04x is not AES-128/256-CFB",
                 sym->algorithm, sym->keyBits.sym, sym->mode.sym);
        return NULL;
}

/* The credential is bound to a Name: nameAlg || digest (Part 1, 16). */
static int check_object_name(const TPM2B_NAME *name) {
        size_t digest_size;

        if (name->size < 2 || name->size > sizeof(name->name))
                return vm_error(-EINVAL, "credential: object name of %u bytes is not a Name", name->size);
        digest_size = hashalg_size((TPM2_ALG_ID)(name->name[0] << 8 | name->name[1]));
        if (!digest_size || name->size != 2 + digest_size)
                return vm_error(-EINVAL, "credential: object name (algorithm 0x%02x%02x, %u bytes) is not a Name",
                                name->name[0], name->name[1], name->size);
        return 0;
}

/* Everything credential_make() and its halves check before deriving anything. */
static int check_inputs(const TPM2B_PUBLIC *ek, const TPM2B_NAME *object_name, size_t secret_size,
                        const EVP_CIPHER **cipher) {
        size_t digest_size;
        int ret;

        *cipher = ek_cipher(ek);
        if (!*cipher)
                return -EINVAL;
        ret = check_object_name(object_name);
        if (ret < 0)
                return ret;
        /* The credential is a digest of the EK's nameAlg at most: TPM2_MakeCredential refuses a
         * longer one with TPM_RC_SIZE (Part 3, 12.6), though ActivateCredential would take it. */
        digest_size = hashalg_size(ek->publicArea.nameAlg);
        if (secret_size == 0 || secret_size > digest_size)
                return vm_error(-EINVAL, "credential: secret of %zu bytes (must be 1 to %zu, a %s digest)",
                                secret_size, digest_size, hashalg_name(ek->publicArea.nameAlg));
        return 0;
}

static int kdf_derive(const char *kdf_name, const OSSL_PARAM *params, uint8_t *out, size_t out_size) {
        _cleanup_(EVP_KDF_freep) EVP_KDF *kdf = EVP_KDF_fetch(NULL, kdf_name, NULL);
        _cleanup_(EVP_KDF_CTX_freep) EVP_KDF_CTX *ctx = NULL;

        if (!kdf)
                return vm_error(-EIO, "credential: OpenSSL provides no %s", kdf_name);
        ctx = EVP_KDF_CTX_new(kdf);
        if (!ctx)
                return -ENOMEM;
        if (EVP_KDF_derive(ctx, out, out_size, params) <= 0)
                return vm_error(-EIO, "credential: %s derivation failed", kdf_name);
        return 0;
}

/* KDFa (Part 1, 11.4.10.2) is SP 800-108 in counter mode with HMAC over
 * counter || label || 0x00 || contextU || contextV || bits, which is OpenSSL's KBKDF with its
 * default 0x00 separator and length field: the label goes without its NUL. */
static int kdfa(TPM2_ALG_ID alg, const uint8_t *key, size_t key_size, const char *label, const uint8_t *context,
                size_t context_size, uint8_t *out, size_t out_size) {
        OSSL_PARAM params[7], *p = params;

        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"COUNTER", 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)"HMAC", 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hashalg_name(alg), 0);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_size);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)label, strlen(label));
        if (context_size > 0)
                *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)context, context_size);
        *p = OSSL_PARAM_construct_end();
        return kdf_derive("KBKDF", params, out, out_size);
}

/* KDFe (Part 1, 11.4.10.3) hashes counter || Z || label || partyUInfo || partyVInfo: the one-step
 * KDF of SP 800-56A with a hash, OpenSSL's SSKDF, whose FixedInfo is the last three (the label
 * with its NUL). */
static int kdfe(TPM2_ALG_ID alg, const uint8_t *z, size_t z_size, const TPM2B_ECC_PARAMETER *party_u,
                const TPM2B_ECC_PARAMETER *party_v, uint8_t *out, size_t out_size) {
        uint8_t fixed_info[sizeof(identity_label) + 2 * TPM2_MAX_ECC_KEY_BYTES];
        size_t fixed_size = 0;
        OSSL_PARAM params[4];

        if (party_u->size > TPM2_MAX_ECC_KEY_BYTES || party_v->size > TPM2_MAX_ECC_KEY_BYTES)
                return vm_error(-EINVAL, "credential: ECC x-coordinates of %u/%u bytes", party_u->size, party_v->size);
        memcpy(fixed_info, identity_label, sizeof(identity_label));
        fixed_size += sizeof(identity_label);
        memcpy(fixed_info + fixed_size, party_u->buffer, party_u->size);
        fixed_size += party_u->size;
        memcpy(fixed_info + fixed_size, party_v->buffer, party_v->size);
        fixed_size += party_v->size;

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hashalg_name(alg), 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, z_size);
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, fixed_info, fixed_size);
        params[3] = OSSL_PARAM_construct_end();
        return kdf_derive("SSKDF", params, out, out_size);
}

/* RSA EK (Part 1, 24.3): the seed is OAEP-encrypted, the hash and MGF1 being the EK's
 * nameAlg and the label "IDENTITY" with its NUL. */
static int seed_encrypt_rsa(const TPM2B_PUBLIC *ek, const uint8_t *seed, size_t seed_size,
                            TPM2B_ENCRYPTED_SECRET *encrypted_seed) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        char *digest = (char *)hashalg_name(ek->publicArea.nameAlg), *oaep = (char *)OSSL_PKEY_RSA_PAD_MODE_OAEP;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, oaep, 0),
                OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, digest, 0),
                OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, digest, 0),
                OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, (void *)identity_label,
                                                  sizeof(identity_label)),
                OSSL_PARAM_construct_end(),
        };
        size_t size = sizeof(encrypted_seed->secret);
        int ret;

        ret = tpmkey_to_evp(&ek->publicArea, &key);
        if (ret < 0)
                return ret;
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_encrypt_init_ex(ctx, params) <= 0 ||
            EVP_PKEY_encrypt(ctx, encrypted_seed->secret, &size, seed, seed_size) <= 0)
                return vm_error(-EIO, "credential: RSA-OAEP encryption of the seed to the %u-bit EK failed",
                                ek->publicArea.parameters.rsaDetail.keyBits);
        encrypted_seed->size = (UINT16)size;
        return 0;
}

/* The ephemeral public point, each coordinate padded to the field size as a TPM writes it. */
static int ecc_public_point(EVP_PKEY *key, size_t field_size, TPMS_ECC_POINT *point) {
        _cleanup_(BN_freep) BIGNUM *x = NULL;
        _cleanup_(BN_freep) BIGNUM *y = NULL;

        if (field_size > sizeof(point->x.buffer) || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
            !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) ||
            BN_bn2binpad(x, point->x.buffer, (int)field_size) < 0 ||
            BN_bn2binpad(y, point->y.buffer, (int)field_size) < 0)
                return vm_error(-EIO, "credential: cannot read the ephemeral key's public point");
        point->x.size = point->y.size = (UINT16)field_size;
        return 0;
}

int credential_seed_ecc(const TPM2B_PUBLIC *ek, EVP_PKEY *ephemeral, uint8_t *seed,
                        TPM2B_ENCRYPTED_SECRET *encrypted_seed) {
        _cleanup_(credential_keys_wipe) struct credential_keys keys = {};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ek_key = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *fresh = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        TPMS_ECC_POINT point = {};
        size_t z_size = sizeof(keys.ecdh_z), offset = 0;
        char group[64];
        TSS2_RC rc;
        int ret;

        if (!ek_cipher(ek))
                return -EINVAL;
        if (ek->publicArea.type != TPM2_ALG_ECC)
                return vm_error(-EINVAL, "credential: EK type 0x%04x is not ECC", ek->publicArea.type);
        ret = tpmkey_to_evp(&ek->publicArea, &ek_key);
        if (ret < 0)
                return ret;
        if (!ephemeral) {
                if (!EVP_PKEY_get_group_name(ek_key, group, sizeof(group), NULL))
                        return vm_error(-EIO, "credential: cannot name the EK's curve");
                fresh = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
                if (!fresh)
                        return vm_error(-EIO, "credential: cannot make an ephemeral key on %s", group);
                ephemeral = fresh;
        }

        /* Z is the x-coordinate of ephemeral * EK, as long as the field. The peer check rejects an
         * ephemeral key on another curve. */
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ephemeral, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer(ctx, ek_key) <= 0 ||
            EVP_PKEY_derive(ctx, keys.ecdh_z, &z_size) <= 0)
                return vm_error(-EIO, "credential: ECDH of the ephemeral key with the EK failed (another curve?)");
        ret = ecc_public_point(ephemeral, z_size, &point);
        if (ret < 0)
                return ret;
        ret = kdfe(ek->publicArea.nameAlg, keys.ecdh_z, z_size, &point.x, &ek->publicArea.unique.ecc.x, seed,
                   hashalg_size(ek->publicArea.nameAlg));
        if (ret < 0)
                return ret;

        /* What TPM2_ActivateCredential's secret parameter holds for an ECC key: the marshalled
         * ephemeral point (Part 1, 24.3). */
        rc = Tss2_MU_TPMS_ECC_POINT_Marshal(&point, encrypted_seed->secret, sizeof(encrypted_seed->secret), &offset);
        if (rc != TSS2_RC_SUCCESS)
                return vm_error(-EINVAL, "credential: cannot marshal the ephemeral point: %s", Tss2_RC_Decode(rc));
        encrypted_seed->size = (UINT16)offset;
        return 0;
}

static int aes_cfb_encrypt(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *in, size_t size, uint8_t *out) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        /* The IV is all zeros (Part 1, 24.4): symKey is used for this one encryption only. */
        static const uint8_t iv[16];
        int out_size = 0, final_size = 0;

        if (!ctx)
                return -ENOMEM;
        if (!EVP_EncryptInit_ex2(ctx, cipher, key, iv, NULL) ||
            !EVP_EncryptUpdate(ctx, out, &out_size, in, (int)size) ||
            !EVP_EncryptFinal_ex(ctx, out + out_size, &final_size) || (size_t)(out_size + final_size) != size)
                return vm_error(-EIO, "credential: AES-CFB encryption of the credential failed");
        return 0;
}

static int hmac(TPM2_ALG_ID alg, const uint8_t *key, size_t key_size, const uint8_t *first, size_t first_size,
                const uint8_t *second, size_t second_size, uint8_t *out, size_t out_size) {
        _cleanup_(EVP_MAC_freep) EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)hashalg_name(alg), 0),
                OSSL_PARAM_construct_end(),
        };
        size_t size = 0;

        if (!mac)
                return vm_error(-EIO, "credential: OpenSSL provides no HMAC");
        ctx = EVP_MAC_CTX_new(mac);
        if (!ctx)
                return -ENOMEM;
        if (!EVP_MAC_init(ctx, key, key_size, params) || !EVP_MAC_update(ctx, first, first_size) ||
            !EVP_MAC_update(ctx, second, second_size) || !EVP_MAC_final(ctx, out, &size, out_size) || size != out_size)
                return vm_error(-EIO, "credential: HMAC of the credential failed");
        return 0;
}

int credential_id_object(const TPM2B_PUBLIC *ek, const TPM2B_NAME *object_name, const uint8_t *secret,
                         size_t secret_size, const uint8_t *seed, TPM2B_ID_OBJECT *id_object) {
        _cleanup_(credential_keys_wipe) struct credential_keys keys = {};
        TPM2_ALG_ID name_alg = ek->publicArea.nameAlg;
        const EVP_CIPHER *cipher;
        TPM2B_DIGEST outer_hmac = {};
        size_t digest_size, plain_size = 0, offset = 0;
        uint8_t *enc_identity;
        TSS2_RC rc;
        int ret;

        ret = check_inputs(ek, object_name, secret_size, &cipher);
        if (ret < 0)
                return ret;
        digest_size = hashalg_size(name_alg);

        /* symKey is bound to the object's Name, the HMAC key only to the seed (Part 1, 24.4, 24.5). */
        ret = kdfa(name_alg, seed, digest_size, "STORAGE", object_name->name, object_name->size, keys.sym_key,
                   (size_t)EVP_CIPHER_get_key_length(cipher));
        if (ret < 0)
                return ret;
        ret = kdfa(name_alg, seed, digest_size, "INTEGRITY", NULL, 0, keys.hmac_key, digest_size);
        if (ret < 0)
                return ret;

        /* encIdentity encrypts the credential with its size field, as a marshalled TPM2B_DIGEST. */
        keys.credential.size = (UINT16)secret_size;
        memcpy(keys.credential.buffer, secret, secret_size);
        rc = Tss2_MU_TPM2B_DIGEST_Marshal(&keys.credential, keys.credential_marshalled,
                                          sizeof(keys.credential_marshalled), &plain_size);
        if (rc != TSS2_RC_SUCCESS)
                return vm_error(-EINVAL, "credential: cannot marshal the credential: %s", Tss2_RC_Decode(rc));

        /* TPMS_ID_OBJECT is integrityHMAC (a TPM2B_DIGEST) followed by encIdentity, whose size is
         * not written: it is encrypted inside. Both fit: sizeof(credential) is two TPM2B_DIGESTs. */
        enc_identity = id_object->credential + 2 + digest_size;
        ret = aes_cfb_encrypt(cipher, keys.sym_key, keys.credential_marshalled, plain_size, enc_identity);
        if (ret < 0)
                return ret;
        ret = hmac(name_alg, keys.hmac_key, digest_size, enc_identity, plain_size, object_name->name,
                   object_name->size, outer_hmac.buffer, digest_size);
        if (ret < 0)
                return ret;
        outer_hmac.size = (UINT16)digest_size;
        rc = Tss2_MU_TPM2B_DIGEST_Marshal(&outer_hmac, id_object->credential, 2 + digest_size, &offset);
        if (rc != TSS2_RC_SUCCESS)
                return vm_error(-EINVAL, "credential: cannot marshal the integrity HMAC: %s", Tss2_RC_Decode(rc));
        id_object->size = (UINT16)(offset + plain_size);
        return 0;
}

int credential_make(const TPM2B_PUBLIC *ek, const TPM2B_NAME *object_name, const uint8_t *secret,
                    size_t secret_size, const uint8_t *seed_override, uint8_t **blob, size_t *blob_size) {
        _cleanup_(credential_keys_wipe) struct credential_keys keys = {};
        TPM2B_ENCRYPTED_SECRET encrypted_seed = {};
        TPM2B_ID_OBJECT id_object = {};
        const EVP_CIPHER *cipher;
        size_t digest_size;
        int ret;

        ret = check_inputs(ek, object_name, secret_size, &cipher);
        if (ret < 0)
                return ret;
        digest_size = hashalg_size(ek->publicArea.nameAlg);

        if (ek->publicArea.type == TPM2_ALG_RSA) {
                /* The seed is as long as a nameAlg digest (Part 1, 24.3). */
                if (seed_override)
                        memcpy(keys.seed, seed_override, digest_size);
                else if (RAND_priv_bytes(keys.seed, (int)digest_size) != 1)
                        return vm_error(-EIO, "credential: no random bytes for the seed");
                ret = seed_encrypt_rsa(ek, keys.seed, digest_size, &encrypted_seed);
        } else {
                if (seed_override)
                        return vm_error(-EINVAL, "credential: an ECC EK's seed comes from ECDH and cannot be fixed");
                ret = credential_seed_ecc(ek, NULL, keys.seed, &encrypted_seed);
        }
        if (ret < 0)
                return ret;
        ret = credential_id_object(ek, object_name, secret, secret_size, keys.seed, &id_object);
        if (ret < 0)
                return ret;
        return credential_blob_marshal(&id_object, &encrypted_seed, blob, blob_size);
}

int credential_blob_marshal(const TPM2B_ID_OBJECT *id_object, const TPM2B_ENCRYPTED_SECRET *encrypted_seed,
                            uint8_t **blob, size_t *blob_size) {
        size_t capacity = 4 + 4 + 2 + (size_t)id_object->size + 2 + (size_t)encrypted_seed->size, offset = 0;
        _cleanup_(freep) uint8_t *out = malloc(capacity);
        TSS2_RC rc;

        if (!out)
                return -ENOMEM;
        rc = Tss2_MU_UINT32_Marshal(CREDENTIAL_BLOB_MAGIC, out, capacity, &offset);
        if (rc == TSS2_RC_SUCCESS)
                rc = Tss2_MU_UINT32_Marshal(CREDENTIAL_BLOB_VERSION, out, capacity, &offset);
        if (rc == TSS2_RC_SUCCESS)
                rc = Tss2_MU_TPM2B_ID_OBJECT_Marshal(id_object, out, capacity, &offset);
        if (rc == TSS2_RC_SUCCESS)
                rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(encrypted_seed, out, capacity, &offset);
        if (rc != TSS2_RC_SUCCESS)
                return vm_error(-EINVAL, "credential blob: cannot marshal: %s", Tss2_RC_Decode(rc));
        *blob = TAKE_PTR(out);
        *blob_size = offset;
        return 0;
}

/* One TPM2B: its size is checked against the structure's buffer before the bytes are taken, so
 * that a size too large for the structure and one larger than what is left get different details. */
static int read_tpm2b(struct reader *r, const char *size_field, const char *buffer_field, UINT16 *size, BYTE *buffer,
                      size_t capacity) {
        int ret;

        ret = reader_u16be(r, size, size_field);
        if (ret < 0)
                return ret;
        if (*size > capacity)
                return reader_invalid(r, "%s %u exceeds the structure's %zu bytes", size_field, *size, capacity);
        return reader_copy(r, buffer, *size, buffer_field);
}

int credential_blob_parse(const uint8_t *blob, size_t size, TPM2B_ID_OBJECT *id_object,
                          TPM2B_ENCRYPTED_SECRET *encrypted_seed) {
        uint32_t magic = 0, version = 0;
        struct reader r;
        int ret;

        memset(id_object, 0, sizeof(*id_object));
        memset(encrypted_seed, 0, sizeof(*encrypted_seed));
        reader_init(&r, blob, size, "credential blob");
        ret = reader_u32be(&r, &magic, "magic");
        if (ret < 0)
                return ret;
        if (magic != CREDENTIAL_BLOB_MAGIC)
                return reader_invalid(&r, "bad magic 0x%08x (tpm2-tools writes 0x%08x)", magic, CREDENTIAL_BLOB_MAGIC);
        ret = reader_u32be(&r, &version, "version");
        if (ret < 0)
                return ret;
        if (version != CREDENTIAL_BLOB_VERSION)
                return reader_invalid(&r, "version %u is not supported (only %u)", version, CREDENTIAL_BLOB_VERSION);
        ret = read_tpm2b(&r, "TPM2B_ID_OBJECT size", "TPM2B_ID_OBJECT credential", &id_object->size,
                         id_object->credential, sizeof(id_object->credential));
        if (ret < 0)
                return ret;
        ret = read_tpm2b(&r, "TPM2B_ENCRYPTED_SECRET size", "TPM2B_ENCRYPTED_SECRET secret", &encrypted_seed->size,
                         encrypted_seed->secret, sizeof(encrypted_seed->secret));
        if (ret < 0)
                return ret;
        return reader_expect_end(&r);
}
