/* The host binding the vTPM holds (docs/protocol.md §5.9), served with every integrity quote as
 * the answer's `host_binding` member: `vmattest-host provision` wrote it into an NV index of this
 * vTPM before the VM started; the agent only reads it and passes it on. The agent checks none of
 * it (the verifier does, against the EK it registered): a blob it cannot parse is served as it is
 * and named in the log. As host_binding (agent.conf) asks: off, auto (served when the index is
 * there), required (no integrity quote without it) or fresh (asked of the host service for
 * each quote, over the verifier's nonce: agent/host_binding_fresh.h; no quote without it). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <tss2/tss2_tpm2_types.h>

#include "agent/config.h"
#include "agent/tpm.h"

struct host_binding_evidence {
        char mode[16];        /* agent.conf's host_binding: off, auto, required, fresh */
        TPM2_HANDLE index;    /* agent.conf's host_binding_index */
        char service[256];    /* fresh: agent.conf's host_service */
        unsigned timeout;     /* fresh: agent.conf's host_service_timeout, seconds */
        TPM2B_NAME ek_name;   /* fresh: the Name of the EK the agent registers, asked for */
        bool failing;         /* fresh: the last request failed (said once, and when it recovers) */
        bool absent_logged;   /* "no host binding" was said: said once, not at every quote */
        char host[2 * 66 + 1]; /* the host AK's Name (hex) in the binding last read; "" none */
};

/* At start: reads the index once and logs what it holds (the host AK's Name and the PCRs its
 * host quoted), or "no host binding" when the index is not defined. An error only with
 * host_binding = required and no index, or an index that cannot be read. Fresh mode: the
 * service is named in the log, not asked (the host may start its service after the guest);
 * `ek` is the EK the agent registers (the binding must name it). */
int host_binding_evidence_start(struct host_binding_evidence *hb, const struct agent_config *config, struct tpm *tpm,
                                const TPM2B_PUBLIC *ek);

/* Adds `host_binding` to an integrity quote's `results`, read from the vTPM now (after a
 * migration the host provisions the index again, and the next quote carries the new binding):
 *   {"source": "nv", "index": "0x01400100", "binding": "<base64 of the blob>"}
 *   {"source": "none", "reason": "NV index 0x01400100 is not defined"}
 *   {"source": "fresh", "binding": "<base64 of a version 2 blob over `nonce`>"}
 * Nothing with host_binding = off. An error (the quote is refused) with required and no
 * binding to serve, or fresh and no answer from the host service (the error names it). */
int host_binding_evidence_add(struct host_binding_evidence *hb, struct tpm *tpm, const char *nonce,
                              json_object *results);
