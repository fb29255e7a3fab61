/* The hand-over from `vmattest unlock` (initrd) to the runtime `vmattest serve` across
 * switch-root: this boot's identity, so that the verifier keeps polling the agent it registered
 * and released the key to (it checks PCR 16 against the payload key it first saw, and pins the
 * registered mTLS certificate).
 *
 * A root-only (0600) file on /run's tmpfs, which never reaches a disk; `serve` removes it as soon
 * as it has opened it. Text, so that a person can see what it is:
 *
 *   vmattest-handover 1
 *   agent_id <id>
 *   ak_handle 0x81xxxxxx
 *   <payload key: PKCS#8 PEM, RSA-2048>
 *   <mTLS key: PKCS#8 PEM>
 *   <mTLS certificate: PEM>
 */
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/agent_id.h"

#define HANDOVER_MAX (64 * 1024)

struct handover {
        char agent_id[AGENT_ID_MAX + 1];
        TPM2_HANDLE ak_handle;
        EVP_PKEY *payload_key;
        EVP_PKEY *mtls_key;
        X509 *mtls_cert;
};

/* Writes `h` (whose keys stay the caller's) to `path`, 0600, atomically. */
int handover_write(const char *path, const struct handover *h);
/* Opens `path`, removes it, and parses it into `h` (owned: handover_free). -ENOENT when there is
 * none; a file that is not a root-only regular file, or does not parse, is an error naming it. */
int handover_take(const char *path, struct handover *h);
/* The parser, on any bytes (also the fuzz harness's entry). */
int handover_parse(const void *data, size_t size, struct handover *h);
void handover_free(struct handover *h);
