/* TPM2_ActivateCredential: proves to the registrar that the AK lives in the TPM whose EK it
 * checked, by recovering the secret it encrypted to that EK for that AK's name
 * (docs/protocol.md §1). */
#pragma once

#include <tss2/tss2_esys.h>

#include "agent/ak.h"
#include "agent/ek.h"
#include "agent/tpm.h"

/* `credential` receives the secret; the caller wipes it after use. */
int credential_activate(struct tpm *tpm, const struct ek *ek, const struct ak *ak, const TPM2B_ID_OBJECT *id_object,
                        const TPM2B_ENCRYPTED_SECRET *secret, TPM2B_DIGEST *credential);
