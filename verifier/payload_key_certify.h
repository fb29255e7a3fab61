/* Whether the payload key an agent serves lives in its TPM (docs/protocol.md §5.10): the agent's
 * `pubkey_certify` is a TPM2_Certify by the registered AK of an object whose public area it
 * carries; the verifier wraps U and V only to a key that is certified so, unless the enrolment
 * allows a software payload key (--allow-software-payload-key). */
#pragma once

#include <json-c/json.h>
#include <tss2/tss2_tpm2_types.h>

/* `results` (an integrity quote's answer): 0 when its pubkey_certify shows `pubkey_pem` to be a
 * TPM-resident payload key (RSA-2048, decrypt only, fixedTPM, fixedParent,
 * sensitiveDataOrigin) certified by `ak` with `hash_alg` over SHA-256(pubkey_pem); -ENOENT when
 * there is no pubkey_certify (a software key, or an agent that does not certify); -EBADMSG or
 * -EPERM with a detail naming the check that failed. */
int payload_key_certify_check(json_object *results, const TPM2B_PUBLIC *ak, TPM2_ALG_ID hash_alg, const char *pubkey_pem);
