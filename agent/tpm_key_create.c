#include "agent/tpm_key_create.h"

int tpm_key_create_primary(struct tpm *tpm, ESYS_TR hierarchy, const TPM2B_PUBLIC *template, const char *what,
                           ESYS_TR *handle, TPM2B_PUBLIC **public) {
        TPM2B_SENSITIVE_CREATE sensitive = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION pcrs = { 0 };

        return TPM_RUN(what, Esys_CreatePrimary(tpm->esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                                &sensitive, template, &outside, &pcrs, handle, public, NULL, NULL,
                                                NULL));
}

int tpm_key_create(struct tpm *tpm, ESYS_TR parent, ESYS_TR session, const TPM2B_PUBLIC *template, const char *what,
                   TPM2B_PRIVATE **private, TPM2B_PUBLIC **public) {
        TPM2B_SENSITIVE_CREATE sensitive = { 0 };
        TPM2B_DATA outside = { 0 };
        TPML_PCR_SELECTION pcrs = { 0 };

        return TPM_RUN(what, Esys_Create(tpm->esys, parent, session, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, template,
                                         &outside, &pcrs, private, public, NULL, NULL, NULL));
}
