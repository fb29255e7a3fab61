/* What proves to the registrar that a registration's keys belong to a real TPM, for TPMs the
 * EK certificate path (verifier/ek_check.h) does not cover: a cloud vTPM whose provider certifies
 * the AK instead (Azure, GCE: `ak_cert`, chaining to `ak_cert_store`), or an EK the tenant pinned
 * by its public key (`ek_pinned_store`, e.g. what AWS's API returns for an instance).
 *
 * The proof is chosen by what the registration offers, but an offered certificate that fails is
 * a refusal, never a fallback to a weaker proof: the agent's choice of fields cannot skip a
 * check, only pick which check must pass (docs/protocol.md, "AK certificate at registration"). */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <tss2/tss2_tpm2_types.h>

/* What the registrar accepted a registration on; stored with the agent and shown. */
#define IDENTITY_PROOF_EK_CERTIFICATE "ek-certificate"
#define IDENTITY_PROOF_AK_CERTIFICATE "ak-certificate"
#define IDENTITY_PROOF_EK_ALLOWLIST "ek-allowlist"
#define IDENTITY_PROOF_EK_PINNED "ek-pinned"
#define IDENTITY_PROOF_MAX 16

/* An AK certificate is at most this long (DER); the GCE and Azure ones are 1-2 KiB. */
#define AK_CERT_DER_MAX 8192
/* Files read from each store, at most: a store is a tenant's short list. */
#define IDENTITY_STORE_FILES_MAX 256

struct identity_trust {
        STACK_OF(X509) *ak_roots;       /* every certificate of ak_cert_store: each is an anchor */
        EVP_PKEY **ek_pinned;           /* every public key of ek_pinned_store */
        size_t ek_pinned_count;
};

/* Loads `ak_cert_store` (PEM or DER certificates: *.pem, *.crt, *.cer, *.der) and
 * `ek_pinned_store` (PEM public keys: *.pem). A missing or empty directory trusts nothing; an
 * unreadable or malformed file in one is an error that names it (a tenant's typo must not
 * silently trust less, or more). Either path may be "" (not configured). */
int identity_trust_load(const char *ak_cert_store, const char *ek_pinned_store, struct identity_trust *trust);
void identity_trust_done(struct identity_trust *trust);

/* The AK certificate proof: `der` is one DER certificate whose public key is exactly `ak`, which
 * chains to a certificate of ak_cert_store and is valid at `at` (0: now). -EBADMSG (400) when it
 * is not a certificate or certifies another key, -EACCES (403) when it does not chain or is not
 * valid at `at`; the detail names the reason. */
int ak_cert_check(const struct identity_trust *trust, const uint8_t *der, size_t der_size, const TPMT_PUBLIC *ak,
                  time_t at);

/* True when `ek` is one of the pinned public keys (compared as keys, not as encodings). */
bool ek_pinned_match(const struct identity_trust *trust, const TPMT_PUBLIC *ek);

struct ek_trust;

/* What a registration offers as proof of its TPM (docs/protocol.md §1 and "AK certificate at
 * registration"). */
struct identity_evidence {
        const TPMT_PUBLIC *ek, *ak;
        const uint8_t *ekcert;  /* DER or NULL */
        size_t ekcert_size;
        const uint8_t *ak_cert; /* DER or NULL */
        size_t ak_cert_size;
        bool ek_allowlisted;    /* the EK's hash is in ek_allowlist */
        time_t at;              /* when certificates must be valid; 0: now */
};

/* The registrar's trust decision. Every certificate offered must hold (a failing one refuses the
 * registration, whatever else is offered); then the proof is the first of: "ek-certificate",
 * "ak-certificate", "ek-allowlist", "ek-pinned". -EACCES when none holds; *proof is one of the
 * IDENTITY_PROOF_* names. */
int identity_proof_decide(const struct ek_trust *ek_trust, const struct identity_trust *trust,
                          const struct identity_evidence *evidence, const char **proof);
