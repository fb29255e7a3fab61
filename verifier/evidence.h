/* One poll's evidence, judged: the quote (quote_check), the PCRs against the tenant's
 * tpm_policy, the firmware event log against the measured-boot policy, and the new IMA entries
 * against the runtime policy, replayed on top of what earlier polls verified. */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "lib/measurement_log.h"
#include "verifier/store.h"
#include "verifier/tpm_policy.h"

struct runtime_policy;
struct mb_policy;
struct platform_policy;
struct platform_trust;
struct host_policy;

struct evidence_input {
        const TPM2B_PUBLIC *ak;                     /* the registered AK */
        const TPM2B_PUBLIC *ek;                     /* and EK */
        const struct tpm_policy *tpm_policy;
        const struct runtime_policy *runtime_policy; /* NULL: no IMA checks */
        const struct mb_policy *mb_policy;           /* NULL: no measured-boot checks */
        const struct platform_policy *platform;      /* NULL: no hardware report is required */
        const struct platform_trust *platform_trust;
        char *platform_facts;                        /* out, may be NULL: what the report showed */
        size_t platform_facts_size;
        /* NULL: no host binding is checked (docs/protocol.md §5.9) */
        const struct host_policy *host_policy;
        char *host;                                  /* out, may be NULL: the host AK's Name (hex) the
                                                      * binding named, "" none; set also when it fails */
        size_t host_size;
        const char **host_class;                     /* out, may be NULL: the host policy's class the
                                                      * binding matched ("" unnamed or none) */
        const char *nonce;
        size_t nonce_size;                           /* 0: strlen(nonce) */
        /* push model (docs/protocol.md §4.2): the evidence carries no payload key, so `pubkey` is
         * not read and PCR 16 neither required nor checked; pubkey_pem must then be NULL */
        bool no_payload_key;
        uint32_t mask;                               /* asked for */
        uint64_t ima_entry;                          /* asked for */
        /* PCRs the first boot pinned for the boots after it (docs/protocol.md §5.6), and that
         * boot's TPM reset count: its own quotes are not checked against those pins (it ran the
         * image's initrd, attested under the policies before the pin); 0 and -1: none */
        uint32_t first_boot_pins;
        int64_t first_boot_reset;
        struct measurement_summary *measurements;    /* out, may be NULL: what PCR 15's log records
                                                      * (filled when the mask has PCR 15) */
        char **pubkey_pem;                           /* out, may be NULL: the payload key the quote
                                                      * vouched for (PCR 16), malloc'ed */
        char *pubkey_uncertified;                    /* out with pubkey_pem: "" when the AK certifies
                                                      * that key as TPM-resident (§5.9), else why not */
        size_t pubkey_uncertified_size;
};

/* The PCRs to ask for: the tpm_policy's, 0-9 for measured boot and boot_aggregate, 10 for IMA,
 * 15 (vmattest's measurement log) when a payload is to be released. */
uint32_t evidence_mask(const struct tpm_policy *tpm_policy, bool runtime_policy, bool mb_policy, bool payload);

/* Checks the `results` of GET /quotes/integrity. On success `state` advances (clock, IMA
 * replay, boot time). -EPERM/-EBADMSG with a detail naming what failed: the check, the PCR,
 * the log entry, its path and digest. -EAGAIN: the quote is of a new boot but the agent served
 * its IMA list from an entry other than 0; nothing was verified and the state is set to ask
 * again from entry 0 (the poll neither passes nor fails). */
int evidence_check(const struct evidence_input *in, json_object *results, struct attestation *state);
