/* The PCR 9 the next boot will have once the first boot rebuilt the initrd (docs/protocol.md
 * §5.6). Under UEFI the kernel's EFI stub extends PCR 9 with EV_EVENT_TAG events: the command
 * line ("LOADED_IMAGE::LoadOptions") and the initrd it loaded ("Linux initrd", tagged event id
 * 0x8F3B22EC), the file's digest. The next boot runs the same firmware, boot path and command
 * line with the new initrd: so this boot's own PCR 9 events are replayed, in order, with the
 * initrd event's digest replaced by the new file's and every other event kept as the firmware
 * logged it (the command line's digest among them: its text is not guessed from /proc/cmdline).
 *
 * The log is this boot's, read by the agent of the first boot: it is believed only once it
 * replays to this TPM's PCR 9 (the caller compares `current`). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define PCR9_INITRD_EVENT_TAG 0x8F3B22ECu /* Linux's INITRD_EVENT_TAG_ID */

struct pcr9_prediction {
        TPM2_ALG_ID bank;
        uint8_t current[TPM2_SHA512_DIGEST_SIZE];   /* PCR 9 replayed from the log as it is */
        uint8_t predicted[TPM2_SHA512_DIGEST_SIZE]; /* with the initrd event's digest replaced */
        size_t size;                                /* of both, the bank's digest size */
        unsigned events;                            /* PCR 9 events replayed */
        uint32_t initrd_event;                      /* its number in the log */
};

/* Replays PCR 9 of the UEFI event log `log` in `bank`, the one initrd event's digest replaced by
 * `initrd_digest` (the bank's size) for `predicted`. -EBADMSG for a log that does not parse, does
 * not carry the bank, or has no initrd event in PCR 9 or more than one (details name the event);
 * -EINVAL for a bank vmattest cannot hash. */
int pcr9_predict(const uint8_t *log, size_t size, TPM2_ALG_ID bank, const uint8_t *initrd_digest,
                 struct pcr9_prediction *out);
