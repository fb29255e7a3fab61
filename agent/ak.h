/* The Attestation Key: a restricted signing key created under the EK and kept at a persistent
 * handle (default 0x81010002), so that it survives reboots and the agent keeps no key file on
 * disk. Its kind is tpm_signing_alg's: rsassa (the default) makes it RSA-2048 signing RSASSA,
 * ecdsa makes it ECC NIST P-256 signing ECDSA, either with the configured hash (tpm_hash_alg). */
#pragma once

#include <stdbool.h>
#include <tss2/tss2_esys.h>

#include "agent/ek.h"
#include "agent/tpm.h"

#define AK_DEFAULT_HANDLE 0x81010002

struct ak {
        ESYS_TR handle;
        TPM2_HANDLE persistent;
        TPM2B_PUBLIC public;
        TPM2B_NAME name;
};

/* In each call below `sign_alg` is tpm_signing_alg (TPM2_ALG_RSASSA or TPM2_ALG_ECDSA) and
 * `hash_alg` tpm_hash_alg: together the kind of AK the agent quotes with. */

/* Loads the AK at `persistent`: -ENOENT when the handle is empty; an error naming the handle
 * (and tpm_signing_alg, when the key is of the other kind) when it holds a key that is not an
 * AK of that kind. */
int ak_load(struct tpm *tpm, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg, struct ak *ak);
/* The same for an AK the platform made (a cloud's: agent/platform_ak.h): the detail says what
 * the key lacks, without advice about ak_handle. */
int ak_load_platform(struct tpm *tpm, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg,
                     struct ak *ak);
/* Makes the loaded object `loaded` persistent at `persistent` (flushing `loaded`) and opens it
 * as the AK: an error when it is not a key an AK must be. */
int ak_persist(struct tpm *tpm, ESYS_TR loaded, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg,
               struct ak *ak);
/* Creates an AK under `ek` and makes it persistent at `persistent`. */
int ak_create(struct tpm *tpm, const struct ek *ek, TPM2_HANDLE persistent, TPM2_ALG_ID sign_alg,
              TPM2_ALG_ID hash_alg, struct ak *ak);
void ak_close(struct tpm *tpm, struct ak *ak);

/* 0 when `pub` has the attributes and scheme of a vmattest AK of kind `sign_alg` with
 * `hash_alg` (docs/protocol.md §1.5), else a detail. */
int ak_check_public(const TPM2B_PUBLIC *pub, TPM2_ALG_ID sign_alg, TPM2_ALG_ID hash_alg);

/* tpm_signing_alg's values, Keylime's names: "rsassa" -> TPM2_ALG_RSASSA, "ecdsa" ->
 * TPM2_ALG_ECDSA; TPM2_ALG_ERROR for any other name. */
TPM2_ALG_ID ak_sign_alg_from_name(const char *name);
/* The scheme an opened AK signs with, as Keylime names it in sign_alg and tpm_sign_alg:
 * "rsassa" or "ecdsa". */
const char *ak_sign_alg_name(const struct ak *ak);
/* The hash an opened AK signs with (its scheme's). */
TPM2_ALG_ID ak_sign_hash(const struct ak *ak);
