/* What an event of a UEFI event log means, in one line for the tenant who makes a measured-boot
 * policy from a reference boot: which application the firmware started (its file path from the
 * image load event's device path), which Secure Boot variable it measured, what the kernel's EFI
 * stub tagged (the initrd, the command line), GRUB's text. The event data is the log's claim
 * (nothing the TPM signs covers it): good for naming things, never for deciding. Parsed through
 * the bounded reader; data that does not parse is described as such. */
#pragma once

#include <stddef.h>

#include "lib/eventlog.h"

/* The Linux EFI stub's tagged events in PCR 9 (drivers/firmware/efi/libstub/efi-stub-helper.c):
 * the digest is of the initrd, or of the load options (the command line, UTF-16) */
#define LINUX_EVENT_TAG_INITRD 0x8F3B22ECu
#define LINUX_EVENT_TAG_LOAD_OPTIONS 0x8F3B22EDu

/* Writes the description (NUL-terminated, cut to `size`); no failure: what cannot be read is
 * said so. */
void boot_event_describe(const struct eventlog_event *ev, char *out, size_t size);
