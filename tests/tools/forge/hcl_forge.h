/* hcl_forge: Azure's paravisor (HCL) report as the paravisor writes it to the vTPM's NV index
 * 0x01400001 (layout in verifier/hcl_report.h), its SEV-SNP report signed with the fake keys
 * of snp_forge.h, or its TDREPORT shaped as a TD's (its MAC zeros: only a CPU could make it),
 * for TEST DOUBLES only (tests/tools/hcl-double.c, tests/tools/imds-double.c, unit tests). */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/tools/forge/snp_forge.h"
#include "verifier/tdx_quote.h"

#define HCL_FORGE_TDREPORT_SIZE 1024
#define HCL_FORGE_TDREPORT_OFFSET 32 /* in the HCL report */

/* The report, zero-padded to `nv_size` bytes (the index's size), into *out (malloc'ed): the
 * runtime data names `ak` (an RSA key) as HCLAkPub and holds `user_data` (64 bytes; NULL: no
 * user-data member), and the SNP report's REPORT_DATA is its SHA-256 then 32 zeros. 0, or -1
 * with a message on stderr. */
int hcl_forge_report(const struct snp_forge *forge, const struct snp_forge_fields *fields, EVP_PKEY *ak,
                     const uint8_t *user_data, size_t nv_size, uint8_t **out);

/* What a TD's TDREPORT says of it (its TDINFO; REPORTDATA is the runtime data's hash). */
struct hcl_forge_td {
        uint8_t td_attributes[8];
        uint8_t mrtd[48];
        uint8_t rtmr[4][48];
};

/* The same report on Azure TDX: a TDREPORT (REPORTTYPE.TYPE 0x81, REPORTDATA SHA-256 of the
 * runtime data then 32 zeros, `td`'s TDINFO) in the hardware region, report_type 4. */
int hcl_forge_tdx_report(const struct hcl_forge_td *td, EVP_PKEY *ak, const uint8_t *user_data, size_t nv_size,
                         uint8_t **out);

/* The TD quote body Intel's quoting enclave makes of `tdreport` (as Azure's IMDS has it do):
 * TDATTRIBUTES, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3 and REPORTDATA copied, the
 * TEE fields a test SEAM module's. */
void hcl_forge_td_quote_body(const uint8_t tdreport[HCL_FORGE_TDREPORT_SIZE], struct tdx_quote_body *body);
