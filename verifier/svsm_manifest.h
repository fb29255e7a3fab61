/* The manifest of an SVSM's vTPM service (AMD's "Secure VM Service Module for SEV-SNP Guests",
 * 58019, the attestation protocol's SVSM_ATTEST_SINGLE_SERVICE call and its vTPM service;
 * docs/platforms.md, "SVSM vTPM (SEV-SNP)"). Manifest version 0 of the vTPM service is the
 * endorsement key's TPMT_PUBLIC, marshalled as the TPM marshals it, with no size before it and
 * nothing after it. The SVSM hashes it into the report: REPORT_DATA = SHA-512(inblob ||
 * manifest), so the bytes are as good as the AMD signature over the report, and no better: they
 * are parsed only after that digest matched. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

/* configfs-tsm reads the manifest into one page; an RSA-4096 EK's public area is under 1 KiB */
#define SVSM_MANIFEST_MAX 4096

#define SVSM_REPORT_DATA_SIZE 64

/* What the SVSM writes as the report's REPORT_DATA for the nonce the guest gave it (58019, the
 * attestation protocol): SHA-512(nonce || manifest). The agent's nonce is lib/tsm_binding.h's. */
int svsm_manifest_report_data(const uint8_t nonce[SVSM_REPORT_DATA_SIZE], const uint8_t *manifest, size_t size,
                              uint8_t out[SVSM_REPORT_DATA_SIZE]);

/* `manifest` as the vTPM service's version 0: an RSA or ECC key as EK templates make them
 * (TCG EK Credential Profile: a restricted decryption key, scheme TPM_ALG_NULL), every byte
 * used. -EBADMSG naming the field and why (an all-services manifest, a GUID table, is named as
 * such). */
int svsm_manifest_parse(const uint8_t *manifest, size_t size, TPMT_PUBLIC *ek);

/* 0 when the manifest's EK is the registered EK's key (RSA: modulus and exponent; ECC: curve
 * and point); -EPERM naming what differs. The rest of the public area is not compared here:
 * the report's binding already carries the registered EK's Name. */
int svsm_manifest_ek_match(const TPMT_PUBLIC *manifest_ek, const TPMT_PUBLIC *registered_ek);
