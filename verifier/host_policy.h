/* The tenant's host policy (docs/protocol.md §5.9, vmattest-verifier(8) "Host policy"): which
 * hosts' TPMs may vouch for an agent's vTPM, what those hosts must have booted, and whether an
 * agent must serve a host binding at all. A JSON object given with `add --host-policy` or
 * `group add --host-policy`, stored as given, parsed here into the struct host_policy that
 * host_binding_check() takes:
 *
 *   {"trusted_host_aks_dir": "/etc/vmattest/host-aks",      PEM public keys, *.pem
 *    "trusted_host_aks": ["-----BEGIN PUBLIC KEY-----..."], and/or inline
 *    "bank": "sha256",                                      the bank of the PCRs (default)
 *    "host_classes": [                                      at most HOST_CLASSES_MAX kinds
 *        {"name": "gen1", "pcrs": {"0": "<hex>", ...}},     of host: a binding passes when
 *        {"name": "gen2", "pcrs": {"0": "<hex>", ...}}],    its PCRs satisfy one of them whole
 *    "required": true,                                      default true
 *    "fresh": false}                                        default false; true: only a
 *                                                           fresh binding over this poll's
 *                                                           nonce passes (required too)
 *
 * The older "pcrs": {"0": "<hex>", ...} (host PCRs 0-23), in place of host_classes, is one
 * unnamed class; neither: no host PCR is fixed. A class name is 1-HOST_CLASS_NAME_MAX letters,
 * digits, '.', '_' or '-', given once; a class fixes at least one PCR. At least one trusted host
 * AK; a typo (an unknown member) is an error, never a check silently not made. */
#pragma once

#include <stddef.h>

#include "verifier/host_binding_check.h"

#define HOST_POLICY_TEXT_MAX (256 * 1024)

/* `text` (at most HOST_POLICY_TEXT_MAX bytes): the keys of trusted_host_aks_dir are read now.
 * -EBADMSG with a detail starting "host policy: " naming the member; an unreadable AK file or
 * directory as host_policy_load_aks() says. */
int host_policy_parse(const char *text, size_t size, struct host_policy **out);
void host_policy_free(struct host_policy *policy);

static inline void host_policy_freep(struct host_policy **policy) {
        host_policy_free(*policy);
}
