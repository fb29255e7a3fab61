/* vmattest-verifier's measured-boot policy (lib/mb_policy.h) made from what a reference boot
 * measured: its UEFI event log, and files that boot loads.
 *
 * From the log, for each PCR of a chosen set (default 4, 7, 8 and 9: the boot applications and
 * the kernel, the Secure Boot configuration, a boot loader's commands, the command line and the
 * initrd), one `events` rule per event type the log extends that PCR with, listing the digests
 * of those events in log order; a PCR of the set the log never extends has its reset value
 * pinned in `pcrs` (nothing may extend it then); the Secure Boot state the log measured becomes
 * `secure_boot`. Rules are labelled with the types the firmware logged; mb_policy selects by PCR
 * alone, so the policy holds whatever labels a later boot's log shows.
 *
 * From files, the digests each extends a PCR with when booted by UEFI firmware and the kernel's
 * EFI stub (the OVMF boot of tests/fixtures/boot):
 *   kernel   PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION: its Authenticode digest (authenticode.h),
 *            with the two other events of PCR 4 every such boot has: EV_EFI_ACTION "Calling EFI
 *            Application from Boot Option" and EV_SEPARATOR (four zero bytes);
 *   initrd   PCR 9 EV_EVENT_TAG: the file's digest;
 *   cmdline  PCR 9 EV_EVENT_TAG: the digest of the load options: the text as UTF-16LE with a
 *            final NUL character (OVMF's loader for qemu -kernel adds " initrd=initrd" when
 *            qemu has -initrd: give it in the text).
 * With a log as well, file digests are added to the log's rules (a new kernel or initrd allowed
 * next to the reference's). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/mb_policy.h"

#define MB_REFERENCE_DEFAULT_PCRS ((1u << 4) | (1u << 7) | (1u << 8) | (1u << 9))

enum mb_reference_secure_boot {
        MB_REFERENCE_SECURE_BOOT_UNSET, /* no member: mb_policy's "any" */
        MB_REFERENCE_SECURE_BOOT_ENABLED,
        MB_REFERENCE_SECURE_BOOT_DISABLED,
        MB_REFERENCE_SECURE_BOOT_ANY,
};

struct mb_reference_rule {
        uint32_t pcr, type;
        size_t count;
        uint8_t (*digests)[TPM2_SHA512_DIGEST_SIZE];
};

struct mb_reference {
        TPM2_ALG_ID bank;
        size_t rule_count;
        struct mb_reference_rule rules[MB_POLICY_MAX_RULES];
        uint32_t pinned_mask; /* PCRs pinned at their reset value */
        enum mb_reference_secure_boot secure_boot;
};

void mb_reference_init(struct mb_reference *ref, TPM2_ALG_ID bank);
void mb_reference_done(struct mb_reference *ref);

/* Adds `digest` (of the bank's size) to the rule for `pcr` and `type`, made when missing:
 * 1, or 0 when the digest was there already. */
int mb_reference_add(struct mb_reference *ref, uint32_t pcr, uint32_t type, const uint8_t *digest);

/* Takes the log's events of the PCRs in `pcrs` (a mask of PCRs 0-9), its Secure Boot state
 * and the reset value of the PCRs it leaves alone. With `explain`, each event taken is
 * described on stderr (boot_events.h). -EBADMSG for a log that does not parse or lacks the
 * bank, or an event whose type the policy format has no name for. */
int mb_reference_from_log(struct mb_reference *ref, const uint8_t *log, size_t size, uint32_t pcrs, bool explain);

/* The files' digests: 1 when the file's digest is new to its rule, 0 when a log had it already.
 * Details name the file. */
int mb_reference_add_kernel(struct mb_reference *ref, const char *path);
int mb_reference_add_initrd(struct mb_reference *ref, const char *path);
/* -EILSEQ when `cmdline` is not UTF-8. */
int mb_reference_add_cmdline(struct mb_reference *ref, const char *cmdline);

/* The policy, one line of JSON and a newline, rules in PCR order (each PCR's in the order they
 * were made). */
int mb_reference_write(FILE *out, const struct mb_reference *ref);

/* Checks `policy_text` against the reference log: the log replayed as a TPM would have quoted
 * it (PCRs 0-9, the ones it leaves alone at their reset value) must pass mb_policy_check(). */
int mb_reference_check(const char *policy_text, size_t size, const uint8_t *log, size_t log_size, TPM2_ALG_ID bank);
