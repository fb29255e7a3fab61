/* The verifier's checks of a host binding (docs/protocol.md §5.9): that the host TPM which
 * quoted is one the tenant trusts, that its quote is genuine and names the vTPM this agent
 * registered, and that the host booted what the policy allows. The poller calls it for each
 * integrity quote of an agent with a host policy (verifier/host_evidence.h). */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/pcr_values.h"

#define HOST_AK_STORE_FILES_MAX 256
#define HOST_CLASSES_MAX 32
#define HOST_CLASS_NAME_MAX 64

/* One kind of host the provider runs (a hardware generation, a firmware version): the host PCR
 * values all its hosts boot to. */
struct host_class {
        char name[HOST_CLASS_NAME_MAX + 1]; /* "": the one unnamed class of a policy's top-level "pcrs" */
        struct pcr_values pcrs;             /* mask says which PCRs the class fixes */
};

struct host_policy {
        EVP_PKEY **trusted_aks; /* every PEM public key of the host AK store */
        size_t trusted_ak_count;
        /* a binding passes when its quoted PCRs satisfy one class entirely, never a mix of
         * classes; none (0): the policy fixes no host PCR */
        struct host_class *classes;
        size_t class_count;
        bool required;          /* an agent without a binding fails */
        bool fresh;             /* only a fresh binding (version 2, over this poll's nonce) passes */
};

/* Loads every *.pem of `dir` (one or more "-----BEGIN PUBLIC KEY-----" blocks each, what
 * `vmattest-host identity` prints) into policy->trusted_aks. A missing directory trusts no
 * host; an unreadable or malformed file is an error naming it. */
int host_policy_load_aks(const char *dir, struct host_policy *policy);
/* Adds every "-----BEGIN PUBLIC KEY-----" block of `pem` (`size` bytes, at least one block) to
 * policy->trusted_aks; errors name `what` and the key. */
int host_policy_add_pem(struct host_policy *policy, const char *pem, size_t size, const char *what);
void host_policy_done(struct host_policy *policy);

/* Checks the binding `blob` (version 1 as read from the vTPM's NV index, or version 2 as the
 * host service made it for this poll) for the agent whose registered EK is `registered_ek`
 * and for this poll's `nonce` (`nonce_size` bytes; NULL when no nonce was asked: a version 2
 * blob then fails), in this order, the first failure named in the detail:
 *   "malformed"      the blob does not parse (lib/host_binding.h);
 *   "requires a fresh one"  the policy is fresh and the blob is a version 1 (NV) binding;
 *   "host AK"        the quoting key is none of the policy's trusted host AKs;
 *   "signature"      the quote does not verify under that AK;
 *   "pcrDigest"      the PCR values in the blob are not the ones the quote covers;
 *   "qualifyingData" the quote is not over SHA-256(label || Name(registered EK)), or for
 *                    version 2 SHA-256(fresh label || the nonce it names || Name(registered
 *                    EK)): a binding for another vTPM (copied from another VM);
 *   "stale"          version 2: a genuine fresh binding for this vTPM, over another nonce
 *                    than this poll's: an earlier answer replayed;
 *   "host PCR N"     a PCR the policy fixes is not quoted, or has another value; with
 *                    named classes "no host class matches", naming the closest class (the
 *                    most of its PCRs as quoted; the first in the policy of those as close)
 *                    and its first PCR that differs.
 * Returns 0, -EBADMSG (malformed) or -EPERM (a check failed); on 0, *host_class (`host_class`
 * may be NULL) is the name of the class the binding matched, a string of `policy`: "" for the
 * unnamed class or a policy without classes. An agent without a binding (`blob` NULL or `size`
 * 0): -EPERM "required" when the policy requires one, else -ENOENT (nothing to check, and
 * nothing learnt about the host). */
int host_binding_check(const uint8_t *blob, size_t size, const TPM2B_PUBLIC *registered_ek, const uint8_t *nonce,
                       size_t nonce_size, const struct host_policy *policy, const char **host_class);
