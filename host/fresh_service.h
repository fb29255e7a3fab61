/* The fresh mode's answer to one request (docs/protocol.md §5.9): the rate limits, the EK pin,
 * then the host TPM's quote over SHA-256("vmattest-host-binding-fresh" || nonce || Name(EK))
 * as a version 2 binding. The host quotes whatever EK Name a guest sends: it cannot tell a
 * guest's own vTPM from another's, unless told which one this service speaks for (--ek-name,
 * one service per VM). What makes a lie useless is the verifier, which checks the binding
 * against the EK the agent REGISTERED and this poll's nonce: a binding asked for another EK
 * names that EK, and passes only for the agent that registered it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/ak.h"
#include "agent/tpm.h"
#include "host/rate_limit.h"
#include "lib/host_binding_frame.h"

struct fresh_service {
        struct tpm *host;       /* the host TPM, held open */
        struct ak ak;           /* the host AK, loaded once */
        uint32_t pcrs;          /* host PCRs quoted, sha256 bank */
        struct rate_limit rate;
        TPM2B_NAME pinned_ek;   /* size 0: any EK */
        unsigned long served, refused;
};

int fresh_service_open(struct fresh_service *svc, const char *tcti, TPM2_HANDLE ak_handle, uint32_t pcrs);
void fresh_service_close(struct fresh_service *svc);

/* The answer frame to the request body `body` (`size` bytes, its header already checked) from
 * `peer` (rate_limit.h), into `out` (HOST_FRAME_MAX bytes). *close_after: the stream cannot be
 * trusted to be in step any more (a malformed request). `peer_name` names the peer in logs. */
int fresh_service_answer(struct fresh_service *svc, const uint8_t *body, size_t size, uint64_t peer,
                         const char *peer_name, uint64_t now_ns, uint8_t *out, size_t *out_size, bool *close_after);
