/* lib/credential.c: software TPM2_MakeCredential against tpm2-tools' own (the blobs under
 * vectors/credential/, made by `tpm2_makecredential --tcti none` for software EKs whose private
 * keys sit beside them), and the parser of the registrar's blob against hostile input.
 *
 * tpm2-tools draws its seed at random; the tests recover it with the EK's private key, as the TPM
 * does in TPM2_ActivateCredential, and require the same TPM2B_ID_OBJECT from the same seed.
 *
 * With CREDENTIAL_MAKE_EK set, this program is instead the tool with which
 * tests/integration/test-credential.sh makes blobs for a real TPM (see tool_main()). */
#include "tests/unit/unit.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <tss2/tss2_mu.h>

#include "lib/credential.h"
#include "lib/hashalg.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

#define CREDENTIAL_VECTOR(name) VECTOR("credential/" name)
/* magic, version, two TPM2Bs at their largest */
#define BLOB_MAX (8 + sizeof(TPM2B_ID_OBJECT) + sizeof(TPM2B_ENCRYPTED_SECRET))

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

/* One software EK and what tpm2_makecredential made for it (make-vectors.sh). */
struct ek_vector {
        TPM2B_PUBLIC pub;
        EVP_PKEY *private_key;
        uint8_t blob[BLOB_MAX + 1]; /* room for a trailing byte */
        size_t blob_size;
};

enum { RSA2048, RSA3072_SHA384, ECC_P256, ECC_P384, N_EKS };
static const char *const ek_names[N_EKS] = { "rsa2048", "rsa3072-sha384", "ecc-p256", "ecc-p384" };

struct vectors {
        struct ek_vector ek[N_EKS];
        uint8_t secret[CREDENTIAL_SECRET_MAX];
        size_t secret_size;
        TPM2B_NAME object_name;
};

static void load_ek(const char *name, struct ek_vector *ek) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        uint8_t pub[sizeof(TPM2B_PUBLIC)];
        char path[256];
        size_t size;

        snprintf(path, sizeof(path), CREDENTIAL_VECTOR("%s.pub"), name);
        size = load_vector(path, pub, sizeof(pub));
        assert_int_equal(tpm2b_public_unmarshal(pub, size, &ek->pub), 0);
        snprintf(path, sizeof(path), CREDENTIAL_VECTOR("%s.blob"), name);
        ek->blob_size = load_vector(path, ek->blob, sizeof(ek->blob) - 1);
        snprintf(path, sizeof(path), CREDENTIAL_VECTOR("%s.pem"), name);
        bio = BIO_new_file(path, "r");
        assert_non_null(bio);
        ek->private_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        assert_non_null(ek->private_key);
}

static int setup(void **state) {
        struct vectors *v = calloc(1, sizeof(*v));

        assert_non_null(v);
        for (unsigned i = 0; i < N_EKS; i++)
                load_ek(ek_names[i], &v->ek[i]);
        v->secret_size = load_vector(CREDENTIAL_VECTOR("secret"), v->secret, sizeof(v->secret));
        v->object_name.size = (UINT16)load_vector(CREDENTIAL_VECTOR("object.name"), v->object_name.name,
                                                  sizeof(v->object_name.name));
        *state = v;
        return 0;
}

static int teardown(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++)
                EVP_PKEY_free(v->ek[i].private_key);
        free(v);
        return 0;
}

static bool is_ecc(const struct ek_vector *ek) {
        return ek->pub.publicArea.type == TPM2_ALG_ECC;
}

/* The EK's public area with another point: how the tests turn an ECC point into an EVP_PKEY. */
static EVP_PKEY *ecc_point_key(const struct ek_vector *ek, const TPMS_ECC_POINT *point) {
        TPMT_PUBLIC area = ek->pub.publicArea;
        EVP_PKEY *key = NULL;

        area.unique.ecc = *point;
        assert_int_equal(tpmkey_to_evp(&area, &key), 0);
        return key;
}

static size_t rsa_decrypt_seed(const struct ek_vector *ek, const TPM2B_ENCRYPTED_SECRET *encrypted, uint8_t *seed) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->private_key, NULL);
        char *digest = (char *)hashalg_name(ek->pub.publicArea.nameAlg);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, (char *)"oaep", 0),
                OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, digest, 0),
                OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, digest, 0),
                OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, (char *)"IDENTITY", 9),
                OSSL_PARAM_construct_end(),
        };
        size_t size = 512;

        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_decrypt_init_ex(ctx, params), 1);
        assert_int_equal(EVP_PKEY_decrypt(ctx, seed, &size, encrypted->secret, encrypted->size), 1);
        return size;
}

