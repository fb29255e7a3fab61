/* The Endorsement Key: created from a TCG EK Credential Profile 2.5 template (or found at a
 * configured persistent handle), with the EK certificate from the NV index that belongs to that
 * template (docs/protocol.md §1). A TPM without a certificate is not an error here: ek->cert_der is
 * NULL and the registrar decides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "agent/tpm.h"

struct ek_template;

struct ek {
        ESYS_TR handle;
        bool transient; /* created by us: flushed by ek_free() */
        TPM2B_PUBLIC public;
        const struct ek_template *template; /* NULL for a persistent EK no template matched */
        uint8_t *cert_der;                  /* NULL: no certificate found */
        size_t cert_size;
        TPM2_HANDLE cert_index;
};

/* `alg`: "rsa" (= "rsa2048") or "ecc" (P-256 or P-384, whichever has a certificate),
 * "ecc256", "ecc384". `persistent`: 0 to create from the template, else the handle of an
 * EK the platform made persistent. */
int ek_open(struct tpm *tpm, const char *alg, TPM2_HANDLE persistent, struct ek **out);
void ek_free(struct tpm *tpm, struct ek *ek);

/* True when `alg` names an EK choice ek_open() understands. */
bool ek_alg_valid(const char *alg);
/* "L-1 RSA-2048 (low range)" etc., or "persistent" */
const char *ek_template_name(const struct ek *ek);

/* Authorization for using the EK as a parent or decrypter: low-range templates clear
 * userWithAuth and need a PolicySecret(TPM_RH_ENDORSEMENT) session; high-range ones set it
 * and take the (empty) password. The session is single-use: the TPM flushes it after the
 * command, and ek_session_done() flushes it when the command failed before using it. */
int ek_session(struct tpm *tpm, const struct ek *ek, ESYS_TR *session);
void ek_session_done(struct tpm *tpm, ESYS_TR session, int command_result);
