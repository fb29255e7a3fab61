/* The `host_binding` member of an integrity quote's answer (docs/protocol.md §5.9), judged
 * against the agent's host policy: where it came from (the vTPM's NV index, or none and why),
 * the blob decoded within its bound, and host_binding_check() against the EK the agent
 * registered. The host it names (its host AK's Name) is handed back, so that the poller can
 * follow an agent from one host to another. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "verifier/host_policy.h"

/* The host AK's Name in hex: nameAlg and a digest of up to 64 bytes. */
#define HOST_NAME_SIZE (2 * 66 + 1)

/* 0 when `results` (the agent's answer to this poll's `nonce`, `nonce_size` bytes) carries a
 * binding that passes `policy` for the registered `ek`: an NV one ("source": "nv", version 1)
 * unless the policy is fresh, or a fresh one ("source": "fresh", version 2) over `nonce`; or
 * carries none and the policy does not require one (*host is then "").
 * -EPERM or -EBADMSG with a detail that starts "host binding" and names the check
 * (host_binding_check.h), or says what the agent served instead of a binding. `host` (may be
 * NULL; HOST_NAME_SIZE bytes) gets the Name of the host AK in the blob whenever it parses, also
 * when a check then fails: the untrusted host is named. On 0 *host_class (`host_class` may be
 * NULL) is the policy's class the binding matched ("" unnamed, or no binding; a string of
 * `policy`), as host_binding_check() says. */
int host_evidence_check(const struct host_policy *policy, json_object *results, const TPM2B_PUBLIC *ek,
                        const uint8_t *nonce, size_t nonce_size, char *host, size_t host_size,
                        const char **host_class);
