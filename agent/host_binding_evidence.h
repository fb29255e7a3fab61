/* The host binding the vTPM holds (docs/protocol.md §5.9), served with every integrity quote as
 * the answer's `host_binding` member: `vmattest-host provision` wrote it into an NV index of this
 * vTPM before the VM started; the agent only reads it and passes it on. The agent checks none of
 * it (the verifier does, against the EK it registered): a blob it cannot parse is served as it is
 * and named in the log. As host_binding (agent.conf) asks: off, auto (served when the index is
 * there) or required (no integrity quote without it). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <tss2/tss2_tpm2_types.h>

#include "agent/config.h"
#include "agent/tpm.h"

struct host_binding_evidence {
        char mode[16];        /* agent.conf's host_binding: off, auto, required */
        TPM2_HANDLE index;    /* agent.conf's host_binding_index */
        bool absent_logged;   /* "no host binding" was said: said once, not at every quote */
        char host[2 * 66 + 1]; /* the host AK's Name (hex) in the binding last read; "" none */
};

/* At start: reads the index once and logs what it holds (the host AK's Name and the PCRs its
 * host quoted), or "no host binding" when the index is not defined. An error only with
 * host_binding = required and no index, or an index that cannot be read. */
int host_binding_evidence_start(struct host_binding_evidence *hb, const struct agent_config *config, struct tpm *tpm);

/* Adds `host_binding` to an integrity quote's `results`, read from the vTPM now (after a
 * migration the host provisions the index again, and the next quote carries the new binding):
 *   {"source": "nv", "index": "0x01400100", "binding": "<base64 of the blob>"}
 *   {"source": "none", "reason": "NV index 0x01400100 is not defined"}
 * Nothing with host_binding = off. An error (the quote is refused) with required and no
 * binding to serve. */
int host_binding_evidence_add(struct host_binding_evidence *hb, struct tpm *tpm, json_object *results);