/* Z = x(EK private * ephemeral point), then one block of KDFe (a seed is one digest long):
 * H(00000001 || Z || "IDENTITY\0" || ephemeral.x || EK.x) (Part 1, 11.4.10.3). */
static size_t ecc_recover_seed(const struct ek_vector *ek, const TPM2B_ENCRYPTED_SECRET *encrypted, uint8_t *seed) {
        static const uint8_t counter[4] = { 0, 0, 0, 1 };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ephemeral = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        const EVP_MD *md = hashalg_md(ek->pub.publicArea.nameAlg);
        const TPM2B_ECC_PARAMETER *ek_x = &ek->pub.publicArea.unique.ecc.x;
        EVP_MD_CTX *hash = EVP_MD_CTX_new();
        TPMS_ECC_POINT point;
        uint8_t z[128];
        size_t offset = 0, z_size = sizeof(z);
        unsigned seed_size = 0;

        /* the encrypted secret is exactly one marshalled TPMS_ECC_POINT */
        assert_int_equal(Tss2_MU_TPMS_ECC_POINT_Unmarshal(encrypted->secret, encrypted->size, &offset, &point), 0);
        assert_int_equal(offset, encrypted->size);
        ephemeral = ecc_point_key(ek, &point);
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->private_key, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
        assert_int_equal(EVP_PKEY_derive_set_peer(ctx, ephemeral), 1);
        assert_int_equal(EVP_PKEY_derive(ctx, z, &z_size), 1);

        assert_non_null(hash);
        assert_int_equal(EVP_DigestInit_ex(hash, md, NULL), 1);
        assert_int_equal(EVP_DigestUpdate(hash, counter, sizeof(counter)), 1);
        assert_int_equal(EVP_DigestUpdate(hash, z, z_size), 1);
        assert_int_equal(EVP_DigestUpdate(hash, "IDENTITY", 9), 1);
        assert_int_equal(EVP_DigestUpdate(hash, point.x.buffer, point.x.size), 1);
        assert_int_equal(EVP_DigestUpdate(hash, ek_x->buffer, ek_x->size), 1);
        assert_int_equal(EVP_DigestFinal_ex(hash, seed, &seed_size), 1);
        EVP_MD_CTX_free(hash);
        return seed_size;
}

/* The seed inside a blob's encrypted secret, recovered with the EK's private key as the TPM
 * does in TPM2_ActivateCredential, without lib/ code. */
static size_t recover_seed(const struct ek_vector *ek, const TPM2B_ENCRYPTED_SECRET *encrypted, uint8_t *seed) {
        size_t size = is_ecc(ek) ? ecc_recover_seed(ek, encrypted, seed) : rsa_decrypt_seed(ek, encrypted, seed);

        assert_int_equal(size, hashalg_size(ek->pub.publicArea.nameAlg));
        return size;
}

static void parse_ok(const uint8_t *blob, size_t size, TPM2B_ID_OBJECT *id_object,
                     TPM2B_ENCRYPTED_SECRET *encrypted_seed) {
        int ret = credential_blob_parse(blob, size, id_object, encrypted_seed);

        if (ret < 0)
                fail_msg("credential_blob_parse: %s", vm_error_detail(ret));
}

#define assert_id_objects_equal(a, b)                                        \
        do {                                                                 \
                assert_int_equal((a)->size, (b)->size);                      \
                assert_memory_equal((a)->credential, (b)->credential, (a)->size); \
        } while (0)

static void test_vector_keys_match(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;

                assert_int_equal(tpmkey_to_evp(&v->ek[i].pub.publicArea, &pub), 0);
                assert_int_equal(EVP_PKEY_eq(pub, v->ek[i].private_key), 1);
        }
        assert_int_equal(v->secret_size, 32);
        assert_int_equal(v->object_name.size, 2 + 32);
}

