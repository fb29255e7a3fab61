/* The verifier's checks on one quote (docs/protocol.md §2): signed by the registered AK, over our
 * nonce, its pcrDigest the hash of the PCR values sent with it, the selection we asked for plus PCR
 * 16, PCR 16 bound to the payload key the agent served, and newer than the last quote we accepted
 * (clockInfo), so that an old quote replayed fails. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/quote_string.h"

/* What the last accepted quote said about the TPM's clock. */
struct quote_clock {
        uint64_t clock;
        uint32_t reset_count;
        uint32_t restart_count;
        bool valid; /* false before the first accepted quote */
};

struct quote_expect {
        const TPM2B_PUBLIC *ak;   /* the registered AK */
        const char *nonce;        /* the nonce we sent */
        size_t nonce_size;        /* its bytes; 0: strlen(nonce) (the pull model's text nonce) */
        TPM2_ALG_ID hash_alg;     /* bank and signature hash */
        uint32_t mask;            /* the PCRs we asked for (PCR 16 is added) */
        const char *pubkey_pem;   /* the payload key the agent served, bound to PCR 16; NULL: none
                                   * (push model, docs/protocol.md §4.2: PCR 16 not required) */
        struct quote_clock last;  /* from the last accepted quote of this agent */
};

/* Parses and checks `quote_string`. On success *quote holds the parsed quote (its PCR values
 * are then trustworthy) and *clock the quote's clock, to keep for the next check. Failures:
 * -EBADMSG (malformed), -EPERM (a check failed); the detail names the check. */
int quote_check(const char *quote_string, const struct quote_expect *expect, struct quote *quote,
                struct quote_clock *clock);
/* The checks every TPM2_Quote passes whoever carries it, Keylime's quote string (quote_check
 * makes them, and its own) or a cloud's attestation: `attest` is exactly the signed bytes, a
 * TPM-generated quote; `signature` verifies over them under `ak` with `sig_hash` (the AK's
 * scheme: a caller's choice, not the signature's unsigned hash field); extraData is the nonce
 * (bytes, of any length); the selection is one bank, `pcrs`'s, and exactly its PCRs; pcrDigest
 * is H_sig_hash of those values, as the TPM makes it whatever the bank (a SHA-1 or SHA-384 bank
 * signed with SHA-256). On success `pcrs` holds what the TPM quoted and *attest the parsed
 * attest (its clock for the caller to judge). -EBADMSG malformed, -EPERM a check failed, named.
 * `pcrs` NULL checks the signature and the nonce only: nothing the quote says about PCRs is then
 * checked, which only an offline look at a quote saved without its values may accept. */
struct quote_signed {
        const uint8_t *attest;
        size_t attest_size;
        const TPMT_SIGNATURE *signature;
        const TPM2B_PUBLIC *ak;
        TPM2_ALG_ID sig_hash;
        const uint8_t *nonce;
        size_t nonce_size;
        const struct pcr_values *pcrs;
};
int quote_check_signed(const struct quote_signed *q, TPMS_ATTEST *attest);
/* Only the signature: `attest` signed by `ak` with `hash_alg` (also a TPM2_Certify's). */
int quote_check_signature(const uint8_t *attest, size_t attest_size, const TPMT_SIGNATURE *sig, const TPM2B_PUBLIC *ak,
                          TPM2_ALG_ID hash_alg);

/* True when the quote shows a reboot or TPM restart since `last` (its clock may start lower). */
bool quote_clock_rebooted(const struct quote_clock *last, const struct quote_clock *now);
/* True when the quote is of another boot (TPM reset) than `last`: PCRs 0-15 and the IMA list
 * started over. A TPM restart alone (a resume from S3) keeps them: the same boot. */
bool quote_clock_new_boot(const struct quote_clock *last, const struct quote_clock *now);
