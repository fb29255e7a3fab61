/* Certificate chains of platform evidence (an SNP VCEK, a TDX PCK certificate, a cloud's AK
 * certificate): verified against roots the verifier pins, at a time the caller may pin, so that
 * a test over real evidence does not start failing the day a real certificate expires. */
#pragma once

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CERT_CHAIN_MAX 16
#define CERT_DER_MAX 16384

struct cert_chain_check {
        STACK_OF(X509) *roots;         /* trust anchors; nothing else is trusted */
        STACK_OF(X509) *intermediates; /* may be NULL; untrusted, only used to build the path */
        time_t at;                     /* 0: now */
        const char *leaf_name;         /* names the leaf in errors: "VCEK", "PCK certificate" */
        /* AMD's VCEK and VLEK certificates carry no Authority Key Identifier, which the strict
         * RFC 5280 checks refuse: true tolerates that one omission, on the leaf only. */
        bool leaf_without_authority_key_id;
        /* When not NULL, set on success to the root the chain ended at (one of `roots`,
         * borrowed: valid while `roots` is), so that the caller knows which anchor vouched. */
        X509 **anchor;
};

/* 0 when `leaf` chains through `intermediates` to one of `roots` and every certificate on the
 * path is valid at `at`; -EACCES otherwise, the detail naming the leaf, the depth and OpenSSL's
 * reason. Revocation is not checked here: CRLs belong to the caller's policy. */
int cert_chain_verify(X509 *leaf, const struct cert_chain_check *check);

/* Every certificate of a PEM text, at most CERT_CHAIN_MAX, in order. -EBADMSG when there is
 * none, when a PEM block is not a certificate, or when there are more; `what` names the source
 * in the detail. */
int cert_pem_parse_all(const char *what, const void *pem, size_t size, STACK_OF(X509) **certs);
int cert_pem_load_file(const char *path, STACK_OF(X509) **certs);

/* One DER certificate of at most CERT_DER_MAX bytes, nothing after it. */
int cert_der_parse(const char *what, const uint8_t *der, size_t size, X509 **cert);

/* SHA-256 of the certificate's DER: how a root is pinned in code. */
int cert_sha256(X509 *cert, uint8_t digest[32]);

static inline void cert_stack_freep(STACK_OF(X509) **certs) {
        if (*certs)
                sk_X509_pop_free(*certs, X509_free);
}
