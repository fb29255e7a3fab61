/* The registrar's trust in an EK: its certificate must certify exactly the registered EK
 * and chain to a CA in the tenant's store (a directory of PEM files, `tpm_cert_store`). */
#pragma once

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

struct ek_trust;

/* Loads every *.pem / *.crt / *.cer file of `dir`; an empty or missing directory trusts nothing. */
int ek_trust_load(const char *dir, struct ek_trust **out);
void ek_trust_free(struct ek_trust *trust);
unsigned ek_trust_count(const struct ek_trust *trust);

/* `text`: one certificate, PEM or base64 DER (docs/protocol.md §1). *der: the DER, malloc'ed. */
int ek_cert_decode(const char *text, size_t text_size, uint8_t **der, size_t *der_size);
/* -EBADMSG when the certificate does not certify `ek` (400), -EACCES when it does not chain to
 * the store or was not issued for an EK (403): an extendedKeyUsage without the TCG EK
 * certificate purpose 2.23.133.8.1, a keyUsage without keyEncipherment (RSA EK) or
 * keyAgreement (ECC EK), as the TCG EK Credential Profile sets them; either extension may be
 * absent. The detail names the reason. */
int ek_cert_check(const struct ek_trust *trust, const uint8_t *der, size_t der_size, const TPMT_PUBLIC *ek);