/* The parser against tss2-mu's unmarshalling of the same bytes, on tpm2-tools' blobs. */
static void test_parse_tpm2_tools_blobs(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++) {
                const struct ek_vector *ek = &v->ek[i];
                TPM2B_ENCRYPTED_SECRET encrypted_seed, mu_seed = {};
                TPM2B_ID_OBJECT id_object, mu_id = {};
                size_t offset = 8, digest_size = hashalg_size(ek->pub.publicArea.nameAlg);

                parse_ok(ek->blob, ek->blob_size, &id_object, &encrypted_seed);
                assert_int_equal(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(ek->blob, ek->blob_size, &offset, &mu_id), 0);
                assert_int_equal(
                        Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(ek->blob, ek->blob_size, &offset, &mu_seed), 0);
                assert_int_equal(offset, ek->blob_size);
                assert_id_objects_equal(&id_object, &mu_id);
                assert_int_equal(encrypted_seed.size, mu_seed.size);
                assert_memory_equal(encrypted_seed.secret, mu_seed.secret, mu_seed.size);

                /* outerHMAC as a TPM2B_DIGEST, then encIdentity: a TPM2B_DIGEST of the 32-byte secret */
                assert_int_equal(id_object.size, 2 + digest_size + 2 + v->secret_size);
                assert_int_equal(id_object.credential[0] << 8 | id_object.credential[1], digest_size);
                /* tpm2-tools drops the leading zero bytes of the ephemeral coordinates */
                if (is_ecc(ek))
                        assert_true(encrypted_seed.size <= 4 + 2 * ek->pub.publicArea.unique.ecc.x.size);
                else
                        assert_int_equal(encrypted_seed.size, ek->pub.publicArea.unique.rsa.size);
        }
}

/* RSA EKs: the seed tpm2-tools drew, given to credential_make(), gives its TPM2B_ID_OBJECT byte
 * for byte. The encrypted seed differs (OAEP is randomised) but holds the same seed. */
static void test_rsa_matches_tpm2_tools(void **state) {
        struct vectors *v = *state;
        static const unsigned rsa[] = { RSA2048, RSA3072_SHA384 };

        for (size_t i = 0; i < ELEMENTSOF(rsa); i++) {
                const struct ek_vector *ek = &v->ek[rsa[i]];
                TPM2B_ENCRYPTED_SECRET tools_seed, our_seed;
                TPM2B_ID_OBJECT tools_id, our_id;
                _cleanup_(freep) uint8_t *blob = NULL;
                uint8_t seed[64], again[512];
                size_t seed_size, blob_size = 0;

                parse_ok(ek->blob, ek->blob_size, &tools_id, &tools_seed);
                seed_size = recover_seed(ek, &tools_seed, seed);
                assert_int_equal(credential_make(&ek->pub, &v->object_name, v->secret, v->secret_size, seed, &blob,
                                                 &blob_size),
                                 0);
                assert_int_equal(blob_size, ek->blob_size);
                assert_memory_equal(blob, ek->blob, 8); /* magic and version */
                parse_ok(blob, blob_size, &our_id, &our_seed);
                assert_id_objects_equal(&our_id, &tools_id);
                assert_int_equal(our_seed.size, tools_seed.size);
                assert_int_equal(recover_seed(ek, &our_seed, again), seed_size);
                assert_memory_equal(again, seed, seed_size);
        }
}

/* The size of the ephemeral x in tpm2-tools' blob: the encrypted seed is a TPMS_ECC_POINT. */
static size_t ephemeral_x_size(const struct ek_vector *ek) {
        TPM2B_ENCRYPTED_SECRET encrypted_seed;
        TPM2B_ID_OBJECT id_object;

        parse_ok(ek->blob, ek->blob_size, &id_object, &encrypted_seed);
        return (size_t)(encrypted_seed.secret[0] << 8 | encrypted_seed.secret[1]);
}

/* ECC EKs: tpm2-tools' seed, recovered with ECDH and KDFe, gives its TPM2B_ID_OBJECT. tpm2-tools
 * writes the ephemeral x without its leading zero bytes and hashes it so into the seed; a TPM
 * takes the x it is given, so that such a blob activates too. make-vectors.sh makes the P-384
 * blob until its x is short, so that this form is covered. */
static void test_ecc_matches_tpm2_tools(void **state) {
        struct vectors *v = *state;
        static const unsigned ecc[] = { ECC_P256, ECC_P384 };

        assert_int_equal(ephemeral_x_size(&v->ek[ECC_P256]), 32);
        assert_true(ephemeral_x_size(&v->ek[ECC_P384]) < 48);

        for (size_t i = 0; i < ELEMENTSOF(ecc); i++) {
                const struct ek_vector *ek = &v->ek[ecc[i]];
                TPM2B_ID_OBJECT tools_id, our_id = {};
                TPM2B_ENCRYPTED_SECRET tools_seed;
                uint8_t seed[64];

                parse_ok(ek->blob, ek->blob_size, &tools_id, &tools_seed);
                recover_seed(ek, &tools_seed, seed);
                assert_int_equal(
                        credential_id_object(&ek->pub, &v->object_name, v->secret, v->secret_size, seed, &our_id), 0);
                assert_id_objects_equal(&our_id, &tools_id);
        }
}

