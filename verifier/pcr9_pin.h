/* PCR 9 pinned by the agent's first boot (vmattest extension, docs/protocol.md §5.6):
 * POST /v2.N/agents/{id}/pcr9 on the registrar's TLS port. The first boot rebuilt the initrd
 * with the instance's own volumes in it and predicted the PCR 9 its next boots will have; the
 * verifier makes that value the agent's tpm_policy for PCR 9, so that a later boot with another
 * initrd (or command line) is not released the key. Checked as an escrow is (verifier/escrow.h):
 * the agent's active registered mTLS certificate as client certificate, a good quote since its
 * activation, enrolled by a group with --pin-first-boot-initrd, and only while no boot received its escrowed key, from the
 * boot that escrowed it. */
#pragma once

#include <event2/http.h>
#include <json-c/json.h>
#include <tss2/tss2_tpm2_types.h>

#include "verifier/registrar.h"

#define PCR9_PIN_BANKS_MAX 3 /* sha256, sha384, sha512: the banks a verifier quotes */

/* The body {"pcr9": {"sha256": "<hex>", "sha384": ..., "sha512": ...}}: one to three banks
 * the verifier accepts, each a digest of its size in hex, each once; other top-level members
 * are ignored (Keylime's convention). `hex` (2 * 64 + 1 bytes) gets `bank`'s value in
 * lower-case hex. -EBADMSG with a detail naming the member for anything else, or when `bank`
 * has no value. */
int pcr9_pin_body_parse(json_object *body, TPM2_ALG_ID bank, char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1]);
/* The route's handler (the registrar's dispatch has checked the path and the method). */
void pcr9_pin_handle(struct registrar *r, struct evhttp_request *req, const char *agent_id);
