/* TPM2_MakeCredential in software, and the parser of its output. The registrar makes a credential
 * for an AK name under the agent's EK (TPM 2.0 Part 1, 24: credential protection); only the TPM
 * holding that EK, with that AK loaded, can recover the secret with TPM2_ActivateCredential. The
 * blob is tpm2_makecredential's file layout, which Keylime's registrar sends (docs/protocol.md §1):
 *   BE32 0xBADCC0DE | BE32 1 | TPM2B_ID_OBJECT | TPM2B_ENCRYPTED_SECRET */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define CREDENTIAL_BLOB_MAGIC 0xBADCC0DEu
#define CREDENTIAL_BLOB_VERSION 1u
/* TPM2_ActivateCredential returns the secret as a TPM2B_DIGEST: 64 bytes at most, and no more
 * than the EK's nameAlg digest (32 bytes for SHA-256), as TPM2_MakeCredential requires. */
#define CREDENTIAL_SECRET_MAX sizeof(((TPM2B_DIGEST *)0)->buffer)

/* Makes the blob that gives `secret` (1 byte to the EK nameAlg's digest size) to the holder of
 * `ek` for the object named `object_name`. The EK must be a restricted decryption key (RSA, or
 * ECC on P-256/P-384/P-521) with AES-128-CFB or AES-256-CFB as its symmetric algorithm and
 * SHA-256/384/512 as nameAlg.
 * `seed_override` is NULL in production (the seed is then random); for tests it fixes the seed of
 * an RSA EK (nameAlg's digest size). The blob is malloc'ed. */
int credential_make(const TPM2B_PUBLIC *ek, const TPM2B_NAME *object_name, const uint8_t *secret,
                    size_t secret_size, const uint8_t *seed_override, uint8_t **blob, size_t *blob_size);

/* The blob's wire form, malloc'ed. */
int credential_blob_marshal(const TPM2B_ID_OBJECT *id_object, const TPM2B_ENCRYPTED_SECRET *encrypted_seed,
                            uint8_t **blob, size_t *blob_size);

/* Parses a blob from the registrar (untrusted): exactly the layout above, nothing trailing.
 * -EBADMSG with a vm_error() detail naming the field that is wrong. */
int credential_blob_parse(const uint8_t *blob, size_t size, TPM2B_ID_OBJECT *id_object,
                          TPM2B_ENCRYPTED_SECRET *encrypted_seed);

/* The two halves of credential_make(), exposed for the known-answer tests against tpm2-tools
 * (tests/unit/test-credential.c), whose seed and ephemeral key are random. Nothing else should
 * call them: a fixed seed or ephemeral key gives the credential away.
 *
 * ECC seed (Part 1, 24.3 and 11.4.10.3): Z = ECDH(ephemeral, EK), seed = KDFe(nameAlg, Z,
 * "IDENTITY", ephemeral.x, EK.x), and the encrypted seed is the ephemeral public point. A NULL
 * `ephemeral` draws a fresh key on the EK's curve. `seed` receives nameAlg's digest size. */
int credential_seed_ecc(const TPM2B_PUBLIC *ek, EVP_PKEY *ephemeral, uint8_t *seed,
                        TPM2B_ENCRYPTED_SECRET *encrypted_seed);
/* From the seed to the TPM2B_ID_OBJECT (Part 1, 24.4 and 24.5): symKey, encIdentity, HMAC key
 * and outerHMAC. `seed` is nameAlg's digest size. */
int credential_id_object(const TPM2B_PUBLIC *ek, const TPM2B_NAME *object_name, const uint8_t *secret,
                         size_t secret_size, const uint8_t *seed, TPM2B_ID_OBJECT *id_object);
