/* TPM structures to and from their wire form, over tss2-mu (which is bounded). Unmarshalling
 * here is exact: the structure must use every byte given, so that trailing data cannot ride
 * along unverified. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

int tpm2b_public_unmarshal(const uint8_t *data, size_t size, TPM2B_PUBLIC *out);
int tpms_attest_unmarshal(const uint8_t *data, size_t size, TPMS_ATTEST *out);
int tpmt_signature_unmarshal(const uint8_t *data, size_t size, TPMT_SIGNATURE *out);
/* a key's private blob, as TPM2_Create returns it: encrypted by the TPM under its parent */
int tpm2b_private_unmarshal(const uint8_t *data, size_t size, TPM2B_PRIVATE *out);

int tpm2b_public_marshal(const TPM2B_PUBLIC *in, uint8_t *out, size_t cap, size_t *out_size);
int tpmt_public_marshal(const TPMT_PUBLIC *in, uint8_t *out, size_t cap, size_t *out_size);
int tpms_attest_marshal(const TPMS_ATTEST *in, uint8_t *out, size_t cap, size_t *out_size);
int tpmt_signature_marshal(const TPMT_SIGNATURE *in, uint8_t *out, size_t cap, size_t *out_size);
int tpm2b_private_marshal(const TPM2B_PRIVATE *in, uint8_t *out, size_t cap, size_t *out_size);

/* base64 of the marshalled TPM2B_PUBLIC (Keylime's ek_tpm/aik_tpm), malloc'ed; NULL on failure. */
char *tpm2b_public_base64(const TPM2B_PUBLIC *pub);

/* The object's Name: nameAlg || H_nameAlg(marshalled TPMT_PUBLIC) (TPM 2.0 Part 1, 16). */
int tpm2b_public_name(const TPM2B_PUBLIC *pub, TPM2B_NAME *name);
