/* TPM hash algorithms by the names Keylime uses in its config and on the wire. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <tss2/tss2_tpm2_types.h>

/* TPM2_ALG_ERROR when `name` is not a hash vmattest supports (sha1 is known, so that a PCR
 * bank can be named, but is never accepted for quotes: docs/protocol.md §2). */
TPM2_ALG_ID hashalg_from_name(const char *name);
/* The bank and signature hash a quote may use (docs/protocol.md §2: sha256, sha384, sha512, never
 * sha1); TPM2_ALG_ERROR for any other name. */
TPM2_ALG_ID hashalg_for_quotes(const char *name);
/* "sha256", ...; NULL for an unknown id. */
const char *hashalg_name(TPM2_ALG_ID alg);
/* 0 for an unknown id. */
size_t hashalg_size(TPM2_ALG_ID alg);
const EVP_MD *hashalg_md(TPM2_ALG_ID alg);
/* out must hold hashalg_size(alg) bytes. */
int hashalg_digest(TPM2_ALG_ID alg, const void *data, size_t size, uint8_t *out);