/* credential_seed_ecc() with a known ephemeral key: the encrypted seed is that key's point, and
 * the seed is what the EK's holder derives from it. */
static void test_ecc_seed_with_ephemeral(void **state) {
        struct vectors *v = *state;
        static const struct {
                unsigned ek;
                const char *group;
        } ecc[] = { { ECC_P256, "P-256" }, { ECC_P384, "P-384" } };

        for (size_t i = 0; i < ELEMENTSOF(ecc); i++) {
                const struct ek_vector *ek = &v->ek[ecc[i].ek];
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *ephemeral = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ecc[i].group);
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *sent = NULL;
                TPM2B_ENCRYPTED_SECRET encrypted_seed = {};
                uint8_t seed[64] = {}, recovered[64];
                size_t seed_size, offset = 0;
                TPMS_ECC_POINT point;

                assert_non_null(ephemeral);
                assert_int_equal(credential_seed_ecc(&ek->pub, ephemeral, seed, &encrypted_seed), 0);
                assert_int_equal(Tss2_MU_TPMS_ECC_POINT_Unmarshal(encrypted_seed.secret, encrypted_seed.size, &offset,
                                                                  &point),
                                 0);
                assert_int_equal(offset, encrypted_seed.size);
                /* coordinates padded to the field, as a TPM writes them */
                assert_int_equal(point.x.size, ek->pub.publicArea.unique.ecc.x.size);
                assert_int_equal(point.y.size, ek->pub.publicArea.unique.ecc.y.size);
                sent = ecc_point_key(ek, &point);
                assert_int_equal(EVP_PKEY_eq(sent, ephemeral), 1);
                seed_size = recover_seed(ek, &encrypted_seed, recovered);
                assert_memory_equal(seed, recovered, seed_size);
        }
}

/* The ephemeral key must be on the EK's curve. */
static void test_ecc_seed_wrong_curve(void **state) {
        struct vectors *v = *state;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        TPM2B_ENCRYPTED_SECRET encrypted_seed = {};
        uint8_t seed[64];

        assert_non_null(p384);
        assert_error(credential_seed_ecc(&v->ek[ECC_P256].pub, p384, seed, &encrypted_seed), -EIO, "ECDH");
        assert_error(credential_seed_ecc(&v->ek[RSA2048].pub, NULL, seed, &encrypted_seed), -EINVAL, "not ECC");
}

/* Production: a fresh seed each time, and a blob whose ID object is the one its seed gives. */
static void test_make_random_seed(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++) {
                const struct ek_vector *ek = &v->ek[i];
                uint8_t seeds[2][64];
                size_t seed_size = 0;

                for (unsigned run = 0; run < 2; run++) {
                        _cleanup_(freep) uint8_t *blob = NULL;
                        TPM2B_ENCRYPTED_SECRET encrypted_seed;
                        TPM2B_ID_OBJECT id_object, expected = {};
                        size_t blob_size = 0;

                        assert_int_equal(credential_make(&ek->pub, &v->object_name, v->secret, v->secret_size, NULL,
                                                         &blob, &blob_size),
                                         0);
                        parse_ok(blob, blob_size, &id_object, &encrypted_seed);
                        /* unlike tpm2-tools, credential_make() pads the point like a TPM */
                        if (is_ecc(ek))
                                assert_int_equal(encrypted_seed.size, 4 + 2 * ek->pub.publicArea.unique.ecc.x.size);
                        else
                                assert_int_equal(encrypted_seed.size, ek->pub.publicArea.unique.rsa.size);
                        seed_size = recover_seed(ek, &encrypted_seed, seeds[run]);
                        assert_int_equal(credential_id_object(&ek->pub, &v->object_name, v->secret, v->secret_size,
                                                              seeds[run], &expected),
                                         0);
                        assert_id_objects_equal(&id_object, &expected);
                }
                assert_memory_not_equal(seeds[0], seeds[1], seed_size);
        }
}

/* Every secret size up to the EK nameAlg's digest (TPM2_MakeCredential's limit); one more byte
 * is refused. */
