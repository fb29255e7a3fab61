/* hcl_forge: Azure's paravisor (HCL) report as the paravisor writes it to the vTPM's NV index
 * 0x01400001 (layout in verifier/hcl_report.h), its SEV-SNP report signed with the fake keys
 * of snp_forge.h: for TEST DOUBLES only (tests/tools/hcl-double.c, unit tests). */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/tools/forge/snp_forge.h"

/* The report, zero-padded to `nv_size` bytes (the index's size), into *out (malloc'ed): the
 * runtime data names `ak` (an RSA key) as HCLAkPub and holds `user_data` (64 bytes; NULL: no
 * user-data member), and the SNP report's REPORT_DATA is its SHA-256 then 32 zeros. 0, or -1
 * with a message on stderr. */
int hcl_forge_report(const struct snp_forge *forge, const struct snp_forge_fields *fields, EVP_PKEY *ak,
                     const uint8_t *user_data, size_t nv_size, uint8_t **out);
