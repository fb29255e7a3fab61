/* tdx_forge: TDX quotes (version 4, ECDSA P-256) under a root made here, and CC event logs as
 * TDVF writes them, for TESTS only. Nothing made here is Intel's: a verifier accepts such a quote
 * only with the forge's root among tdx_trust.test_roots (the field that exists for tests). The
 * quote's layout follows verifier/tdx_quote.h; the log's, the TCG PC Client crypto-agile format
 * with SHA-384 digests and the measurement register index as its PCR index (1-4 = RTMR0-3),
 * each RTMR extended here with OpenSSL alone, independently of lib/eventlog.c. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "verifier/tdx_quote.h"

struct tdx_forge {
        EVP_PKEY *root_key, *pck_key, *attestation_key;
        X509 *root, *pck;       /* "Test Intel SGX Root CA", the PCK certificate it signs */
        STACK_OF(X509) *roots;  /* the root alone: tdx_trust.test_roots */
};

/* Keys and certificates valid a day either side of `at`. 0, or -1 with a message on stderr. */
int tdx_forge_init(struct tdx_forge *forge, time_t at);
void tdx_forge_done(struct tdx_forge *forge);

/* A quote of `body`, signed by the attestation key, which the QE report (signed by the PCK key,
 * Intel's TD QE identity) binds; malloc'ed. 0, or -1. */
int tdx_forge_quote(const struct tdx_forge *forge, const struct tdx_quote_body *body, uint8_t **quote,
                    size_t *size);

/* A growing CC event log. */
struct tdx_forge_log {
        uint8_t *data;
        size_t size, capacity;
};

/* The Spec ID event declaring SHA-384 alone. 0, or -1. */
int tdx_forge_log_start(struct tdx_forge_log *log);
/* An EV_EFI_ACTION event for MR index `mr_index` whose digest is SHA-384(text); when `rtmr` is
 * given, it is extended: rtmr = SHA-384(rtmr || digest). 0, or -1. */
int tdx_forge_log_event(struct tdx_forge_log *log, uint32_t mr_index, const char *text, uint8_t rtmr[48]);
void tdx_forge_log_done(struct tdx_forge_log *log);