static void test_make_secret_sizes(void **state) {
        struct vectors *v = *state;
        static const unsigned eks[] = { ECC_P256, RSA3072_SHA384 };
        uint8_t secret[CREDENTIAL_SECRET_MAX + 1];

        memset(secret, 'k', sizeof(secret));
        for (size_t i = 0; i < ELEMENTSOF(eks); i++) {
                const struct ek_vector *ek = &v->ek[eks[i]];
                size_t digest_size = hashalg_size(ek->pub.publicArea.nameAlg);
                char detail[64];

                for (size_t size = 1; size <= digest_size; size++) {
                        _cleanup_(freep) uint8_t *blob = NULL;
                        TPM2B_ENCRYPTED_SECRET encrypted_seed;
                        TPM2B_ID_OBJECT id_object;
                        size_t blob_size = 0;

                        assert_int_equal(
                                credential_make(&ek->pub, &v->object_name, secret, size, NULL, &blob, &blob_size), 0);
                        parse_ok(blob, blob_size, &id_object, &encrypted_seed);
                        assert_int_equal(id_object.size, 2 + digest_size + 2 + size);
                }
                snprintf(detail, sizeof(detail), "secret of %zu bytes (must be 1 to %zu", digest_size + 1, digest_size);
                assert_error(credential_make(&ek->pub, &v->object_name, secret, digest_size + 1, NULL, NULL, NULL),
                             -EINVAL, detail);
                assert_error(credential_make(&ek->pub, &v->object_name, secret, 0, NULL, NULL, NULL), -EINVAL,
                             "secret of 0 bytes");
        }
}

/* Keys that cannot protect a credential, and malformed Names, are refused before anything is
 * derived; the detail names the field. */
static void test_make_refuses(void **state) {
        struct vectors *v = *state;
        const TPM2B_PUBLIC *rsa = &v->ek[RSA2048].pub;
        static const TPMA_OBJECT bad_roles[] = {
                TPMA_OBJECT_DECRYPT,                                                   /* not restricted */
                TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,                     /* an AK */
                TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT, /* both */
        };
        uint8_t seed[64] = {};
        TPM2B_PUBLIC bad;
        TPM2B_NAME name;

        for (size_t i = 0; i < ELEMENTSOF(bad_roles); i++) {
                bad = *rsa;
                bad.publicArea.objectAttributes &= ~(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
                bad.publicArea.objectAttributes |= bad_roles[i];
                assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL),
                             -EINVAL, "objectAttributes");
        }

        bad = *rsa;
        bad.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "symmetric algorithm 0x0010");
        bad = *rsa;
        bad.publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 192;
        assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "192 bits");
        bad = *rsa;
        bad.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CBC;
        assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "mode 0x0042");
        bad = *rsa;
        bad.publicArea.nameAlg = TPM2_ALG_SHA1;
        assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "nameAlg 0x0004");
        bad = *rsa;
        bad.publicArea.type = TPM2_ALG_KEYEDHASH;
        assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "EK type 0x0008");
        bad = *rsa;
        bad.publicArea.unique.rsa.size = 128; /* modulus shorter than keyBits */
        assert_error(credential_make(&bad, &v->object_name, v->secret, v->secret_size, NULL, NULL, NULL), -EBADMSG,
                     "modulus");

        name = v->object_name;
        name.size = 0;
        assert_error(credential_make(rsa, &name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL, "object name");
        name.size = sizeof(name.name) + 1;
        assert_error(credential_make(rsa, &name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL, "object name");
        name = v->object_name;
        name.size--; /* a SHA-256 Name one byte short */
        assert_error(credential_make(rsa, &name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "algorithm 0x000b, 33 bytes");
        name = v->object_name;
        name.name[1] = 0x42;
        assert_error(credential_make(rsa, &name, v->secret, v->secret_size, NULL, NULL, NULL), -EINVAL,
                     "algorithm 0x0042");

        assert_error(credential_make(&v->ek[ECC_P256].pub, &v->object_name, v->secret, v->secret_size, seed, NULL,
                                     NULL),
                     -EINVAL, "ECC EK's seed");
}

/* The credential is bound to the object: another Name, another ID object. */
static void test_name_binds(void **state) {
        struct vectors *v = *state;
        const struct ek_vector *ek = &v->ek[RSA2048];
        TPM2B_ID_OBJECT id_object = {}, other = {};
        TPM2B_NAME name = v->object_name;
        uint8_t seed[32] = { 1 };

        assert_int_equal(
                credential_id_object(&ek->pub, &v->object_name, v->secret, v->secret_size, seed, &id_object), 0);
        name.name[name.size - 1] ^= 1;
        assert_int_equal(credential_id_object(&ek->pub, &name, v->secret, v->secret_size, seed, &other), 0);
        assert_int_equal(id_object.size, other.size);
        /* both the HMAC and (symKey being derived from the Name) the encrypted credential differ */
        assert_memory_not_equal(id_object.credential + 2, other.credential + 2, 32);
        assert_memory_not_equal(id_object.credential + 34, other.credential + 34, id_object.size - 34);
}

static void test_marshal_reproduces_tpm2_tools(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++) {
                _cleanup_(freep) uint8_t *blob = NULL;
                TPM2B_ENCRYPTED_SECRET encrypted_seed;
                TPM2B_ID_OBJECT id_object;
                size_t blob_size = 0;

                parse_ok(v->ek[i].blob, v->ek[i].blob_size, &id_object, &encrypted_seed);
                assert_int_equal(credential_blob_marshal(&id_object, &encrypted_seed, &blob, &blob_size), 0);
                assert_int_equal(blob_size, v->ek[i].blob_size);
                assert_memory_equal(blob, v->ek[i].blob, blob_size);
        }
        /* a TPM2B claiming more than its buffer is not written */
        {
                TPM2B_ID_OBJECT id_object = { .size = sizeof(id_object.credential) + 1 };
                TPM2B_ENCRYPTED_SECRET encrypted_seed = {};
                uint8_t *blob = NULL;
                size_t blob_size = 0;

                assert_error(credential_blob_marshal(&id_object, &encrypted_seed, &blob, &blob_size), -EINVAL,
                             "cannot marshal");
                assert_null(blob);
        }
}

/* Which field a blob cut after `size` bytes breaks off in. */
static const char *field_at(size_t size, size_t id_size) {
        if (size < 4)
                return "truncated in magic";
        if (size < 8)
                return "truncated in version";
        if (size < 10)
                return "truncated in TPM2B_ID_OBJECT size";
        if (size < 10 + id_size)
                return "truncated in TPM2B_ID_OBJECT credential";
        if (size < 12 + id_size)
                return "truncated in TPM2B_ENCRYPTED_SECRET size";
        return "truncated in TPM2B_ENCRYPTED_SECRET secret";
}

static void test_parse_every_truncation(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++) {
                const struct ek_vector *ek = &v->ek[i];
                TPM2B_ENCRYPTED_SECRET encrypted_seed;
                TPM2B_ID_OBJECT id_object;
                size_t id_size = (size_t)(ek->blob[8] << 8 | ek->blob[9]);

                for (size_t size = 0; size < ek->blob_size; size++) {
                        /* a copy of exactly `size` bytes, so that ASan sees any read past it */
                        _cleanup_(freep) uint8_t *cut = malloc(size ? size : 1);

                        assert_non_null(cut);
                        memcpy(cut, ek->blob, size);
                        assert_error(credential_blob_parse(cut, size, &id_object, &encrypted_seed), -EBADMSG,
                                     field_at(size, id_size));
                        assert_detail_contains(-EBADMSG, "credential blob");
                }
        }
}

