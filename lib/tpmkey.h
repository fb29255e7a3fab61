/* TPM public keys as OpenSSL keys: what the verifier checks signatures with, what an EK
 * certificate is compared with, and the PEM whose hash is Keylime's `hash_ek` agent id. */
#pragma once

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

/* RSA or ECC (P-256, P-384, P-521) public area to a new EVP_PKEY. */
int tpmkey_to_evp(const TPMT_PUBLIC *pub, EVP_PKEY **out);
/* 0 when `pub` is a key an attestation key must be (docs/protocol.md §1): a restricted signing key
 * that never leaves its TPM (fixedTPM, fixedParent, sensitiveDataOrigin, no decrypt); else a
 * detail. */
int tpmkey_check_ak(const TPMT_PUBLIC *pub);
/* 0 when `pub` is a payload key that lives in its TPM (docs/protocol.md §5.10): RSA-2048, decrypt
 * only, fixedTPM, fixedParent, sensitiveDataOrigin, neither signing nor restricted; else a detail. */
int tpmkey_check_payload_key(const TPMT_PUBLIC *pub);
/* 0 when `pub` is strong enough to be an EK or AK the registrar accepts: RSA of at least 2048
 * bits with exponent 65537 (0 in a TPM2B_PUBLIC means 65537), or ECC on NIST P-256 or P-384;
 * else -EINVAL with a detail that states the rule broken. */
int tpmkey_check_strength(const TPMT_PUBLIC *pub);
/* SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----", 64-column lines, final newline),
 * malloc'ed. */
int tpmkey_spki_pem(const TPMT_PUBLIC *pub, char **out);
/* hex SHA-256 of the SPKI PEM: Keylime's hash_ek (docs/protocol.md §1). out: 65 bytes. */
int tpmkey_hash_ek(const TPMT_PUBLIC *pub, char out[65]);
