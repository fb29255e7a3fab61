/* The host binding (docs/protocol.md §5.9): the host's TPM quotes the host's boot PCRs over
 * SHA-256(HOST_BINDING_LABEL || Name(vTPM EK)), and `vmattest-host provision` writes that quote
 * with everything needed to check it into an NV index of the VM's vTPM. Everything in the blob
 * is either signed by the host AK (the attest) or checked against what is signed (the AK by the
 * verifier's trusted set, the signature, the PCR values by pcrDigest): the verifier trusts no
 * unsigned byte of it. The encoder and the bounded parser of that one layout. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/pcr_values.h"

#define HOST_BINDING_MAGIC 0x564d4842u /* "VMHB" */
#define HOST_BINDING_VERSION 1 /* provisioned into the vTPM's NV index */
#define HOST_BINDING_VERSION_FRESH 2 /* made by `vmattest-host serve` for one verifier request */
#define HOST_BINDING_LABEL "vmattest-host-binding"
#define HOST_BINDING_FRESH_LABEL "vmattest-host-binding-fresh"
/* the verifier's nonce a fresh binding covers: the agent API's (1-64 letters and digits) */
#define HOST_BINDING_NONCE_MAX 64
#define HOST_BINDING_QUALIFYING_SIZE 32 /* SHA-256 */
/* What one vTPM NV index holds: swtpm's (and the PC Client profile's minimum) NV index limit.
 * An RSA-2048 host AK, its quote and 24 SHA-256 PCRs take about 1.5 KiB. */
#define HOST_BINDING_MAX_SIZE 2048
#define HOST_BINDING_NV_INDEX 0x01400100u
/* The PC Client platform's 24 PCRs: a selection beyond them is malformed. */
#define HOST_BINDING_PCR_MASK 0x00ffffffu

struct host_binding {
        uint16_t version; /* HOST_BINDING_VERSION or HOST_BINDING_VERSION_FRESH */
        /* version 2 only: the nonce the host was asked to cover, as the guest sent it. Not
         * signed as such (the quote covers it hashed): the verifier compares it with its own
         * only to name a replay ("stale") rather than a binding for another vTPM. */
        uint8_t nonce[HOST_BINDING_NONCE_MAX];
        size_t nonce_size;
        TPM2B_PUBLIC host_ak;
        uint8_t attest[sizeof(TPMS_ATTEST)]; /* the signed TPMS_ATTEST bytes, as the TPM made them */
        size_t attest_size;
        TPMT_SIGNATURE signature;
        struct pcr_values pcrs; /* the values the quote covers; pcrDigest vouches for them */
};

/* Parses a blob of `size` bytes (at most HOST_BINDING_MAX_SIZE): magic, version (1, or 2 with
 * its nonce), each field
 * complete and every byte used (an NV index cut short or with bytes after the blob fails).
 * -EBADMSG with a detail naming the field; the attest is checked to be a TPM-made quote, not
 * yet its signature (verifier/host_binding_check.h does that). */
int host_binding_parse(const uint8_t *data, size_t size, struct host_binding *out);

/* The blob's bytes, of in->version (0 is 1); -ENOBUFS when `cap` is too small. */
int host_binding_encode(const struct host_binding *in, uint8_t *out, size_t cap, size_t *out_size);

/* SHA-256(HOST_BINDING_LABEL || ek_name), the host quote's qualifyingData: the binding names one
 * vTPM, and a copy served by another VM fails. The Name must be complete (nameAlg || digest). */
int host_binding_qualifying_data(const TPM2B_NAME *ek_name, uint8_t out[HOST_BINDING_QUALIFYING_SIZE]);

/* SHA-256(HOST_BINDING_FRESH_LABEL || nonce || ek_name), a fresh binding's qualifyingData: it
 * names one vTPM and one verifier request (1 to HOST_BINDING_NONCE_MAX bytes of nonce). The
 * Name's length follows from its nameAlg, so that nonce || Name splits one way only for a
 * given nameAlg. */
int host_binding_fresh_qualifying_data(const uint8_t *nonce, size_t nonce_size, const TPM2B_NAME *ek_name,
                                       uint8_t out[HOST_BINDING_QUALIFYING_SIZE]);
/* Checks that `name` is complete: nameAlg (a known hash) || a digest of its size. */
int host_binding_name_check(const TPM2B_NAME *name);