static void test_parse_bad_header(void **state) {
        struct vectors *v = *state;
        uint8_t blob[BLOB_MAX];
        size_t size = v->ek[ECC_P256].blob_size;
        TPM2B_ENCRYPTED_SECRET encrypted_seed;
        TPM2B_ID_OBJECT id_object;

        memcpy(blob, v->ek[ECC_P256].blob, size);
        blob[3] = 0xdf;
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG, "bad magic 0xbadcc0df");
        memcpy(blob, "\0\0\0\1\0\0\0\1", 8); /* the version where the magic should be */
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG, "bad magic 0x00000001");

        memcpy(blob, v->ek[ECC_P256].blob, size);
        blob[7] = 2;
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "version 2 is not supported");
        blob[7] = 0;
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "version 0 is not supported");
        blob[4] = 1, blob[7] = 1; /* 0x01000001: little-endian 1 read as big-endian */
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG, "version 16777217");
}

static void test_parse_trailing_byte(void **state) {
        struct vectors *v = *state;

        for (unsigned i = 0; i < N_EKS; i++) {
                struct ek_vector *ek = &v->ek[i];
                TPM2B_ENCRYPTED_SECRET encrypted_seed;
                TPM2B_ID_OBJECT id_object;

                ek->blob[ek->blob_size] = 0;
                assert_error(credential_blob_parse(ek->blob, ek->blob_size + 1, &id_object, &encrypted_seed), -EBADMSG,
                             "1 unexpected trailing bytes");
        }
}

