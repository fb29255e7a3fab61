/* The hand-over from `vmattest unlock` (initrd) to the runtime `vmattest serve` across
 * switch-root: this boot's identity, so that the verifier keeps polling the agent it registered
 * and released the key to (it checks PCR 16 against the payload key it first saw, and pins the
 * registered mTLS certificate).
 *
 * A 0600 file on /run's tmpfs, which never reaches a disk, owned by root or by the user `serve`
 * runs as (handover_user), in a directory that user owns (0700) so that it can remove the file:
 * `serve` removes it as soon as it has opened it. Text, so that a person can see what it is:
 *
 *   vmattest-handover 1                    (payload_key = software)
 *   agent_id <id>
 *   ak_handle 0x81xxxxxx
 *   <payload key: PKCS#8 PEM, RSA-2048>
 *   <mTLS key: PKCS#8 PEM>
 *   <mTLS certificate: PEM>
 *
 *   vmattest-handover 2                    (payload_key = tpm, the default)
 *   agent_id <id>
 *   ak_handle 0x81xxxxxx
 *   payload_key_parent <base64 TPM2B_PUBLIC: the null-hierarchy primary's template>
 *   payload_key_public <base64 TPM2B_PUBLIC>
 *   payload_key_private <base64 TPM2B_PRIVATE: encrypted by the TPM under that primary>
 *   <mTLS key: PKCS#8 PEM>
 *   <mTLS certificate: PEM>
 *
 * Version 2 carries no payload key in clear: its private blob loads only in this TPM, and only
 * in this boot (the null hierarchy's seed changes at every TPM reset). */
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <sys/types.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/agent_id.h"

#define HANDOVER_MAX (64 * 1024)

struct handover {
        char agent_id[AGENT_ID_MAX + 1];
        TPM2_HANDLE ak_handle;
        EVP_PKEY *payload_key; /* software (version 1); NULL in version 2 */
        bool payload_in_tpm;   /* version 2: the TPM key's blobs */
        TPM2B_PUBLIC payload_parent, payload_public;
        TPM2B_PRIVATE payload_private;
        EVP_PKEY *mtls_key;
        X509 *mtls_cert;
};

/* Makes `path`'s directory if missing (0700, `owner`'s) or checks that `owner` (when not root)
 * already owns it and nobody else may write to it; -EPERM naming it otherwise. With a
 * handover_user `unlock` calls it before it registers, so that a hand-over that cannot be made
 * fails before any key arrives. */
int handover_prepare(const char *path, uid_t owner);
/* Writes `h` (whose keys stay the caller's) to `path`, 0600, owned by `owner` (0: root), after
 * handover_prepare; atomically. */
int handover_write(const char *path, const struct handover *h, uid_t owner);
/* Opens `path` (not through a symlink), removes it, and parses it into `h` (owned:
 * handover_free). -ENOENT when there is none; a file that is not a regular file of this
 * process's effective user with mode 0600, or does not parse, is an error naming it and why. */
int handover_take(const char *path, struct handover *h);
/* The parser, on any bytes (also the fuzz harness's entry). */
int handover_parse(const void *data, size_t size, struct handover *h);
void handover_free(struct handover *h);
