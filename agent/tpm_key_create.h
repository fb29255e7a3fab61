/* Keys the TPM generates from a template: TPM2_CreatePrimary and TPM2_Create with no sensitive
 * data, no outside info and no creation PCRs, the way every key of the agent is made (EK, AK,
 * the GCE AK, the payload key and its parent). */
#pragma once

#include "agent/tpm.h"

/* A primary key of `hierarchy` (its authorization empty) from `template`, loaded at *handle;
 * *public (when not NULL) its public area, for Esys_Free(). `what` names the command in an error
 * ("TPM2_CreatePrimary (EK)"). */
int tpm_key_create_primary(struct tpm *tpm, ESYS_TR hierarchy, const TPM2B_PUBLIC *template, const char *what,
                           ESYS_TR *handle, TPM2B_PUBLIC **public);

/* A key under `parent` (authorized by `session`: ESYS_TR_PASSWORD or a policy session) from
 * `template`, not loaded: *private and *public, for Esys_Free(). */
int tpm_key_create(struct tpm *tpm, ESYS_TR parent, ESYS_TR session, const TPM2B_PUBLIC *template, const char *what,
                   TPM2B_PRIVATE **private, TPM2B_PUBLIC **public);
