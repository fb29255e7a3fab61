/* Verifies an AMD SEV-SNP attestation report (verifier/snp_report.h) in two steps, each failure
 * a named reason:
 *  - snp_verify_endorsement(): what AMD vouches for. The signing certificate (VCEK, or VLEK when
 *    the report's signer_info says so) chains through an ASK/ASVK to an AMD root key (ARK) that
 *    is pinned here by SHA-256 fingerprint (Milan, Genoa, Turin), or to a root the tenant named
 *    explicitly (`extra_roots`, for test doubles); its AMD extensions equal the report (hwID =
 *    chip_id, the SPLs = reported_tcb); the report's ECDSA P-384 SHA-384 signature over bytes
 *    0x000-0x29F verifies with its key. The product (hence the TCB layout) is the certificate's
 *    productName, which AMD signed, and must be the anchoring ARK's.
 *  - snp_policy_check(): what the tenant requires of the signed fields (measurement, host_data,
 *    report_data, guest policy bits, TCB, VMPL, guest SVN).
 * snp_verify() does both. Nothing unsigned selects what is checked: the certificate table's
 * order and GUIDs only say where certificates are. */
#pragma once

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "verifier/snp_report.h"

/* Where `make install` puts AMD's ASK/ARK bundles, so that the verifier has them offline. */
#define SNP_AMD_CERTS_DIR "/usr/share/vmattest/amd"

struct snp_trust {
        /* AMD's bundles as loaded (snp_amd_certs_load_dir): untrusted; a self-signed certificate
         * among them is a root only if its fingerprint is one pinned in snp_verify.c, the others
         * (ASK, ASVK) only help build the path */
        STACK_OF(X509) *amd_certs;
        /* the tenant's explicit extra roots (test doubles signing with test keys): trusted as
         * given; NULL in production */
        STACK_OF(X509) *extra_roots;
        time_t at; /* 0: now */
};

struct snp_min_tcb {
        uint8_t bl, tee, snp, ucode;
        uint8_t fmc; /* Turin only */
};

struct snp_policy {
        const uint8_t (*measurements)[48]; /* the allowed launch measurements; none allows nothing */
        size_t measurement_count;
        bool check_host_data;
        uint8_t host_data[32];
        const uint8_t *report_data; /* 64 bytes the caller computed (nonce, AK); required */
        bool allow_debug;           /* guest policy bit 19 */
        bool allow_migration_agent; /* guest policy bit 18 */
        bool allow_smt;             /* guest policy bit 16 */
        /* each component of reported_tcb, current_tcb and committed_tcb at least this */
        struct snp_min_tcb min_tcb;
        uint8_t allowed_vmpls; /* bit n set: VMPL n allowed (0-3) */
        uint32_t min_guest_svn;
};

struct snp_verified {
        enum snp_product product;
        enum snp_signing_key signing_key;
        struct snp_tcb reported_tcb;
        bool pinned_root; /* false: the chain ended at one of the tenant's extra_roots */
};

/* `cert` is the VCEK or VLEK (from the certificate table or fetched); `intermediates` (may be
 * NULL) are untrusted certificates the host gave along, such as the table's ASK. 0, -EACCES
 * (a check failed), -EBADMSG (a certificate or the report is malformed) or -ENOMEM. */
int snp_verify_endorsement(const struct snp_report *report, X509 *cert, STACK_OF(X509) *intermediates,
                           const struct snp_trust *trust, struct snp_verified *verified);

/* 0 or -EACCES naming the field and the reason; `product` decodes the TCBs. */
int snp_policy_check(const struct snp_report *report, enum snp_product product, const struct snp_policy *policy);

int snp_verify(const struct snp_report *report, X509 *cert, STACK_OF(X509) *intermediates,
               const struct snp_trust *trust, const struct snp_policy *policy, struct snp_verified *verified);

/* Every certificate of every *.pem file in `dir` (at most CERT_CHAIN_MAX in all). */
int snp_amd_certs_load_dir(const char *dir, STACK_OF(X509) **certs);

/* The product whose ARK has this SHA-256 fingerprint, SNP_PRODUCT_UNKNOWN if none is pinned. */
enum snp_product snp_pinned_ark_product(const uint8_t fingerprint[32]);
