/* The AMD SEV-SNP ATTESTATION_REPORT (SEV Secure Nested Paging Firmware ABI Specification,
 * "ATTESTATION_REPORT Structure"): 1184 bytes, little-endian, versions 2, 3 and 5. Parsing
 * trusts nothing: it reads every field by name through lib/reader.h and refuses reserved bits
 * that are set. What the fields mean for trust is verifier/snp_verify.c's business; the
 * signature covers bytes 0x000-0x29F (SNP_REPORT_SIGNED_SIZE). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNP_REPORT_SIZE 1184
#define SNP_REPORT_SIGNED_SIZE 0x2A0
#define SNP_ECDSA_COMPONENT_SIZE 72 /* r and s: P-384 integers, little-endian, zero-padded */

/* SIGNATURE_ALGO */
#define SNP_SIGNATURE_ECDSA_P384_SHA384 1

/* GUEST_POLICY bits (ABI spec, "GUEST_POLICY Structure") */
#define SNP_POLICY_SMT (UINT64_C(1) << 16)
#define SNP_POLICY_RESERVED_ONE (UINT64_C(1) << 17)
#define SNP_POLICY_MIGRATE_MA (UINT64_C(1) << 18)
#define SNP_POLICY_DEBUG (UINT64_C(1) << 19)
/* bits 63:26 are reserved, must be zero */
#define SNP_POLICY_KNOWN_MASK ((UINT64_C(1) << 26) - 1)

/* SIGNER_INFO bits 4:2: which key signed the report */
enum snp_signing_key {
        SNP_SIGNING_KEY_VCEK = 0,
        SNP_SIGNING_KEY_VLEK = 1,
        SNP_SIGNING_KEY_NONE = 7,
};

/* The processor generation decides how a TCB_VERSION's bytes are laid out. */
enum snp_product {
        SNP_PRODUCT_UNKNOWN = 0,
        SNP_PRODUCT_MILAN,
        SNP_PRODUCT_GENOA,
        SNP_PRODUCT_TURIN,
};

/* One TCB_VERSION, decomposed. Milan and Genoa: byte 0 boot loader, 1 TEE, 6 SNP, 7 microcode
 * (2-5 reserved). Turin: byte 0 FMC, 1 boot loader, 2 TEE, 3 SNP, 7 microcode (4-6 reserved). */
struct snp_tcb {
        uint64_t raw;
        bool has_fmc;
        uint8_t fmc;
        uint8_t bl;
        uint8_t tee;
        uint8_t snp;
        uint8_t ucode;
};

struct snp_report {
        uint32_t version;
        uint32_t guest_svn;
        uint64_t policy;
        uint8_t family_id[16];
        uint8_t image_id[16];
        uint32_t vmpl;
        uint32_t signature_algo;
        uint64_t current_tcb;
        uint64_t platform_info;
        uint32_t signer_info;
        enum snp_signing_key signing_key; /* SIGNER_INFO bits 4:2 */
        bool mask_chip_id;                /* SIGNER_INFO bit 1: CHIP_ID is zeros */
        bool author_key_en;               /* SIGNER_INFO bit 0 */
        uint8_t report_data[64];
        uint8_t measurement[48];
        uint8_t host_data[32];
        uint8_t id_key_digest[48];
        uint8_t author_key_digest[48];
        uint8_t report_id[32];
        uint8_t report_id_ma[32];
        uint64_t reported_tcb;
        bool has_cpuid; /* version 3 and later */
        uint8_t cpuid_fam_id;
        uint8_t cpuid_mod_id;
        uint8_t cpuid_step;
        uint8_t chip_id[64];
        uint64_t committed_tcb;
        uint8_t current_build, current_minor, current_major;
        uint8_t committed_build, committed_minor, committed_major;
        uint64_t launch_tcb;
        bool has_mit_vectors; /* version 5 and later */
        uint64_t launch_mit_vector;
        uint64_t current_mit_vector;
        uint8_t signature_r[SNP_ECDSA_COMPONENT_SIZE];
        uint8_t signature_s[SNP_ECDSA_COMPONENT_SIZE];
        /* the report as received: its first SNP_REPORT_SIGNED_SIZE bytes are what was signed */
        uint8_t bytes[SNP_REPORT_SIZE];
};

/* 0, or -EBADMSG with a detail naming the field ("SNP report: version 4 is not supported (2, 3
 * or 5)", "SNP report: reserved bytes 0x208-0x29f are not zero"). */
int snp_report_parse(const uint8_t *data, size_t size, struct snp_report *report);

/* The TCB_VERSION `raw` laid out as `product` lays it out. */
void snp_tcb_decode(uint64_t raw, enum snp_product product, struct snp_tcb *tcb);

/* The product of CPUID_FAM_ID/CPUID_MOD_ID (family 19h model 0xh Milan, 1xh Genoa; family 1Ah
 * Turin), SNP_PRODUCT_UNKNOWN for anything else. */
enum snp_product snp_product_of_cpuid(uint8_t family, uint8_t model);

const char *snp_product_name(enum snp_product product);