/* Builds magic, version, then the TPM2B sizes and bodies given: hostile framing by hand. */
static size_t build_blob(uint8_t *blob, uint16_t id_size, size_t id_present, uint16_t secret_size,
                         size_t secret_present) {
        size_t offset = 0;

        assert_int_equal(Tss2_MU_UINT32_Marshal(CREDENTIAL_BLOB_MAGIC, blob, BLOB_MAX, &offset), 0);
        assert_int_equal(Tss2_MU_UINT32_Marshal(CREDENTIAL_BLOB_VERSION, blob, BLOB_MAX, &offset), 0);
        assert_int_equal(Tss2_MU_UINT16_Marshal(id_size, blob, BLOB_MAX, &offset), 0);
        assert_true(offset + id_present + 2 + secret_present <= BLOB_MAX);
        memset(blob + offset, 0xa5, id_present);
        offset += id_present;
        assert_int_equal(Tss2_MU_UINT16_Marshal(secret_size, blob, BLOB_MAX, &offset), 0);
        memset(blob + offset, 0x5a, secret_present);
        return offset + secret_present;
}

static void test_parse_tpm2b_sizes(void **state) {
        static uint8_t blob[BLOB_MAX];
        TPM2B_ENCRYPTED_SECRET encrypted_seed;
        TPM2B_ID_OBJECT id_object;
        size_t size;

        /* the largest of each is fine */
        size = build_blob(blob, 132, 132, 512, 512);
        parse_ok(blob, size, &id_object, &encrypted_seed);
        assert_int_equal(id_object.size, 132);
        assert_int_equal(encrypted_seed.size, 512);
        assert_int_equal(encrypted_seed.secret[511], 0x5a);
        /* and so are empty ones: whether they make sense is the TPM's call */
        size = build_blob(blob, 0, 0, 0, 0);
        parse_ok(blob, size, &id_object, &encrypted_seed);

        size = build_blob(blob, 133, 133, 68, 68);
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "TPM2B_ID_OBJECT size 133 exceeds the structure's 132 bytes");
        size = build_blob(blob, 0xffff, 100, 68, 68);
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "TPM2B_ID_OBJECT size 65535 exceeds");
        size = build_blob(blob, 68, 68, 513, 513);
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "TPM2B_ENCRYPTED_SECRET size 513 exceeds the structure's 512 bytes");

        /* sizes within the structure but beyond the bytes there are */
        size = build_blob(blob, 100, 20, 0, 0) - 2;
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "truncated in TPM2B_ID_OBJECT credential at offset 10 (need 100 bytes, 20 left)");
        size = build_blob(blob, 68, 68, 257, 256);
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "truncated in TPM2B_ENCRYPTED_SECRET secret at offset 80 (need 257 bytes, 256 left)");
        /* an ID object swallowing the secret's size field leaves a blob one TPM2B short */
        size = build_blob(blob, 70, 68, 0, 0);
        assert_error(credential_blob_parse(blob, size, &id_object, &encrypted_seed), -EBADMSG,
                     "truncated in TPM2B_ENCRYPTED_SECRET size");
}

/* Random bytes, and mutated real blobs: never a crash, 0 or -EBADMSG, and whatever parses marshals
 * back to the same bytes. */
static void check_hostile(const uint8_t *data, size_t size) {
        TPM2B_ENCRYPTED_SECRET encrypted_seed;
        TPM2B_ID_OBJECT id_object;
        _cleanup_(freep) uint8_t *copy = malloc(size ? size : 1);
        _cleanup_(freep) uint8_t *again = NULL;
        size_t again_size = 0;
        int ret;

        assert_non_null(copy);
        memcpy(copy, data, size);
        vm_error_clear();
        ret = credential_blob_parse(copy, size, &id_object, &encrypted_seed);
        if (ret < 0) {
                assert_int_equal(ret, -EBADMSG);
                assert_detail_contains(ret, "credential blob: ");
                return;
        }
        assert_int_equal(credential_blob_marshal(&id_object, &encrypted_seed, &again, &again_size), 0);
        assert_int_equal(again_size, size);
        assert_memory_equal(again, data, size);
}

static void test_parse_random_bytes(void **state) {
        uint64_t prng = FUZZ_SEED;
        uint8_t buf[BLOB_MAX];

        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t size = prng_next(&prng) % sizeof(buf);

                prng_fill(&prng, buf, size);
                /* half of them with a good header, to get past it */
                if (i % 2 && size >= 8)
                        memcpy(buf, "\xba\xdc\xc0\xde\0\0\0\1", 8);
                check_hostile(buf, size);
        }
}

