/* vmattest's measured-boot policy: what the tenant accepts in the UEFI event log
 * (docs/protocol.md §8). Keylime's measured-boot reference state is a Python policy engine; this
 * one is declarative:
 *
 *   {
 *     "version": 1,                              required, 1
 *     "bank": "sha256",                          required: sha256, sha384 or sha512 (the quote's
 *                                                hash_alg; never sha1, docs/protocol.md §2)
 *     "pcrs": { "4": ["hex", ...], ... },        optional: acceptable final values of a PCR,
 *                                                any one of them
 *     "events": [                                optional: digests each PCR may be extended
 *       { "pcr": 4,                              with (below)
 *         "type": "EV_EFI_BOOT_SERVICES_APPLICATION",
 *         "digests": ["hex", ...] },
 *       { "pcr": 4, "type": "EV_EFI_ACTION", "digests": [...] },
 *       { "pcr": 4, "type": "EV_SEPARATOR", "digests": [...] }
 *     ],
 *     "secure_boot": "enabled"                   optional: "enabled", "disabled" (also met when
 *   }                                            the firmware measured no SecureBoot variable)
 *                                                or "any" (the default)
 *
 * The TPM signs PCR values; the log is believed only in so far as it replays to them, and then
 * only its digests: an event's type and data are covered by no digest. So `events` rules select
 * by PCR, never by type. For each PCR some rule names, every event that extends it (all but
 * EV_NO_ACTION, which the replay skips too) must have its digest in `bank` among the digests of
 * that PCR's rules together, and each rule must allow at least one of those events (the kernel
 * must be there). A rule's type is a label for the tenant and for messages: a PCR's rules
 * together list every digest the firmware extends it with (in an OVMF boot, PCR 4 holds
 * EV_EFI_ACTION "Calling EFI Application from Boot Option", the kernel image as
 * EV_EFI_BOOT_SERVICES_APPLICATION and EV_SEPARATOR; PCR 9 the command line and the initrd as
 * EV_EVENT_TAG), in as many rules as the tenant likes. Pinning a PCR's final value in `pcrs`
 * constrains all of its events as well. The Secure Boot state is read from the PCR 7 events
 * that hold the SecureBoot variable under any type, each one's data checked against its
 * digests (eventlog_secure_boot).
 *
 * PCRs are 0-9, the ones the firmware's log accounts for in full (docs/protocol.md §8): later PCRs
 * are extended after ExitBootServices by software that does not write to this log. Digests are hex
 * (either case) of exactly the bank's digest size. An unknown member, a wrong type, bad hex, a PCR
 * outside 0-9, an unknown or EV_NO_ACTION event type, an empty digest list or a second rule for one
 * PCR and type is -EBADMSG naming the member (`pcrs.4[1]`, `events[0].type`, ...). */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "cleanup.h"
#include "pcr_values.h"

#define MB_POLICY_TEXT_MAX (4u << 20)  /* bytes of JSON */
#define MB_POLICY_PCR_COUNT 10         /* PCRs 0-9 */
#define MB_POLICY_MAX_VALUES 256       /* acceptable values of one PCR */
#define MB_POLICY_MAX_RULES 64         /* entries of `events` */
#define MB_POLICY_MAX_DIGESTS 4096     /* digests of one rule */

enum mb_policy_secure_boot {
        MB_POLICY_SECURE_BOOT_ANY,
        MB_POLICY_SECURE_BOOT_ENABLED,
        MB_POLICY_SECURE_BOOT_DISABLED,
};

struct mb_policy_digests {
        size_t count;
        TPM2B_DIGEST *digests; /* each hashalg_size(bank) bytes */
};

struct mb_policy_rule {
        uint32_t pcr;
        uint32_t type; /* a label for messages: it selects no event */
        struct mb_policy_digests allowed;
};

struct mb_policy {
        TPM2_ALG_ID bank;
        uint32_t pcr_mask;                                     /* PCRs `pcrs` constrains */
        struct mb_policy_digests pcrs[MB_POLICY_PCR_COUNT];
        size_t rule_count;
        struct mb_policy_rule *rules;
        enum mb_policy_secure_boot secure_boot;
};

/* `text` is one JSON object (trailing white space allowed), at most MB_POLICY_TEXT_MAX bytes. */
int mb_policy_parse(const char *text, size_t size, struct mb_policy **out);
/* The same, from a parsed object (a policy carried inside a larger request). */
int mb_policy_from_json(json_object *obj, struct mb_policy **out);
void mb_policy_free(struct mb_policy *policy);
DEFINE_POINTER_CLEANUP(struct mb_policy, mb_policy_free)

/* Checks the UEFI event log `log` against the quoted PCRs, then against the policy:
 * - quoted->bank must be the policy's bank (-EPERM otherwise);
 * - the log must replay, in that bank, to the quoted value of every PCR 0-9 the quote covers:
 *   -EBADMSG naming the PCR, the replayed and the quoted values (or the log's own defect);
 * - every PCR the policy names (and PCR 7 when secure_boot is not "any") must be quoted, every
 *   `pcrs` value and `events` rule must hold, and the Secure Boot state must be the required
 *   one: -EPERM naming the PCR, the event number and the type it is logged under, the digest
 *   found and what the policy allows, the rule no event met, or the Secure Boot state;
 * - -EBADMSG when PCR 7's events contradict themselves (data that is not its digests', two
 *   SecureBoot events that disagree), naming the event, PCR, type and bank.
 * -EINVAL when a quoted value is not of the bank's digest size. */
int mb_policy_check(const struct mb_policy *policy, const uint8_t *log, size_t size, const struct pcr_values *quoted);
