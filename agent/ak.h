/* The Attestation Key: RSA-2048, RSASSA with the configured hash, a restricted signing key
 * created under the EK and kept at a persistent handle (default 0x81010002), so that it
 * survives reboots and the agent keeps no key file on disk. */
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

/* Loads the AK at `persistent`: -ENOENT when the handle is empty; an error when it holds a
 * key that is not a restricted RSASSA signing key of hash `hash_alg`. */
int ak_load(struct tpm *tpm, TPM2_HANDLE persistent, TPM2_ALG_ID hash_alg, struct ak *ak);
/* The same for an AK the platform made (a cloud's: agent/platform_ak.h): the detail says what
 * the key lacks, without advice about ak_handle. */
int ak_load_platform(struct tpm *tpm, TPM2_HANDLE persistent, TPM2_ALG_ID hash_alg, struct ak *ak);
/* Makes the loaded object `loaded` persistent at `persistent` (flushing `loaded`) and opens it
 * as the AK: an error when it is not a key an AK must be. */
int ak_persist(struct tpm *tpm, ESYS_TR loaded, TPM2_HANDLE persistent, TPM2_ALG_ID hash_alg, struct ak *ak);
/* Creates an AK under `ek` and makes it persistent at `persistent`. */
int ak_create(struct tpm *tpm, const struct ek *ek, TPM2_HANDLE persistent, TPM2_ALG_ID hash_alg, struct ak *ak);
void ak_close(struct tpm *tpm, struct ak *ak);

/* 0 when `pub` has the attributes and scheme of a vmattest AK (docs/protocol.md §2), else a
 * detail. */
int ak_check_public(const TPM2B_PUBLIC *pub, TPM2_ALG_ID hash_alg);
