/* snp_forge: SEV-SNP attestation reports and AMD-shaped certificates made with the published
 * test keys of tests/fixtures/platforms/snp/fake-keys, for TEST DOUBLES only (tests/tools/
 * tsm-double.c, tests/tools/hcl-double.c, unit tests). Nothing made here is AMD's: a verifier
 * accepts it only with the fake ARK among its explicit test roots (platform_test_roots). */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define SNP_FORGE_REPORT_SIZE 0x4a0
#define SNP_FORGE_SIGNED_SIZE 0x2a0

struct snp_forge {
        uint8_t chip_id[64]; /* the VCEK's hwID and every report's CHIP_ID */
        uint64_t tcb;        /* the VCEK's SPLs and every report's TCBs */
        EVP_PKEY *vcek_key;
        X509 *ark, *ask, *vcek; /* ARK-Milan self-signed RSA-PSS, the ASK by it, the VCEK by the ASK */
};

/* What a report says besides REPORT_DATA. */
struct snp_forge_fields {
        uint8_t measurement[48];
        uint64_t policy;
        uint32_t vmpl;
        uint8_t report_id[32];
};

/* Loads the fake keys from `keys_dir` and makes the chain. 0, or -1 with a message on stderr. */
int snp_forge_init(struct snp_forge *forge, const char *keys_dir, const uint8_t chip_id[64], uint64_t tcb);
void snp_forge_done(struct snp_forge *forge);

/* The GHCB certificate table (VCEK, ASK, ARK; an all-zero entry ends it), malloc'ed. */
int snp_forge_cert_table(const struct snp_forge *forge, uint8_t **table, size_t *size);

/* A version 2 ATTESTATION_REPORT (SEV-SNP ABI specification, Table 22) over `report_data`,
 * signed ECDSA P-384 SHA-384 by the fake VCEK over bytes 0x000-0x29F. */
int snp_forge_report(const struct snp_forge *forge, const struct snp_forge_fields *fields,
                     const uint8_t report_data[64], uint8_t report[SNP_FORGE_REPORT_SIZE]);
