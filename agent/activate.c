#include "agent/activate.h"

#include <openssl/crypto.h>

#include "lib/error.h"

int credential_activate(struct tpm *tpm, const struct ek *ek, const struct ak *ak, const TPM2B_ID_OBJECT *id_object,
                        const TPM2B_ENCRYPTED_SECRET *secret, TPM2B_DIGEST *credential) {
        TPM2B_DIGEST *cert_info = NULL;
        ESYS_TR session;
        int ret;

        /* the AK authorizes with its (empty) password, the EK with its policy session */
        ret = ek_session(tpm, ek, &session);
        if (ret < 0)
                return ret;
        ret = TPM_RUN("TPM2_ActivateCredential",
                      Esys_ActivateCredential(tpm->esys, ak->handle, ek->handle, ESYS_TR_PASSWORD, session, ESYS_TR_NONE,
                                              id_object, secret, &cert_info));
        ek_session_done(tpm, session, ret);
        if (ret < 0)
                return vm_error(ret, "the TPM refuses the registrar's credential (not made for this EK and AK?): %s",
                                vm_error_detail(ret));
        *credential = *cert_info;
        OPENSSL_cleanse(cert_info, sizeof(*cert_info));
        Esys_Free(cert_info);
        return 0;
}
