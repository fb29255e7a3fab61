/* Writing the host binding into the vTPM's NV index, before the VM starts (when the vTPM's
 * owner authorization is still swtpm_setup's empty one). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/tpm.h"

/* Defines `index` (replacing an index there already: a binding of an earlier host boot) with
 * exactly `size` bytes, writes the blob and write-locks it. The index is owner-defined with
 * OWNERWRITE, WRITEDEFINE, AUTHREAD and OWNERREAD, an empty authValue and NO_DA:
 *   - the guest reads it with the index's own empty authorization (tpm2_nvread -C <index>)
 *     or the owner's, without any password;
 *   - TPM2_NV_WriteLock with WRITEDEFINE locks it until it is deleted: TPM2_NV_Write fails
 *     with TPM_RC_NV_LOCKED whatever authorization the guest has (its owner auth is empty
 *     too, so OWNERWRITE alone would not keep it out).
 * A platform-created index with PPWRITE was not chosen: a guest firmware (OVMF) disables the
 * platform hierarchy at boot, and with phEnableNV clear a platform index cannot even be read.
 * What the guest's owner can still do is delete the index: the binding is then absent, never
 * forged (its bytes are signed by the host AK and name this vTPM's EK), and a verifier that
 * requires one fails the agent. */
int binding_nv_write(struct tpm *vtpm, TPM2_HANDLE index, const uint8_t *blob, size_t size);