static void test_parse_mutated_blobs(void **state) {
        struct vectors *v = *state;
        uint64_t prng = FUZZ_SEED + 1;
        uint8_t buf[BLOB_MAX];

        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                const struct ek_vector *ek = &v->ek[i % N_EKS];

                memcpy(buf, ek->blob, ek->blob_size);
                prng_mutate(&prng, buf, ek->blob_size);
                check_hostile(buf, ek->blob_size);
        }
}

/* Tool mode, for tests/integration/test-credential.sh, which needs this library's blob for a real
 * TPM's EK (the Makefile links lib/ into no other program that could make one):
 *   CREDENTIAL_MAKE_EK      the EK's TPM2B_PUBLIC (tpm2_createek -f tss)
 *   CREDENTIAL_MAKE_NAME    the object's binary Name (tpm2_createak -n)
 *   CREDENTIAL_MAKE_SECRET  the credential
 *   CREDENTIAL_MAKE_OUT     where the blob goes */
static int read_file(const char *variable, uint8_t *data, size_t cap, size_t *size) {
        const char *path = getenv(variable);
        _cleanup_(fclosep) FILE *f = NULL;

        if (!path)
                return vm_error(-EINVAL, "%s is not set", variable);
        f = fopen(path, "rb");
        if (!f)
                return vm_error(-errno, "%s: cannot open %s: %m", variable, path);
        *size = fread(data, 1, cap, f);
        if (ferror(f) || fgetc(f) != EOF)
                return vm_error(-EFBIG, "%s: %s cannot be read or is larger than %zu bytes", variable, path, cap);
        return 0;
}

static int tool_make(void) {
        uint8_t pub_bytes[sizeof(TPM2B_PUBLIC)], secret[CREDENTIAL_SECRET_MAX];
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(fclosep) FILE *out = NULL;
        size_t pub_size, name_size, secret_size, blob_size = 0;
        const char *out_path = getenv("CREDENTIAL_MAKE_OUT");
        TPM2B_PUBLIC ek;
        TPM2B_NAME name;
        int ret;

        ret = read_file("CREDENTIAL_MAKE_EK", pub_bytes, sizeof(pub_bytes), &pub_size);
        if (ret == 0)
                ret = tpm2b_public_unmarshal(pub_bytes, pub_size, &ek);
        if (ret == 0)
                ret = read_file("CREDENTIAL_MAKE_NAME", name.name, sizeof(name.name), &name_size);
        if (ret == 0)
                ret = read_file("CREDENTIAL_MAKE_SECRET", secret, sizeof(secret), &secret_size);
        if (ret < 0)
                return ret;
        name.size = (UINT16)name_size;
        ret = credential_make(&ek, &name, secret, secret_size, NULL, &blob, &blob_size);
        if (ret < 0)
                return ret;
        if (!out_path)
                return vm_error(-EINVAL, "CREDENTIAL_MAKE_OUT is not set");
        out = fopen(out_path, "wb");
        if (!out || fwrite(blob, 1, blob_size, out) != blob_size || fflush(out) != 0)
                return vm_error(-EIO, "cannot write %s", out_path);
        return 0;
}

static int tool_main(void) {
        int ret = tool_make();

        if (ret < 0) {
                fprintf(stderr, "test-credential: %s\n", vm_error_detail(ret));
                return 1;
        }
        return 0;
}

int main(void) {
        if (getenv("CREDENTIAL_MAKE_EK"))
                return tool_main();
        /* tss2-mu logs what it refuses to marshal, which one test does on purpose */
        setenv("TSS2_LOG", "all+none", 0);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vector_keys_match),
                cmocka_unit_test(test_parse_tpm2_tools_blobs),
                cmocka_unit_test(test_rsa_matches_tpm2_tools),
                cmocka_unit_test(test_ecc_matches_tpm2_tools),
                cmocka_unit_test(test_ecc_seed_with_ephemeral),
                cmocka_unit_test(test_ecc_seed_wrong_curve),
                cmocka_unit_test(test_make_random_seed),
                cmocka_unit_test(test_make_secret_sizes),
                cmocka_unit_test(test_make_refuses),
                cmocka_unit_test(test_name_binds),
                cmocka_unit_test(test_marshal_reproduces_tpm2_tools),
                cmocka_unit_test(test_parse_every_truncation),
                cmocka_unit_test(test_parse_bad_header),
                cmocka_unit_test(test_parse_trailing_byte),
                cmocka_unit_test(test_parse_tpm2b_sizes),
                cmocka_unit_test(test_parse_random_bytes),
                cmocka_unit_test(test_parse_mutated_blobs),
        };

        return cmocka_run_group_tests_name("credential", tests, setup, teardown);
}
